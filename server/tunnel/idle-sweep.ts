/**
 * --idle-timeout: one timer per session resets the streams that moved no byte either way
 * for the timeout. Activity is read from the streams' byte counters at each sweep, so the
 * data path does no bookkeeping for it; a stream's idle time is known to within one sweep.
 * Times are on the monotonic clock, so a wall-clock step resets nothing.
 */
/** What the sweep reads from a stream: a tunnel's Stream, or a Wisp stream. */
export interface SweptStream {
  readonly isClosed: boolean;
  /** Still dialing: the dial timeout governs it, not the idle timeout. */
  readonly isOpening: boolean;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly openedAt: number;
}

/** How often the idle sweep runs: often enough to be within half the timeout, at most once a second. */
export function idleSweepIntervalMs(idleTimeoutMs: number): number {
  return Math.max(1, Math.min(1_000, Math.floor(idleTimeoutMs / 2)));
}

interface Activity {
  /** Bytes (or datagram payload bytes) moved either way when last seen. */
  moved: number;
  /** When `moved` was last seen to change. */
  at: number;
}

export class IdleSweep<Stream extends SweptStream = SweptStream> {
  private readonly activity = new WeakMap<Stream, Activity>();
  /** Streams whose wait is governed by another timeout (a BIND waiting for its peer). */
  private readonly exempted = new WeakSet<Stream>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly streams: ReadonlyMap<number, Stream>,
    private readonly idleTimeoutMs: number,
    private readonly onIdle: (stream: Stream, idleMs: number) => void,
  ) {
    this.timer = setInterval(() => this.sweep(), idleSweepIntervalMs(idleTimeoutMs));
    this.timer.unref();
  }

  /** Leaves the stream alone until activeFrom(). */
  exempt(stream: Stream): void {
    this.exempted.add(stream);
  }

  /** Ends an exemption: idle time counts from now. */
  activeFrom(stream: Stream, now = performance.now()): void {
    this.exempted.delete(stream);
    this.activity.set(stream, { moved: movedBytes(stream), at: now });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Streams still opening (the dial timeout applies) and exempt ones are skipped. */
  private sweep(): void {
    const now = performance.now();
    for (const stream of [...this.streams.values()]) {
      if (stream.isClosed || stream.isOpening || this.exempted.has(stream)) continue;
      const idleMs = now - this.lastActiveAt(stream, now);
      if (idleMs >= this.idleTimeoutMs) this.onIdle(stream, idleMs);
    }
  }

  private lastActiveAt(stream: Stream, now: number): number {
    const moved = movedBytes(stream);
    const seen = this.activity.get(stream);
    if (seen && seen.moved === moved) return seen.at;
    // openedAt is wall-clock time (the status page shows it); only the age is carried over to this clock.
    const at = seen === undefined && moved === 0 ? now - Math.max(0, Date.now() - stream.openedAt) : now;
    this.activity.set(stream, { moved, at });
    return at;
  }
}

function movedBytes(stream: SweptStream): number {
  return stream.bytesSent + stream.bytesReceived;
}
