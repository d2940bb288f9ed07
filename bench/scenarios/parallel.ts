/**
 * Figure 14: `streams` downloads at once from the source, each sampled every `sampleMs`
 * for `durationMs` after an untimed warm-up: their total rate, and the CPU the relay (with
 * all its workers) and the clients used meanwhile. Run through a relay with one worker and
 * with two (run.ts), with the downloads spread over two client processes so that there
 * are two tunnels for the relay's workers to share.
 */
import { cpuBetween, type ProcessCpu, type ScenarioContext } from '../messages.js';
import { rampFigures, sumSeries } from '../ramp.js';
import { sampledTransfers } from '../sampled-transfer.js';
import { compact } from '../stats.js';

export interface ParallelParams {
  streams: number;
  durationMs: number;
  sampleMs: number;
  warmupMs: number;
  windowMs: number;
  finalMs: number;
}

export interface ParallelResult {
  streams: number;
  /** Total over the timed run. */
  meanMibps: number;
  /** Total over its last `finalMs`. */
  finalMibps: number;
  perStreamMeanMibps: number[];
  /** CPU seconds over the timed run (null on direct runs), and its length. */
  cpu: ProcessCpu | null;
  seconds: number;
}

export async function runParallel(ctx: ScenarioContext, params: ParallelParams): Promise<ParallelResult> {
  const timing = { sampleMs: params.sampleMs, durationMs: params.durationMs };
  const windows = { windowMs: params.windowMs, finalMs: params.finalMs };
  if (params.warmupMs > 0) await sampledTransfers(ctx.route, ctx.ports.source, 'download', params.streams, { ...timing, durationMs: params.warmupMs });
  const before = await ctx.checkpoint('before');
  const started = performance.now();
  const each = await sampledTransfers(ctx.route, ctx.ports.source, 'download', params.streams, timing);
  const seconds = (performance.now() - started) / 1000;
  const after = await ctx.checkpoint('after');
  const total = rampFigures(sumSeries(each), windows);
  const cpu = cpuBetween(before, after);
  ctx.progress(`${params.streams} downloads: ${compact(total.meanMibps)} MiB/s in total`);
  return {
    streams: params.streams,
    meanMibps: total.meanMibps,
    finalMibps: total.finalMibps,
    perStreamMeanMibps: each.map((series) => rampFigures(series, windows).meanMibps),
    cpu,
    seconds,
  };
}
