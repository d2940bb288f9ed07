/**
 * What a relay run as one worker of several (--workers N) needs from the others, through
 * the primary: the whole relay's status for its status routes, and tunnel slots per token so
 * --max-tunnels-per-token (and a user's maxTunnels) hold across workers.
 */
import type { Duplex } from 'node:stream';
import { HttpStatus } from '../http-status.js';
import { refuseOnSocket } from '../socket-response.js';
import type { StatusModel } from '../status/status-model.js';
import type { StatusView } from '../status/status-view.js';

/** How the primary answered a request for a tunnel slot. */
export const SlotAnswer = {
  /** The slot is this tunnel's until releaseTunnel. */
  Held: 'held',
  /** The token holds all its slots across the relay. */
  Full: 'full',
  /** The primary did not answer in time (or is gone): the limit was not decided, so the upgrade cannot go on. */
  Unanswered: 'unanswered',
} as const;
export type SlotAnswer = (typeof SlotAnswer)[keyof typeof SlotAnswer];

export interface RelayCluster {
  /** The view the status routes serve: every worker's tunnels, streams and counters. */
  statusView(local: StatusModel): StatusView;
  /**
   * Asks for one of the token's `limit` slots across the relay. An Unanswered request has
   * been logged and counted by the cluster already; if the primary grants it later, the slot
   * is given back at once.
   */
  reserveTunnel(tokenName: string, limit: number): Promise<SlotAnswer>;
  releaseTunnel(tokenName: string): void;
}

/**
 * An admitted upgrade asks the primary for a slot before it becomes a tunnel; the slot is
 * given back when its socket closes (the tunnel's end, or a client that left meanwhile).
 * Resolves true when the upgrade may go on; false when it was refused or the socket is gone:
 * `refuse` answers a token over its limit (429); a primary that did not answer gets 503 here,
 * since nothing is known about the limit and the client may simply try again.
 */
export async function holdTunnelSlot(cluster: RelayCluster, socket: Duplex, tokenName: string, limit: number, refuse: () => void): Promise<boolean> {
  const answer = await cluster.reserveTunnel(tokenName, limit);
  if (answer === SlotAnswer.Full) {
    refuse();
    return false;
  }
  if (answer === SlotAnswer.Unanswered) {
    // RFC 9110 §15.6.4: a temporary condition on the server's side, not the client's doing.
    refuseOnSocket(socket, HttpStatus.ServiceUnavailable, 'Service Unavailable');
    return false;
  }
  if (socket.destroyed) {
    cluster.releaseTunnel(tokenName);
    return false;
  }
  socket.once('close', () => cluster.releaseTunnel(tokenName));
  return true;
}
