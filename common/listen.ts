/** server.listen as a promise that rejects on EADDRINUSE and the like. */
import type { Server } from 'node:net';
import type { Address } from '../protocol/frame.js';

export function listen(server: Server, address: Address, backlog?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: address.port, host: address.host, ...(backlog === undefined ? {} : { backlog }) }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}
