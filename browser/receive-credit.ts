/**
 * One stream's receive window in the page: credit goes back to the relay only for bytes the page
 * has read, topped up to the window each time a quarter of it was read; and the window doubles
 * when the page read half of it within about two round trips, so a page that keeps up gets the
 * path's bandwidth-delay product while one that stops reading never earns more (the rule
 * protocol/receive-window.ts follows on the Node side, without its budget: a page holds few streams).
 */
import { INITIAL_STREAM_WINDOW, MAX_STREAM_WINDOW } from '../protocol/frame.js';

/** Credit goes back once this fraction of the window has been read. */
const UPDATE_FRACTION = 0.25;
/** A window grows when half of it was read within this many round trips (quic-go's rule: 4 per whole window). */
const GROWTH_RTTS_PER_HALF_WINDOW = 2;
/**
 * The largest window a page grows a stream to: what a page may hold unread per stream, and at
 * most what a version-1 relay accepts. 16 MiB covers 1 Gbit/s at 130 ms.
 */
export const MAX_PAGE_WINDOW = MAX_STREAM_WINDOW;

export class ReceiveCredit {
  /** The window: credit is topped up to this much beyond what the page read. */
  size = INITIAL_STREAM_WINDOW;
  /** Stream offset up to which the relay may send. */
  private granted = INITIAL_STREAM_WINDOW;
  private received = 0;
  private consumed = 0;
  private epochStartAt = performance.now();
  private epochStartConsumed = 0;

  /** `rttMs`: the path's round trip, null before one was measured (no growth before). */
  constructor(private readonly rttMs: () => number | null) {}

  /** What the relay may still send. */
  get credit(): number {
    return this.granted - this.received;
  }

  /** DATA arrived; false when it overran the credit (a protocol error). */
  accept(bytes: number): boolean {
    if (bytes > this.credit) return false;
    this.received += bytes;
    return true;
  }

  /** The page read `bytes`; returns the WINDOW_UPDATE increment to send now, or 0. */
  consume(bytes: number): number {
    this.consumed += bytes;
    this.maybeGrow();
    const increment = this.consumed + this.size - this.granted;
    if (increment < this.size * UPDATE_FRACTION) return 0;
    this.granted += increment;
    return increment;
  }

  private maybeGrow(): void {
    if (this.consumed - this.epochStartConsumed < this.size / 2) return;
    const now = performance.now();
    const rtt = this.rttMs();
    if (rtt !== null && now - this.epochStartAt < GROWTH_RTTS_PER_HALF_WINDOW * rtt) this.size = Math.min(2 * this.size, MAX_PAGE_WINDOW);
    this.epochStartAt = now;
    this.epochStartConsumed = this.consumed;
  }
}
