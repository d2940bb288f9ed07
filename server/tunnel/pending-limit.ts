/**
 * --max-pending-bytes: what one tunnel may hold received from the client but not yet taken
 * by target sockets. A DATA frame that would go over it first costs the stream holding the
 * most, so one stalled target cannot make the relay buffer without bound while its tunnel's
 * other streams carry on.
 */
import type { Session } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';

/** Calls `onOver` with the stream to shed whenever a DATA frame of `incoming` bytes would exceed `limit`. */
export function limitPendingBytes(session: Session, limit: number, onOver: (largest: Stream, incoming: number) => void): void {
  session.beforeData = (receiver, incoming) => {
    if (session.pendingBytes + incoming > limit) onOver(largestPending(session.streams, receiver, incoming), incoming);
  };
}

/** The stream holding the most pending bytes, counting `incoming` for `receiver`. Scans, but only when over the limit. */
function largestPending(streams: ReadonlyMap<number, Stream>, receiver: Stream, incoming: number): Stream {
  let largest = receiver;
  let most = receiver.pendingBytes + incoming;
  for (const stream of streams.values()) {
    if (stream.pendingBytes > most) {
      largest = stream;
      most = stream.pendingBytes;
    }
  }
  return largest;
}
