/**
 * A stream's outbound bytes waiting for credit or for their turn on the wire, in order.
 * Bytes borrowed from a shared read buffer (SharedBufferReads) are copied in here, into a
 * frame-pool buffer when they are worth one, and that buffer goes back to the pool once
 * its last byte has been framed.
 */
import { POOLED_MIN_BYTES, returnFrameBuffer, takeFrameBuffer } from './frame-pool.js';

export class SendQueue {
  /** Bytes queued in all chunks. */
  bytes = 0;
  private chunks: Buffer[] = [];
  /**
   * Pool buffers holding borrowed copies still queued, by their memory. Null while there are
   * none, so a stream that never borrows pays nothing.
   */
  private pooled: Map<ArrayBufferLike, Buffer> | null = null;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /**
   * The last chunk pushed was borrowed (the caller overwrites its memory once it returns): if
   * it is still queued, in whole or in part, it is replaced by a copy.
   */
  copyBorrowedTail(borrowed: ArrayBufferLike): void {
    const last = this.chunks.length - 1;
    if (last < 0 || this.chunks[last].buffer !== borrowed) return;
    const kept = this.chunks[last];
    if (kept.length < POOLED_MIN_BYTES) {
      this.chunks[last] = Buffer.from(kept);
      return;
    }
    const pooled = takeFrameBuffer();
    kept.copy(pooled);
    this.chunks[last] = pooled.subarray(0, kept.length);
    (this.pooled ??= new Map()).set(pooled.buffer, pooled);
  }

  /** Removes and returns up to `limit` bytes from the front (one chunk or part of one). */
  take(limit: number): Buffer {
    const head = this.chunks[0];
    if (head.length <= limit) {
      this.chunks.shift();
      this.bytes -= head.length;
      return head;
    }
    this.chunks[0] = head.subarray(limit);
    this.bytes -= limit;
    return head.subarray(0, limit);
  }

  /** `sent` (from take) has been copied into a frame: its pool buffer goes back once nothing queued shares it. */
  framed(sent: Buffer): void {
    if (this.pooled === null) return;
    const pooled = this.pooled.get(sent.buffer);
    if (!pooled || this.chunks[0]?.buffer === sent.buffer) return;
    this.pooled.delete(sent.buffer);
    if (this.pooled.size === 0) this.pooled = null;
    returnFrameBuffer(pooled);
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
    for (const pooled of this.pooled?.values() ?? []) returnFrameBuffer(pooled);
    this.pooled = null;
  }
}
