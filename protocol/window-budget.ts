/**
 * The memory one session lets its streams' receive windows grow into, beyond the initial
 * window every stream gets. Growth goes first come, first served while there is room; once
 * the budget is spent, a stream below its fair share (the budget split evenly among the
 * streams holding growth) makes the others shrink toward that share, so busy streams end
 * up with equal windows instead of the first one keeping everything.
 */

/** What the budget needs to know of a stream's receive window. */
export interface GrowableWindow {
  /** The budget this window holds now: its growth beyond the initial window, or its buffered bytes beyond it. */
  readonly growth: number;
  /** The last time the local side consumed bytes. */
  readonly lastConsumedAt: number;
  /** Lowers the window's target size to the initial one plus `growth` (credit already granted stays). */
  shrinkGrowthTo(growth: number): void;
}

/** A window that has consumed nothing for this long gives its growth back. */
export const GROWTH_IDLE_GIVE_BACK_MS = 3_000;

export class WindowBudget {
  /** Budget held by all windows together; may exceed the limit briefly while a shrunk window drains. */
  used = 0;
  /** The largest window target any stream of this session reached, for the bench and the status page. */
  largestWindow = 0;
  private readonly holders = new Set<GrowableWindow>();

  constructor(readonly limit: number) {}

  /** How much of `wanted` more growth `window` may take now (0 to `wanted`). */
  request(window: GrowableWindow, wanted: number): number {
    const free = this.limit - this.used;
    if (wanted <= free) return wanted;
    const fairShare = Math.floor(this.limit / (this.holders.size + (this.holders.has(window) ? 0 : 1)));
    if (window.growth < fairShare) this.shrinkOthersTo(window, fairShare);
    const room = Math.min(this.limit - this.used, fairShare - window.growth);
    return Math.max(0, Math.min(wanted, room));
  }

  /** A window's growth changed by `delta` (it reports every change, so `used` stays exact). */
  changed(window: GrowableWindow, delta: number): void {
    if (delta === 0) return;
    this.used += delta;
    if (window.growth > 0) this.holders.add(window);
    else this.holders.delete(window);
  }

  /** The stream is gone: whatever it held is free again. */
  release(window: GrowableWindow): void {
    if (!this.holders.delete(window)) return;
    this.used -= window.growth;
  }

  /** Windows that consumed nothing for GROWTH_IDLE_GIVE_BACK_MS shrink to the initial size. */
  sweep(now: number): void {
    for (const window of this.holders) {
      if (now - window.lastConsumedAt >= GROWTH_IDLE_GIVE_BACK_MS) window.shrinkGrowthTo(0);
    }
  }

  noteWindow(size: number): void {
    if (size > this.largestWindow) this.largestWindow = size;
  }

  private shrinkOthersTo(requester: GrowableWindow, fairShare: number): void {
    for (const window of this.holders) {
      if (window !== requester && window.growth > fairShare) window.shrinkGrowthTo(fairShare);
    }
  }
}
