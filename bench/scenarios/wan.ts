/**
 * WAN figures: throughput across an emulated long link (link-emulator.ts), where a stream
 * must keep a bandwidth-delay product in flight to run at the link's rate. The route is
 * whatever the runner built: the tunnel with the link between client and relay, or the
 * reference, a plain TCP connection through the same link to the same target.
 *
 * One stream down, then one up, then `parallel` streams down at once, each for
 * `durationMs` with the bytes the far end got sampled every `sampleMs`: the mean rate,
 * the final rate (last `finalMs`), and the time until the rate over `windowMs` first
 * reached 90 % of the final one (ramp.ts). Between runs the link gets `settleMs` to empty
 * its queue, so a run never starts behind the last one's leftovers.
 */
import type { ScenarioContext } from '../messages.js';
import { sleep } from '../net-io.js';
import { rampFigures, sumSeries, type RampFigures, type RampWindows } from '../ramp.js';
import { sampledTransfers, type Direction } from '../sampled-transfer.js';
import { compact } from '../stats.js';

export interface WanParams {
  durationMs: number;
  sampleMs: number;
  windowMs: number;
  finalMs: number;
  parallel: number;
  /** An untimed download first (JIT, the tunnel's round-trip estimate); 0 for none. */
  warmupMs: number;
  settleMs: number;
}

export interface ParallelFigures extends RampFigures {
  streams: number;
  /** Each stream's mean rate: how fairly the link was shared. */
  perStreamMeanMibps: number[];
}

export interface WanResult {
  download: RampFigures;
  upload: RampFigures;
  parallel: ParallelFigures;
}

export async function runWan(ctx: ScenarioContext, params: WanParams): Promise<WanResult> {
  const timing = { sampleMs: params.sampleMs, durationMs: params.durationMs };
  const windows: RampWindows = { windowMs: params.windowMs, finalMs: params.finalMs };
  const run = async (direction: Direction, streams: number, durationMs = params.durationMs) => {
    const port = direction === 'download' ? ctx.ports.source : ctx.ports.sink;
    const series = await sampledTransfers(ctx.route, port, direction, streams, { ...timing, durationMs });
    await sleep(params.settleMs);
    return series;
  };

  if (params.warmupMs > 0) await run('download', 1, params.warmupMs);
  await ctx.checkpoint('before');
  const download = rampFigures((await run('download', 1))[0], windows);
  ctx.progress(`1 stream down: ${describeRamp(download)}`);
  const upload = rampFigures((await run('upload', 1))[0], windows);
  ctx.progress(`1 stream up: ${describeRamp(upload)}`);
  const each = await run('download', params.parallel);
  const parallel: ParallelFigures = {
    ...rampFigures(sumSeries(each), windows),
    streams: params.parallel,
    perStreamMeanMibps: each.map((series) => rampFigures(series, windows).meanMibps),
  };
  ctx.progress(`${params.parallel} streams down: ${describeRamp(parallel)}`);
  await ctx.checkpoint('after');
  return { download, upload, parallel };
}

export function describeRamp(figures: RampFigures): string {
  const reached = figures.timeTo90Ms === null ? 'never reached 90 % of it' : `90 % of it after ${(figures.timeTo90Ms / 1000).toFixed(2)} s`;
  return `final ${compact(figures.finalMibps)} MiB/s, mean ${compact(figures.meanMibps)} MiB/s over ${(figures.ms / 1000).toFixed(1)} s, ${reached}`;
}
