/**
 * What a relay run as one worker of several (--workers N) needs from the others, through
 * the primary: the whole relay's status for its status routes, and tunnel slots per token so
 * --max-tunnels-per-token (and a user's maxTunnels) hold across workers.
 */
import type { Duplex } from 'node:stream';
import type { StatusModel } from '../status/status-model.js';
import type { StatusView } from '../status/status-view.js';

export interface RelayCluster {
  /** The view the status routes serve: every worker's tunnels, streams and counters. */
  statusView(local: StatusModel): StatusView;
  /** Takes one of the token's `limit` slots across the relay; false when all are held (or the primary is gone). */
  reserveTunnel(tokenName: string, limit: number): Promise<boolean>;
  releaseTunnel(tokenName: string): void;
}

/**
 * An admitted upgrade asks the primary for a slot before it becomes a tunnel; the slot is
 * given back when its socket closes (the tunnel's end, or a client that left meanwhile).
 * Resolves true when the upgrade may go on; false when `refuse` has answered it or the socket is gone.
 */
export async function holdTunnelSlot(cluster: RelayCluster, socket: Duplex, tokenName: string, limit: number, refuse: () => void): Promise<boolean> {
  const held = await cluster.reserveTunnel(tokenName, limit);
  if (!held) {
    refuse();
    return false;
  }
  if (socket.destroyed) {
    cluster.releaseTunnel(tokenName);
    return false;
  }
  socket.once('close', () => cluster.releaseTunnel(tokenName));
  return true;
}
