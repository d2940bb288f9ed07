/**
 * Reusable buffers for DATA frames. A bulk transfer otherwise allocates a fresh 64 KiB
 * buffer per frame, and the garbage collector spends a large share of the relay's CPU
 * reclaiming them. A buffer goes back to the pool once the WebSocket has written it.
 */
import { FRAME_HEADER_SIZE, MAX_DATA_PAYLOAD } from './frame.js';

const FRAME_BUFFER_SIZE = FRAME_HEADER_SIZE + MAX_DATA_PAYLOAD;
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
