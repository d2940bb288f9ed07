/** How the bench's forwarders join an accepted connection to the next hop: pipe() both ways. */
import { connect, type Socket } from 'node:net';
import { TARGET_HOST } from './route.js';

/** The concurrency scenarios connect by the thousand at once. */
export const FORWARDER_BACKLOG = 16_384;

/** Connects to 127.0.0.1:upstreamPort and pipes both ways, half-closes included. */
export function joinUpstream(downstream: Socket, upstreamPort: number): void {
  const upstream = connect({ host: TARGET_HOST, port: upstreamPort, allowHalfOpen: true, noDelay: true });
  downstream.pipe(upstream);
  upstream.pipe(downstream);
  // An orderly end crosses through pipe(); a reset or error takes the other side down too.
  for (const [socket, other] of [[downstream, upstream], [upstream, downstream]] as const) {
    socket.on('error', () => other.destroy());
    socket.on('close', (hadError) => {
      if (hadError) other.destroy();
    });
  }
}
