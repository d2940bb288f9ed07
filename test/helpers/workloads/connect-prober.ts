/**
 * New connections at a steady pace while something happens elsewhere (a relay killed, a link
 * frozen): every `intervalMs` a SOCKS CONNECT to an echo target starts and sends one line back
 * and forth, each bounded by `attemptTimeoutMs`. Several may be in flight at once, so one that
 * hangs does not hold the others back. It records when each started and whether it worked.
 */
import { readBytes } from '../io/socket-io.js';
import { socksConnect } from '../socks/socks-dial.js';

export interface Attempt {
  /** Date.now() when the CONNECT started. */
  startedAt: number;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ProbeOptions {
  socksPort: number;
  echoPort: number;
  intervalMs?: number;
  attemptTimeoutMs?: number;
  /** At most this many attempts in all, so the loop is bounded even if stop() is never called. */
  maxAttempts?: number;
}

export class ConnectProber {
  readonly attempts: Attempt[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private started = 0;

  constructor(private readonly options: ProbeOptions) {
    this.timer = setInterval(() => this.tryOnce(), options.intervalMs ?? 100);
  }

  /** Stops starting attempts and waits for those in flight. */
  async stop(): Promise<Attempt[]> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
    return [...this.attempts].sort((a, b) => a.startedAt - b.startedAt);
  }

  private tryOnce(): void {
    if (this.started >= (this.options.maxAttempts ?? 1_000)) return;
    this.started += 1;
    const run = this.attempt().finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  private async attempt(): Promise<void> {
    const startedAt = Date.now();
    const timeoutMs = this.options.attemptTimeoutMs ?? 6_000;
    const line = Buffer.from(`probe ${this.started}\n`);
    try {
      const socket = await socksConnect(this.options.socksPort, this.options.echoPort, '127.0.0.1', timeoutMs);
      socket.on('error', () => {}); // a reset shows as the read failing
      try {
        socket.write(line);
        const back = await readBytes(socket, line.length, Math.max(1, timeoutMs - (Date.now() - startedAt)));
        if (!back.equals(line)) throw new Error('wrong echo');
      } finally {
        socket.destroy();
      }
      this.attempts.push({ startedAt, ok: true, ms: Date.now() - startedAt });
    } catch (err) {
      this.attempts.push({ startedAt, ok: false, ms: Date.now() - startedAt, error: (err as Error).message });
    }
  }
}

/**
 * The longest stretch in which new connections failed: from the start of a failed attempt to
 * the start of the next one that worked (or the last attempt), in ms; 0 when none failed.
 */
export function longestFailureGapMs(sorted: readonly Attempt[]): number {
  let longest = 0;
  let firstFailure: number | null = null;
  for (const attempt of sorted) {
    if (!attempt.ok && firstFailure === null) firstFailure = attempt.startedAt;
    if (attempt.ok && firstFailure !== null) {
      longest = Math.max(longest, attempt.startedAt - firstFailure);
      firstFailure = null;
    }
  }
  if (firstFailure !== null && sorted.length > 0) longest = Math.max(longest, sorted[sorted.length - 1]!.startedAt - firstFailure);
  return longest;
}
