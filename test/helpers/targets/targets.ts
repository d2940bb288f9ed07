/** Local targets for tests: real TCP servers on 127.0.0.1 ephemeral ports. */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Target {
  port: number;
  server: Server;
  /** Sockets accepted so far and still open. */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** A server running `onSocket` for each connection (half-open allowed, as a real server may). */
export async function startTarget(onSocket: (socket: Socket) => void, host = '127.0.0.1'): Promise<Target> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Echoes everything and ends when the client ends. */
export function startEchoTarget(host?: string): Promise<Target> {
  return startTarget((socket) => socket.pipe(socket), host);
}

/** Answers one HTTP request with `body` and closes. */
export function startHttpTarget(body: string): Promise<Target> {
  return startTarget((socket) => {
    socket.once('data', () => {
      socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
}

/** A port on which nothing listens (bound, then closed). */
export async function closedPort(): Promise<number> {
  const target = await startTarget(() => {});
  await target.close();
  return target.port;
}
