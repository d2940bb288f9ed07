/**
 * A TLS-terminating front for a plain ws:// relay, as a CDN edge would be: it records each
 * connection's SNI (the server name on the TLS socket) and its upgrade request's headers,
 * then passes the bytes on to the relay unchanged, both ways. Without a certificate it is a
 * plain TCP front, to stand between a reverse proxy and the relay and show what reached it.
 */
import { connect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type TLSSocket } from 'node:tls';

export interface SeenConnection {
  /** The SNI the client sent, or null when it sent none. */
  servername: string | null;
  /** The upgrade request's line, once it came. */
  requestLine: string | null;
  /** Its headers, names lowercased; repeated names keep their values in order. */
  headers: Record<string, string[]>;
}

export interface UpgradeSpy {
  port: number;
  /** One entry per TLS connection, in order of the handshakes. */
  seen: SeenConnection[];
  /** Every SNI offered in a ClientHello, even by clients that then refuse the certificate. */
  offeredNames: string[];
  close(): Promise<void>;
}

const HEADER_END = '\r\n\r\n';
const MAX_HEAD_BYTES = 64 * 1024;

function parseHead(head: string): { requestLine: string; headers: Record<string, string[]> } {
  const [requestLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  return { requestLine, headers };
}

export interface UpgradeSpyOptions {
  /** With both, the spy serves TLS; without, plain TCP. */
  cert?: Buffer;
  key?: Buffer;
  upstreamPort: number;
}

/** Listens on 127.0.0.1; passes every connection on to 127.0.0.1:`upstreamPort`. */
export async function startUpgradeSpy(options: UpgradeSpyOptions): Promise<UpgradeSpy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const seen: SeenConnection[] = [];
  const offeredNames: string[] = [];
  const onConnection = (client: Socket | TLSSocket): void => {
    track(client);
    const servername = 'servername' in client && typeof client.servername === 'string' ? client.servername : null;
    const entry: SeenConnection = { servername, requestLine: null, headers: {} };
    seen.push(entry);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(HEADER_END);
      if (end < 0) {
        if (buffered.length > MAX_HEAD_BYTES) client.destroy();
        return;
      }
      client.removeListener('data', onData);
      client.pause();
      Object.assign(entry, parseHead(buffered.subarray(0, end).toString('latin1')));
      const upstream = connect(options.upstreamPort, '127.0.0.1', () => {
        upstream.write(buffered);
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      track(upstream);
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  };
  let server: Server;
  if (options.cert !== undefined && options.key !== undefined) {
    const context = createSecureContext({ cert: options.cert, key: options.key });
    const SNICallback = (name: string, done: (err: Error | null, ctx: typeof context) => void): void => {
      offeredNames.push(name);
      done(null, context);
    };
    server = createTlsServer({ cert: options.cert, key: options.key, SNICallback }, onConnection);
    server.on('tlsClientError', () => {}); // a client that refuses the certificate is a case under test
  } else {
    server = createTcpServer(onConnection);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    offeredNames,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
