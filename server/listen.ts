/** server.listen as a promise that rejects on EADDRINUSE and the like. */
import type { Server } from 'node:http';
import type { Address } from '../protocol/frame.js';

export function listen(server: Server, address: Address): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}
