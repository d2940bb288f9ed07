/**
 * The browser session's keepalive (protocol/README.md, *Keepalive*): a PING every 15 s or so,
 * each gap drawn between 0.75 and 1.25 times the interval; and the
 * session is dead once nothing at all arrived for 30 s. The Node side's windows grow by the
 * round trip; these windows are fixed, so no busy-time probes are sent.
 */

/** The protocol's default interval and timeout, as the Node side's DEFAULT_KEEPALIVE_* are. */
const INTERVAL_MS = 15_000;
const TIMEOUT_MS = 30_000;
const JITTER = 0.25;
/** How often the clock is looked at; the dead-link bound is the timeout plus at most this. */
const TICK_MS = 1_000;

export interface KeepaliveHooks {
  sendPing(opaque: number): void;
  onTimeout(): void;
}

export class Keepalive {
  private lastReceivedAt = Date.now();
  private nextPingAt = Date.now() + gap();
  private opaque = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly hooks: KeepaliveHooks) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Any frame arrived. */
  received(): void {
    this.lastReceivedAt = Date.now();
  }

  /** An ACK arrived: the link is alive, which received() already noted. */
  answered(_opaque: number): void {}

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.lastReceivedAt >= TIMEOUT_MS) {
      this.stop();
      this.hooks.onTimeout();
      return;
    }
    if (now < this.nextPingAt) return;
    this.opaque = (this.opaque + 1) >>> 0;
    this.nextPingAt = now + gap();
    this.hooks.sendPing(this.opaque);
  }
}

function gap(): number {
  return INTERVAL_MS * (1 - JITTER + 2 * JITTER * Math.random());
}
