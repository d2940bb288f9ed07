/**
 * A small HTTP CONNECT proxy (RFC 9110 §9.3.6) for tests: parses the CONNECT line, checks
 * Basic Proxy-Authorization when configured, dials the target, answers 200 and pipes.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface ConnectProxyOptions {
  /** Require these Basic credentials, else answer 407. */
  credentials?: { username: string; password: string };
  /** Answer every CONNECT with this status line tail (e.g. "407 Proxy Authentication Required"). */
  forceAnswer?: string;
}

export interface ConnectProxy {
  port: number;
  /** CONNECT authorities asked for, in order. */
  requests: string[];
  /** Tunnels the proxy answered 2xx for. */
  established: number;
  close(): Promise<void>;
}

const HEADER_END = '\r\n\r\n';

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const proxy: ConnectProxy = { port: 0, requests: [], established: 0, close: async () => {} };
  const server = createServer((client) => {
    track(client);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(HEADER_END);
      if (end < 0) return;
      client.removeListener('data', onData);
      client.pause();
      const [requestLine, ...headers] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      handle(client, requestLine, headers, buffered.subarray(end + HEADER_END.length));
    };
    client.on('data', onData);
  });

  const refuse = (client: Socket, status: string): void => {
    client.end(`HTTP/1.1 ${status}\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  };

  const handle = (client: Socket, requestLine: string, headers: string[], rest: Buffer): void => {
    const match = /^CONNECT (\S+):(\d+) HTTP\/1\.1$/.exec(requestLine);
    if (!match) return refuse(client, '400 Bad Request');
    proxy.requests.push(`${match[1]}:${match[2]}`);
    if (options.forceAnswer) return refuse(client, options.forceAnswer);
    if (options.credentials) {
      const expected = `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
      const given = headers.find((line) => line.toLowerCase().startsWith('proxy-authorization:'))?.slice('proxy-authorization:'.length).trim();
      if (given !== expected) return refuse(client, '407 Proxy Authentication Required');
    }
    const host = match[1].replace(/^\[(.*)\]$/, '$1');
    const upstream = connect({ host, port: Number(match[2]) });
    track(upstream);
    upstream.once('error', () => refuse(client, '502 Bad Gateway'));
    upstream.once('connect', () => {
      proxy.established += 1;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (rest.length > 0) upstream.write(rest);
      client.pipe(upstream).pipe(client);
      client.resume();
    });
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
