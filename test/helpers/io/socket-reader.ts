/**
 * Keeps everything an already-connected socket receives, so reads and end-of-stream can be
 * awaited in any order without losing bytes. RawPeer builds on it for sockets it dials.
 */
import type { Socket } from 'node:net';
import { Waiters } from './waiting.js';

export const READER_WAIT_MS = 5_000;

export class SocketReader {
  private received = Buffer.alloc(0);
  private cursor = 0;
  private ended = false;
  private closed = false;
  private readonly waiters = new Waiters();

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.waiters.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.waiters.wake();
    });
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => {
      this.closed = true;
      this.waiters.wake();
    });
    // Events that fired before this reader existed: an EOF on an empty socket emits 'end' unasked.
    if (socket.readableEnded) this.ended = true;
    if (socket.destroyed) this.closed = true;
  }

  /** The next `length` bytes; rejects when the peer ends first or after `timeoutMs`. */
  async read(length: number, timeoutMs = READER_WAIT_MS): Promise<Buffer> {
    await this.until(() => this.unread >= length || this.ended || this.closed, `${length} bytes`, timeoutMs);
    if (this.unread < length) throw new Error(`ended after ${this.unread} of ${length} bytes: ${this.peek().toString('hex')}`);
    const out = Buffer.from(this.received.subarray(this.cursor, this.cursor + length));
    this.cursor += length;
    return out;
  }

  /** Resolves once the peer's FIN arrived (or the socket closed). */
  waitEnd(timeoutMs = READER_WAIT_MS): Promise<void> {
    return this.until(() => this.ended || this.closed, 'end of stream', timeoutMs);
  }

  /** Resolves once the socket is fully closed. */
  waitClosed(timeoutMs = READER_WAIT_MS): Promise<void> {
    return this.until(() => this.closed, 'the socket to close', timeoutMs);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes received and not read yet, as a copy. */
  peek(): Buffer {
    return Buffer.from(this.received.subarray(this.cursor));
  }

  /** Every byte received so far, read or not. */
  get totalReceived(): number {
    return this.received.length;
  }

  /** Bytes received and not read yet. */
  get unread(): number {
    return this.received.length - this.cursor;
  }

  private until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return this.waiters.until(condition, { what: () => `${what} (have ${this.peek().toString('hex') || 'nothing'})`, timeoutMs });
  }
}
