/**
 * Figure 15: connect latency while one of two relays is killed. The client holds
 * --tunnels 2 over two relays; a new connection (SOCKS5 CONNECT + a 1-byte echo) starts every
 * `intervalMs`, several in flight at once so that one that hangs holds no other back. At
 * `killAtMs` the runner SIGKILLs the second relay (checkpoint "kill-spare-relay"; direct runs
 * kill nothing). Reported: the longest stretch in which new connections failed, and how many
 * failed once 5 s had passed since the kill (the target: none).
 */
import { performance } from 'node:perf_hooks';
import { KILL_SPARE_RELAY, type ScenarioContext } from '../messages.js';
import { readExactly, sleep } from '../net-io.js';
import { openRoute } from '../route.js';
import { percentiles } from '../stats.js';
import { ErrorTally } from './error-tally.js';

export interface FailoverParams {
  durationMs: number;
  intervalMs: number;
  killAtMs: number;
  perConnectTimeoutMs: number;
  /** Failures later than this after the kill count against the target. */
  recoveryMs: number;
}

export interface FailoverResult {
  attempts: number;
  failures: number;
  /** From the start of a failed connect to the start of the next one that worked, the longest (ms). */
  longestFailureGapMs: number;
  failuresAfterRecovery: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: string;
}

interface Attempt {
  at: number;
  ok: boolean;
  ms: number;
}

const ONE_BYTE = Buffer.from([0x46]);

export async function runFailover(ctx: ScenarioContext, params: FailoverParams): Promise<FailoverResult> {
  const attempts: Attempt[] = [];
  const errors = new ErrorTally();
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  let killedAt: number | null = null;
  while (performance.now() - t0 < params.durationMs) {
    if (killedAt === null && performance.now() - t0 >= params.killAtMs) {
      killedAt = performance.now();
      ctx.progress('killing the second relay (SIGKILL)');
      await ctx.checkpoint(KILL_SPARE_RELAY);
    }
    inFlight.push(attempt(ctx, params.perConnectTimeoutMs, attempts, errors));
    await sleep(params.intervalMs);
  }
  await Promise.all(inFlight);
  attempts.sort((a, b) => a.at - b.at);
  const failed = attempts.filter((a) => !a.ok);
  ctx.progress(`${attempts.length} connects, ${failed.length} failed`);
  return {
    attempts: attempts.length,
    failures: failed.length,
    longestFailureGapMs: longestGap(attempts),
    failuresAfterRecovery: killedAt === null ? 0 : failed.filter((a) => a.at >= killedAt! + params.recoveryMs).length,
    ...pick(percentiles(attempts.filter((a) => a.ok).map((a) => a.ms))),
    errors: errors.summary(),
  };
}

async function attempt(ctx: ScenarioContext, timeoutMs: number, attempts: Attempt[], errors: ErrorTally): Promise<void> {
  const at = performance.now();
  try {
    const socket = await openRoute(ctx.route, ctx.ports.echo, timeoutMs);
    socket.on('error', () => {}); // a reset shows as the read failing
    try {
      socket.write(ONE_BYTE);
      await readExactly(socket, 1, timeoutMs);
    } finally {
      socket.destroy();
    }
    attempts.push({ at, ok: true, ms: performance.now() - at });
  } catch (err) {
    errors.add(err);
    attempts.push({ at, ok: false, ms: performance.now() - at });
  }
}

function longestGap(sorted: readonly Attempt[]): number {
  let longest = 0;
  let firstFailure: number | null = null;
  for (const a of sorted) {
    if (!a.ok && firstFailure === null) firstFailure = a.at;
    if (a.ok && firstFailure !== null) {
      longest = Math.max(longest, a.at - firstFailure);
      firstFailure = null;
    }
  }
  if (firstFailure !== null) longest = Math.max(longest, sorted[sorted.length - 1]!.at - firstFailure);
  return longest;
}

function pick(p: { p50Ms: number; p99Ms: number; maxMs: number }): { p50Ms: number; p99Ms: number; maxMs: number } {
  return { p50Ms: p.p50Ms, p99Ms: p.p99Ms, maxMs: p.maxMs };
}
