/** The SOCKS listener: one SocksConnection per accepted socket. */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Address } from '../../protocol/frame.js';
import { drain } from '../../common/drain.js';
import { SocksConnection, type ConnectionDeps } from './connection.js';

/** Bursts of connects (a browser opening a page) must not overflow the accept queue; Node's default is 511. */
const LISTEN_BACKLOG = 4096;

export interface SocksServer {
  address: Address;
  /** Stops accepting; connections still open after `graceMs` are cut. */
  close(graceMs?: number): Promise<void>;
}

export async function startSocksServer(listenOn: Address, deps: ConnectionDeps): Promise<SocksServer> {
  const sockets = new Set<Socket>();
  // allowHalfOpen: an application's FIN must travel to the target while replies still flow back.
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new SocksConnection(socket, deps);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: listenOn.port, host: listenOn.host, backlog: LISTEN_BACKLOG }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    async close(graceMs = 0) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await drain(() => sockets.size === 0, graceMs);
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
