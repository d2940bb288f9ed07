/**
 * One stream's receive window, tuned to the path: it starts at the initial window and
 * doubles when the local side consumed the last half window within about two round trips
 * of the path, so a fast reader across a long link gets the bandwidth-delay product while a
 * slow or stalled one never earns more than it can take (the rule quic-go's flow controller
 * uses). The round trip is the path's (the smallest of the recent samples), not one inflated by the
 * queues in front of it, so on a short path windows stay small.
 * Credit goes back once a quarter of the window is consumed, so the sender is never idle
 * waiting for an update. Growth beyond the initial window comes out of the session's
 * WindowBudget; to give memory back the window shrinks by withholding credit, never below
 * what was already granted.
 */
import type { GrowableWindow, WindowBudget } from './window-budget.js';

/** What every stream of a session shares: the sizes, the budget, the clock, the round-trip time. */
export interface WindowSettings {
  /** Credit each stream starts with (both ends assume it, so it is fixed by the protocol). */
  readonly initial: number;
  /** The largest window one stream may reach: this side's cap, and what the peer accepts. */
  maxWindow(): number;
  readonly budget: WindowBudget;
  /** The path's round-trip time in ms (the smallest of the recent samples); null until measured (no growth before). */
  rttMs(): number | null;
  /** Milliseconds, monotonic; injected for tests. */
  now(): number;
  /**
   * Bytes a stream must have consumed before its window may grow (LOCAL_BUFFER_ALLOWANCE unless
   * a test says otherwise).
   */
  readonly growthAfterBytes?: number;
}

/**
 * The kernel's buffers of a local socket take this much at once whether or not the application
 * reads (Linux: tcp_wmem's largest send buffer, 4 MiB by default, plus the reader's initial
 * receive buffer), so consumption proves a fast reader only beyond it: a never-reading
 * application would otherwise earn a window of twice that from its kernel alone.
 */
export const LOCAL_BUFFER_ALLOWANCE = 4 * 1024 * 1024 + 512 * 1024;

/** Credit is returned once this fraction of the window has been consumed. */
const UPDATE_FRACTION = 0.25;
/** A window grows when this many round trips, per window's worth consumed, have not yet passed (quic-go: 4, i.e. half a window in two). */
const GROWTH_RTTS_PER_WINDOW = 4;

export class ReceiveWindow implements GrowableWindow {
  /** The window's target size: credit is topped up to this much beyond what was consumed. */
  size: number;
  /** Stream offset up to which the peer may send. */
  private granted: number;
  private received = 0;
  private consumedTotal = 0;
  private epochStartAt: number;
  private epochStartConsumed = 0;
  lastConsumedAt: number;
  /** Budget held now; kept so every change can be reported to the budget as a delta. */
  growth = 0;

  constructor(private readonly settings: WindowSettings) {
    this.size = settings.initial;
    this.granted = settings.initial;
    this.epochStartAt = this.lastConsumedAt = settings.now();
  }

  /** Bytes received and not yet consumed: what this stream holds in memory. */
  get buffered(): number {
    return this.received - this.consumedTotal;
  }

  /** Credit the peer has left. */
  get credit(): number {
    return this.granted - this.received;
  }

  /** DATA of `n` bytes arrived; false when it goes beyond the credit granted. */
  accept(n: number): boolean {
    if (this.received + n > this.granted) return false;
    this.received += n;
    if (this.buffered > this.size) this.account();
    return true;
  }

  /** The local side took `n` bytes. Returns the credit to grant the peer now (0: none yet). */
  consume(n: number): number {
    this.consumedTotal += Math.min(n, this.buffered);
    const now = this.settings.now();
    this.lastConsumedAt = now;
    if (this.growth > 0) this.account(); // bytes beyond the window may have been held
    if (this.granted - this.consumedTotal > this.size * (1 - UPDATE_FRACTION)) return 0;
    this.maybeGrow(now);
    const increment = this.consumedTotal + this.size - this.granted;
    if (increment <= 0) return 0;
    this.granted += increment;
    return increment;
  }

  shrinkGrowthTo(growth: number): void {
    const target = this.settings.initial + growth;
    if (this.size <= target) return;
    this.size = target;
    this.startEpoch(this.settings.now());
    this.account();
  }

  /** The stream is gone. */
  release(): void {
    this.settings.budget.release(this);
    this.growth = 0;
  }

  /** Doubles the window (within the cap and the budget) when the last epoch was consumed fast. */
  private maybeGrow(now: number): void {
    if (this.consumedTotal <= (this.settings.growthAfterBytes ?? LOCAL_BUFFER_ALLOWANCE)) {
      this.startEpoch(now);
      return;
    }
    const consumedInEpoch = this.consumedTotal - this.epochStartConsumed;
    if (consumedInEpoch <= this.size / 2) return;
    const rtt = this.settings.rttMs();
    // A backlog larger than the window (a reader catching up after a shrink) is no faster than one window.
    const fraction = Math.min(1, consumedInEpoch / this.size);
    const fast = rtt !== null && rtt > 0 && now - this.epochStartAt < GROWTH_RTTS_PER_WINDOW * fraction * rtt;
    this.startEpoch(now);
    if (!fast) return;
    const wanted = Math.min(this.size * 2, this.settings.maxWindow()) - this.size;
    if (wanted <= 0) return;
    this.size += this.settings.budget.request(this, wanted);
    this.account();
    this.settings.budget.noteWindow(this.size);
  }

  private startEpoch(now: number): void {
    this.epochStartAt = now;
    this.epochStartConsumed = this.consumedTotal;
  }

  /** Reports the budget this window holds now: its growth, or its buffered bytes beyond the initial window if more. */
  private account(): void {
    const growth = Math.max(0, Math.max(this.size, this.buffered) - this.settings.initial);
    const delta = growth - this.growth;
    this.growth = growth;
    this.settings.budget.changed(this, delta);
  }
}
