/**
 * Reusable buffers for DATA frames. A bulk transfer otherwise allocates a fresh 64 KiB
 * buffer per frame, and the garbage collector spends a large share of the relay's CPU
 * reclaiming them. A buffer goes back to the pool once the WebSocket has written it.
 */
import { FRAME_HEADER_SIZE, MAX_DATA_PAYLOAD } from './frame.js';

const FRAME_BUFFER_SIZE = FRAME_HEADER_SIZE + MAX_DATA_PAYLOAD;
/**
 * Payloads at least this long are worth a pooled buffer; shorter ones get one of their own
 * size. Otherwise a burst of small frames (10,000 streams each echoing a byte) pins 64 KiB
 * per frame in flight, and the GC answers that external memory with back-to-back full
 * collections.
 */
export const POOLED_MIN_BYTES = 16 * 1024;
/** Spare buffers kept at most (4 MiB); beyond that, returned buffers are left to the GC. */
const MAX_SPARE_BUFFERS = 64;

const spare: Buffer[] = [];

/** A buffer large enough for any DATA frame; its contents are garbage. */
export function takeFrameBuffer(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(FRAME_BUFFER_SIZE);
}

/** Gives back a buffer from takeFrameBuffer once nothing refers to it any more. */
export function returnFrameBuffer(buf: Buffer): void {
  if (spare.length < MAX_SPARE_BUFFERS) spare.push(buf);
}
