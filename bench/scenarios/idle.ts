/**
 * Figure 5: thousands of idle streams on one WebSocket. Opened in batches, each checked
 * with a 1-byte echo, all held open while memory is sampled, then every one is checked
 * again to show the whole set is still served.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ScenarioContext } from '../messages.js';
import { sleep } from '../net-io.js';
import { ErrorTally } from './error-tally.js';
import { closeAll, echoEach, openAndEcho } from './open-many.js';

export interface IdleParams {
  count: number;
  batch: number;
  timeoutMs: number;
  /** Opening stops (and the rest count as failures) past this much wall time. */
  capMs: number;
}

export interface IdleResult {
  count: number;
  opened: number;
  failures: number;
  openMs: number;
  /** Of the opened streams, how many answered a second echo while all were held. */
  servedWhileHeld: number;
  recheckMs: number;
  errors: string;
}

const WARMUP_STREAMS = 20;
const SETTLE_MS = 300;
const PROGRESS_EVERY = 2_000;
const RECHECK_BATCH = 1_000;
const CLOSE_WAIT_MS = 10_000;

export async function runIdle(ctx: ScenarioContext, params: IdleParams): Promise<IdleResult> {
  const one = Buffer.from([0x69]);
  const warm = await openAndEcho(ctx, WARMUP_STREAMS, one, params.timeoutMs, new ErrorTally());
  await closeAll(warm.map((o) => o.socket), CLOSE_WAIT_MS);
  await sleep(SETTLE_MS);
  await ctx.checkpoint('before');

  const errors = new ErrorTally();
  const held: Socket[] = [];
  const t0 = performance.now();
  const deadline = t0 + params.capMs;
  for (let start = 0; start < params.count && performance.now() < deadline; start += params.batch) {
    const size = Math.min(params.batch, params.count - start);
    const opened = await openAndEcho(ctx, size, one, params.timeoutMs, errors);
    held.push(...opened.map((o) => o.socket));
    const done = start + size;
    if (done % PROGRESS_EVERY === 0 || done === params.count) ctx.progress(`${held.length}/${done} open (${errors.count} failed)`);
  }
  const openMs = performance.now() - t0;
  await ctx.checkpoint('open');

  const t1 = performance.now();
  const servedWhileHeld = await echoEach(held, RECHECK_BATCH, params.timeoutMs, errors);
  const recheckMs = performance.now() - t1;
  ctx.progress(`re-checked while all held: ${servedWhileHeld}/${held.length} answered in ${recheckMs.toFixed(0)} ms`);
  await closeAll(held, CLOSE_WAIT_MS);

  return {
    count: params.count,
    opened: held.length,
    failures: params.count - held.length,
    openMs,
    servedWhileHeld,
    recheckMs,
    errors: errors.summary(),
  };
}
