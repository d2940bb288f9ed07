/**
 * Figure 2: connect latency. Sequential connections, each timed from connect() until a
 * 1-byte echo came back: direct is TCP connect + echo; tunnel adds the SOCKS5 handshake
 * and the relay's dial of the target. Run in rounds, every route's connects merge.
 */
import { performance } from 'node:perf_hooks';
import type { ScenarioContext } from '../messages.js';
import { readExactly } from '../net-io.js';
import { openRoute } from '../route.js';
import { percentiles } from '../stats.js';
import { runSequentialTrials } from './sequential-trials.js';

export interface LatencyParams {
  count: number;
  warmup: number;
  /** Stop early (and say so) past this much wall time. */
  capMs: number;
  perConnectTimeoutMs: number;
}

export interface LatencyResult {
  attempted: number;
  completed: number;
  failures: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: string;
  /** Every measured connect's time, so that rounds (rounds.ts) merge into percentiles of them all. */
  samplesMs: number[];
}

const ONE_BYTE = Buffer.from([0x42]);
const PROGRESS_EVERY = 250;

export async function runLatency(ctx: ScenarioContext, params: LatencyParams): Promise<LatencyResult> {
  const { results: samples, attempted, errors } = await runSequentialTrials(params, () => connectAndEcho(ctx, params.perConnectTimeoutMs), (done) => {
    if (done % PROGRESS_EVERY === 0) ctx.progress(`${done}/${params.count} connects`);
  });
  return {
    attempted,
    completed: samples.length,
    failures: errors.count + (params.count - attempted),
    ...percentiles(samples),
    errors: errors.summary(),
    samplesMs: samples,
  };
}

/** One result for a route's rounds: the percentiles of every round's connects together. */
export function mergeLatencyResults(results: readonly LatencyResult[]): LatencyResult {
  const samplesMs = results.flatMap((r) => r.samplesMs);
  const total = (f: (r: LatencyResult) => number): number => results.reduce((sum, r) => sum + f(r), 0);
  return {
    attempted: total((r) => r.attempted),
    completed: total((r) => r.completed),
    failures: total((r) => r.failures),
    ...percentiles(samplesMs),
    errors: results.map((r) => r.errors).filter((text) => text !== '').join('; '),
    samplesMs,
  };
}

async function connectAndEcho(ctx: ScenarioContext, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const socket = await openRoute(ctx.route, ctx.ports.echo, timeoutMs);
  try {
    socket.write(ONE_BYTE);
    await readExactly(socket, 1, timeoutMs);
    return performance.now() - t0;
  } finally {
    socket.destroy();
  }
}
