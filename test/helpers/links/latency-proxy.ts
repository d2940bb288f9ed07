/**
 * A TCP forwarder on 127.0.0.1:0 that delays every chunk, and the end of each direction, by
 * `delayMs` — a long-distance link in miniature (round trip = 2 × delayMs). Order is kept:
 * Node runs timers of equal duration in the order they were set.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface LatencyProxy {
  port: number;
  /** Links currently open. */
  links: number;
  close(): Promise<void>;
}

export async function startLatencyProxy(upstreamPort: number, delayMs: number, upstreamHost = '127.0.0.1'): Promise<LatencyProxy> {
  const links = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, delayMs);
    timers.add(timer);
  };

  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => later(() => to.write(chunk)));
    from.on('end', () => later(() => to.end()));
    from.on('error', () => {});
    from.on('close', () => later(() => to.destroy()));
  };

  const server: Server = createServer({ allowHalfOpen: true }, (a) => {
    const b = connect({ port: upstreamPort, host: upstreamHost, allowHalfOpen: true });
    for (const socket of [a, b]) {
      links.add(socket);
      socket.on('close', () => links.delete(socket));
    }
    forward(a, b);
    forward(b, a);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    get links() {
      return links.size / 2;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of links) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
