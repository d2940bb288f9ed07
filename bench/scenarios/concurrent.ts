/**
 * Figure 4: many streams at once. All `count` streams are opened together, each echoes
 * `payloadBytes`, and all are held open while the runner samples relay and client memory.
 */
import { performance } from 'node:perf_hooks';
import type { ScenarioContext } from '../messages.js';
import { sleep } from '../net-io.js';
import { ascending, percentile } from '../stats.js';
import { ErrorTally } from './error-tally.js';
import { closeAll, openAndEcho } from './open-many.js';

export interface ConcurrentParams {
  count: number;
  payloadBytes: number;
  timeoutMs: number;
}

export interface ConcurrentResult {
  count: number;
  opened: number;
  failures: number;
  wallMs: number;
  /** Per stream: from the common start until its echo was back. */
  p50Ms: number;
  p99Ms: number;
  errors: string;
}

const WARMUP_STREAMS = 20;
const SETTLE_MS = 300;
const CLOSE_WAIT_MS = 5_000;

export async function runConcurrent(ctx: ScenarioContext, params: ConcurrentParams): Promise<ConcurrentResult> {
  const payload = Buffer.alloc(params.payloadBytes, 0x63);
  const warm = await openAndEcho(ctx, WARMUP_STREAMS, payload, params.timeoutMs, new ErrorTally());
  await closeAll(warm.map((o) => o.socket), CLOSE_WAIT_MS);
  await sleep(SETTLE_MS);
  await ctx.checkpoint('before');

  const errors = new ErrorTally();
  const t0 = performance.now();
  const opened = await openAndEcho(ctx, params.count, payload, params.timeoutMs, errors);
  const wallMs = performance.now() - t0;
  ctx.progress(`${opened.length}/${params.count} open and echoed in ${wallMs.toFixed(0)} ms`);
  await ctx.checkpoint('open');
  await closeAll(opened.map((o) => o.socket), CLOSE_WAIT_MS);

  const times = ascending(opened.map((o) => o.ms));
  return {
    count: params.count,
    opened: opened.length,
    failures: params.count - opened.length,
    wallMs,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    errors: errors.summary(),
  };
}
