/**
 * Liveness and round-trip time of one session. It pings the peer every interval and declares
 * the link dead after a stretch of silence; any frame counts as life, so a busy link needs no
 * answers to stay up. While data flows it also pings every PROBE_INTERVAL_MS (one ping in
 * flight at a time), because the receive windows grow by the round-trip time, and a path's
 * round trip under load is what they must cover. Pings are control frames: they skip the data
 * queue at both ends.
 *
 * The idle pings are jittered around the interval rather than sent on a metronome: a CDN or
 * middlebox that watches for perfectly periodic traffic sees nothing regular, and many tunnels
 * started together drift apart.
 */

import { KEEPALIVE_JITTER, PATH_RTT_SAMPLES, PROBE_INTERVAL_MS } from './session-defaults.js';

/** How often the clock is checked (at most); the dead-link bound is the timeout plus at most this. */
const TICK_MS = 250;
/** Ticks per interval at least, so that short intervals still show their jitter. */
const TICKS_PER_INTERVAL = 8;
/**
 * Probes sent back to back when the session starts. The first round trip of a fresh process is
 * slowed by its cold code (a few ms even on loopback); the ones right after it show the path
 * itself, and the windows must not grow on a round trip the path doesn't have.
 */
const STARTUP_PROBES = 4;

export interface KeepaliveOptions {
  intervalMs: number;
  timeoutMs: number;
  sendPing(opaque: number): void;
  /** True when data moved since the last call: round trips are then probed more often. */
  isBusy(): boolean;
  /** Runs on every tick, for the session's other periodic work. */
  onTick(now: number): void;
  onRtt(ms: number): void;
  onDead(silentForMs: number): void;
  /** A number in [0, 1) for the jitter; Math.random unless a test injects one. */
  random?: () => number;
}

/** The gap before the next idle ping: interval × (0.75 + 0.5 × random), within ±KEEPALIVE_JITTER. */
export function nextPingGapMs(intervalMs: number, random: () => number = Math.random): number {
  return intervalMs * (1 - KEEPALIVE_JITTER + 2 * KEEPALIVE_JITTER * random());
}

/** The longest silence between two idle pings with this interval (the timeout must exceed it). */
export function maxPingGapMs(intervalMs: number): number {
  return intervalMs * (1 + KEEPALIVE_JITTER);
}

export class Keepalive {
  /**
   * The least of the recent samples: the path's own round trip, without the queues in front of
   * it (a PING waits behind what the WebSocket already buffers, up to half a MiB of DATA).
   */
  pathRttMs: number | null = null;
  private readonly recentSamples: number[] = [];
  private lastReceivedAt = performance.now();
  private lastPingSentAt = -Infinity;
  /** When the next idle ping is due after the last one; drawn afresh for every ping. */
  private nextGapMs: number;
  private pingSeq = 0;
  /** The ping in flight is still unanswered. */
  private awaitingAnswer = false;
  private startupProbesLeft = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly options: KeepaliveOptions) {
    this.nextGapMs = this.drawGap();
    this.timer = setInterval(() => this.tick(), Math.min(TICK_MS, options.intervalMs / TICKS_PER_INTERVAL));
    // Node's timers keep a process alive unless unref'd; a browser's have no unref (this class serves both).
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Something arrived from the peer. */
  received(): void {
    this.lastReceivedAt = performance.now();
  }

  /** Measures the round trip now, a few times over (the session has just started, so windows have a figure soon). */
  probe(): void {
    this.startupProbesLeft = STARTUP_PROBES - 1;
    this.sendPing(performance.now());
  }

  /** The peer answered a ping. */
  answered(opaque: number): void {
    if (opaque !== this.pingSeq || !this.awaitingAnswer) return;
    this.awaitingAnswer = false;
    const ms = performance.now() - this.lastPingSentAt;
    this.recentSamples.push(ms);
    if (this.recentSamples.length > PATH_RTT_SAMPLES) this.recentSamples.shift();
    this.pathRttMs = Math.min(...this.recentSamples);
    this.options.onRtt(ms);
    if (this.startupProbesLeft > 0) {
      this.startupProbesLeft -= 1;
      this.sendPing(performance.now());
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** How long since the peer last sent anything, in whole ms (the monotonic clock: a wall-clock step cannot fake silence). */
  silentForMs(): number {
    return Math.round(performance.now() - this.lastReceivedAt);
  }

  /** Pings now unless a ping is already in flight, so a quiet link shows soon whether it still answers. */
  pingIfIdle(): void {
    if (!this.awaitingAnswer) this.sendPing(performance.now());
  }

  private tick(): void {
    const now = performance.now();
    const silentFor = this.silentForMs();
    if (silentFor >= this.options.timeoutMs) {
      this.stop();
      this.options.onDead(silentFor);
      return;
    }
    const sincePing = now - this.lastPingSentAt;
    const busy = this.options.isBusy();
    if (sincePing >= this.nextGapMs || (busy && !this.awaitingAnswer && sincePing >= PROBE_INTERVAL_MS)) this.sendPing(now);
    this.options.onTick(now);
  }

  private drawGap(): number {
    return nextPingGapMs(this.options.intervalMs, this.options.random);
  }

  private sendPing(now: number): void {
    this.pingSeq = (this.pingSeq + 1) >>> 0;
    this.lastPingSentAt = now;
    this.nextGapMs = this.drawGap();
    this.awaitingAnswer = true;
    this.options.sendPing(this.pingSeq);
  }
}
