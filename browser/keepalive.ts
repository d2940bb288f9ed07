/**
 * The browser session's keepalive and round-trip clock (protocol/README.md, *Keepalive*): a PING
 * every 15 s or so, each gap drawn between 0.75 and 1.25 times the interval; while DATA moves,
 * one every 250 ms, one in flight at a time, because the receive windows grow by the path's round
 * trip (the least of the last 16 samples); and the session is dead once nothing at all arrived
 * for 30 s.
 */
import {
  DEFAULT_KEEPALIVE_INTERVAL_MS as INTERVAL_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS as TIMEOUT_MS,
  KEEPALIVE_JITTER as JITTER,
  PATH_RTT_SAMPLES,
  PROBE_INTERVAL_MS,
} from '../protocol/session-defaults.js';

export interface KeepaliveHooks {
  sendPing(opaque: number): void;
  onTimeout(): void;
}

export class Keepalive {
  /** The least of the recent samples, in ms; null until one came back. */
  pathRttMs: number | null = null;
  private readonly samples: number[] = [];
  private lastReceivedAt = performance.now();
  private lastPingAt = -Infinity;
  private nextGapMs = gap();
  private opaque = 0;
  private awaiting = false;
  private busy = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly hooks: KeepaliveHooks) {
    this.timer = setInterval(() => this.tick(), PROBE_INTERVAL_MS);
    this.ping(performance.now()); // the HELLO exchange is done: measure the path at once
  }

  /** Any frame arrived. */
  received(): void {
    this.lastReceivedAt = performance.now();
  }

  /** DATA moved in either direction since the last tick. */
  sawData(): void {
    this.busy = true;
  }

  /** An ACK arrived; one for an older request is ignored. */
  answered(opaque: number): void {
    if (opaque !== this.opaque || !this.awaiting) return;
    this.awaiting = false;
    this.samples.push(performance.now() - this.lastPingAt);
    if (this.samples.length > PATH_RTT_SAMPLES) this.samples.shift();
    this.pathRttMs = Math.min(...this.samples);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    if (performance.now() - this.lastReceivedAt >= TIMEOUT_MS) {
      this.stop();
      this.hooks.onTimeout();
      return;
    }
    const now = performance.now();
    const since = now - this.lastPingAt;
    if (since >= this.nextGapMs || (this.busy && !this.awaiting && since >= PROBE_INTERVAL_MS)) this.ping(now);
    this.busy = false;
  }

  private ping(now: number): void {
    this.opaque = (this.opaque + 1) >>> 0;
    this.lastPingAt = now;
    this.nextGapMs = gap();
    this.awaiting = true;
    this.hooks.sendPing(this.opaque);
  }
}

function gap(): number {
  return INTERVAL_MS * (1 - JITTER + 2 * JITTER * Math.random());
}
