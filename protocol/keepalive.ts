/**
 * Liveness of one session: ping the peer every interval, measure the round trip from the
 * answer, and declare the link dead after a stretch of silence. Any frame counts as life,
 * so a busy link needs no answers to stay up; pings still come for the RTT figure.
 */

/** How often the clock is checked; the dead-link bound is the timeout plus at most this. */
const TICK_MS = 1_000;

export interface KeepaliveOptions {
  intervalMs: number;
  timeoutMs: number;
  sendPing(opaque: number): void;
  onRtt(ms: number): void;
  onDead(silentForMs: number): void;
}

export class Keepalive {
  private lastReceivedAt = Date.now();
  private lastPingSentAt = 0;
  private pingSeq = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: KeepaliveOptions) {
    this.timer = setInterval(() => this.tick(), Math.min(TICK_MS, options.intervalMs));
    this.timer.unref();
  }

  /** Something arrived from the peer. */
  received(): void {
    this.lastReceivedAt = Date.now();
  }

  /** The peer answered a ping. */
  answered(opaque: number): void {
    if (opaque === this.pingSeq && this.lastPingSentAt > 0) this.options.onRtt(Date.now() - this.lastPingSentAt);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = Date.now();
    const silentFor = now - this.lastReceivedAt;
    if (silentFor >= this.options.timeoutMs) {
      this.stop();
      this.options.onDead(silentFor);
      return;
    }
    if (now - this.lastPingSentAt >= this.options.intervalMs) {
      this.pingSeq = (this.pingSeq + 1) >>> 0;
      this.lastPingSentAt = now;
      this.options.sendPing(this.pingSeq);
    }
  }
}
