/**
 * One direction of one connection through the link emulator: bytes read from `from` wait
 * their turn at the link's rate (a Pacer shared by every connection in that direction,
 * like one bottleneck), then the one-way delay, and are written to `to` in order, FIN last.
 *
 * Backpressure both ways, as TCP has it: past `maxInflightBytes` queued and not yet
 * delivered the reading socket is paused (the path's window is full), and while `to`'s
 * write returns false nothing more is delivered until 'drain' (the receiver's window).
 * One timer per line, armed for the head's due time; each firing delivers everything due,
 * corked into one writev, so timer count does not grow with the rate.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Serialises one direction of the link: each chunk leaves when the previous one has. */
export class Pacer {
  private lastDepartureMs = 0;
  private readonly bytesPerMs: number;

  /** `bytesPerSecond` 0 or Infinity: no rate limit, only the delay. */
  constructor(bytesPerSecond: number) {
    this.bytesPerMs = bytesPerSecond > 0 ? bytesPerSecond / 1000 : Infinity;
  }

  /** When the last byte of `bytes` offered at `nowMs` has left: max(now, previous departure) + bytes / rate. */
  departure(bytes: number, nowMs: number): number {
    this.lastDepartureMs = Math.max(nowMs, this.lastDepartureMs) + bytes / this.bytesPerMs;
    return this.lastDepartureMs;
  }
}

export interface DelayLineOptions {
  pacer: Pacer;
  delayMs: number;
  maxInflightBytes: number;
}

/** A queued chunk, or the FIN (null) that follows the data before it. */
interface Pending {
  dueMs: number;
  chunk: Buffer | null;
}

/** Past this many delivered entries at the head, the queue array is compacted. */
const COMPACT_AFTER = 1024;

export class DelayLine {
  /** Bytes read from `from` and not yet written to `to`. */
  inflightBytes = 0;
  /** The most `inflightBytes` ever was: tests check it stays within the bound plus one read. */
  peakInflightBytes = 0;
  /** Bytes written to `to` so far. */
  deliveredBytes = 0;
  /**
   * How late the emulator itself delivered, against the due time (or the receiver's last
   * drain, if later), summed per byte and at worst: starved of CPU it falls behind, then
   * catches up faster than the rate.
   */
  lateByteMs = 0;
  maxLateMs = 0;
  /** Time spent waiting for `to` to drain: the receiver, not the link, was the limit. */
  heldMs = 0;
  private heldSinceMs = 0;
  private resumedAtMs = 0;
  private queue: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  /** `to`'s write returned false: deliver nothing until it drains. */
  private held = false;
  private readingPaused = false;
  private stopped = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly options: DelayLineOptions,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
    from.on('end', () => this.push(null));
    to.on('drain', () => {
      if (!this.held) return;
      this.held = false;
      this.resumedAtMs = performance.now();
      this.heldMs += this.resumedAtMs - this.heldSinceMs;
      this.deliver();
    });
  }

  /** Ends the line for good (the connection was reset): nothing queued is delivered. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.head = 0;
    this.inflightBytes = 0;
  }

  private push(chunk: Buffer | null): void {
    if (this.stopped) return;
    const size = chunk?.length ?? 0;
    const dueMs = this.options.pacer.departure(size, performance.now()) + this.options.delayMs;
    this.queue.push({ dueMs, chunk });
    this.inflightBytes += size;
    if (this.inflightBytes > this.peakInflightBytes) this.peakInflightBytes = this.inflightBytes;
    if (this.inflightBytes > this.options.maxInflightBytes && !this.readingPaused) {
      this.readingPaused = true;
      this.from.pause();
    }
    this.arm();
  }

  /** Arms the timer for the head's due time, unless it is armed, held, or there is nothing queued. */
  private arm(): void {
    if (this.timer || this.held || this.stopped || this.head >= this.queue.length) return;
    // Node truncates a timer's delay to whole milliseconds: round up, never deliver early.
    const waitMs = Math.max(1, Math.ceil(this.queue[this.head].dueMs - performance.now()));
    this.timer = setTimeout(this.onTimer, waitMs);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.deliver();
  };

  /** Writes every chunk that is due, in order, until one is not yet due or `to` pushes back. */
  private deliver(): void {
    if (this.held || this.stopped) return;
    const nowMs = performance.now();
    this.to.cork();
    while (this.head < this.queue.length && this.queue[this.head].dueMs <= nowMs) {
      const { chunk, dueMs } = this.queue[this.head++];
      if (chunk === null) {
        this.to.end();
        break; // FIN is always last
      }
      this.inflightBytes -= chunk.length;
      this.deliveredBytes += chunk.length;
      this.noteLateness(nowMs - Math.max(dueMs, this.resumedAtMs), chunk.length);
      if (!this.to.write(chunk)) {
        this.held = true;
        this.heldSinceMs = nowMs;
        break;
      }
    }
    this.to.uncork();
    this.compact();
    if (this.readingPaused && this.inflightBytes <= this.options.maxInflightBytes) {
      this.readingPaused = false;
      this.from.resume();
    }
    this.arm();
  }

  private noteLateness(lateMs: number, bytes: number): void {
    this.lateByteMs += lateMs * bytes;
    if (lateMs > this.maxLateMs) this.maxLateMs = lateMs;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
