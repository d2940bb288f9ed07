/**
 * A SOCKS5 front for the reference chain, run as its own process:
 * `node dist/bench/socks-forwarder.js TARGET_PORT=UPSTREAM_PORT...`. It listens on one
 * ephemeral loopback port, answers the greeting, answers a CONNECT at once (success, as the
 * sockbridge client's fast open does for a destination it remembers), and pipes the
 * connection to the upstream port mapped from the CONNECT's port. Prints
 * `socks forwarder {"port":P}` once listening.
 *
 * In front of one plain forwarder (forwarder-chain.ts) it is the least any two-process SOCKS
 * relay costs the load generator, which waits for each handshake step: figure 2's floor.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { TARGET_HOST } from './route.js';
import { REP_FAILURE, REP_SUCCEEDED, socksDestination, socksReply } from './socks5-server.js';
import { FORWARDER_BACKLOG, joinUpstream } from './tcp-join.js';

async function serve(socket: Socket, upstreams: Map<number, number>): Promise<void> {
  const destination = await socksDestination(socket);
  const upstream = destination && upstreams.get(destination.port);
  if (!upstream) return void socket.end(socksReply(REP_FAILURE));
  socket.write(socksReply(REP_SUCCEEDED));
  joinUpstream(socket, upstream);
}

function parseMappings(args: string[]): Map<number, number> {
  const mappings = new Map<number, number>();
  for (const arg of args) {
    const [target, upstream] = arg.split('=').map(Number);
    if (!(target > 0 && target <= 0xffff && upstream > 0 && upstream <= 0xffff)) throw new Error(`expected TARGET_PORT=UPSTREAM_PORT, got "${arg}"`);
    mappings.set(target, upstream);
  }
  if (mappings.size === 0) throw new Error('expected TARGET_PORT=UPSTREAM_PORT arguments');
  return mappings;
}

async function main(): Promise<void> {
  const upstreams = parseMappings(process.argv.slice(2));
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    serve(socket, upstreams).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: TARGET_HOST, backlog: FORWARDER_BACKLOG }, resolve);
  });
  process.stdout.write(`socks forwarder ${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((err: Error) => {
  process.stderr.write(`socks forwarder: ${err.message}\n`);
  process.exit(1);
});
