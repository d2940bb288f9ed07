/**
 * A plain TCP forwarder, run as its own process: `node dist/bench/forwarder.js PORT...`.
 * For each upstream PORT on 127.0.0.1 it listens on an ephemeral loopback port and pipes
 * every connection there and back, half-closes included. Prints one line
 * `forwarder {"<upstream port>":<listening port>,...}` on stdout once listening.
 *
 * Two of these in series are the bench's reference route (see forwarder-chain.ts).
 */
import { createServer, type AddressInfo } from 'node:net';
import { FORWARDER_BACKLOG, joinUpstream } from './tcp-join.js';
import { TARGET_HOST } from './route.js';

function listenFor(upstreamPort: number): Promise<number> {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => joinUpstream(socket, upstreamPort));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: TARGET_HOST, backlog: FORWARDER_BACKLOG }, () => resolve((server.address() as AddressInfo).port));
  });
}

async function main(): Promise<void> {
  const upstreams = process.argv.slice(2).map(Number);
  if (upstreams.length === 0 || upstreams.some((port) => !Number.isInteger(port) || port <= 0 || port > 0xffff)) {
    throw new Error(`expected upstream ports, got: ${process.argv.slice(2).join(' ') || '(none)'}`);
  }
  const entries: Record<number, number> = {};
  for (const port of upstreams) entries[port] = await listenFor(port);
  process.stdout.write(`forwarder ${JSON.stringify(entries)}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((err: Error) => {
  process.stderr.write(`forwarder: ${err.message}\n`);
  process.exit(1);
});
