/**
 * Figure 1: single-stream bulk throughput, uploads to the sink and downloads from the
 * source. Each direction runs `repeats` times and the best run counts: on a shared
 * machine the best run is the one least disturbed by others, for direct and tunnel alike.
 * Every timed run lasts at least `minMs`: a route fast enough to move `bytes` sooner gets a
 * larger size, since a transfer of a few hundred milliseconds says more about the
 * scheduler than about the route (direct loopback moved 512 MiB in 0.15–0.35 s).
 */
import type { ScenarioContext } from '../messages.js';
import { download, upload, type Transfer } from '../transfer.js';
import { compact, MIB } from '../stats.js';

export interface BulkParams {
  /** The smallest transfer; routes that would finish it within `minMs` move more. */
  bytes: number;
  /** The shortest a timed transfer may take. */
  minMs: number;
  /** A transfer that would take longer stops here and reports its rate so far. */
  capMs: number;
  repeats: number;
}

export interface BulkResult {
  uploads: Transfer[];
  downloads: Transfer[];
  upload: Transfer;
  download: Transfer;
}

/** Enough to wake the JIT and the socket buffers before the timed transfers. */
const WARMUP_BYTES = 16 * MIB;
const WARMUP_CAP_MS = 2_000;

export async function runBulk(ctx: ScenarioContext, params: BulkParams): Promise<BulkResult> {
  await upload(ctx.route, ctx.ports.sink, WARMUP_BYTES, WARMUP_CAP_MS);
  await download(ctx.route, ctx.ports.source, WARMUP_BYTES, WARMUP_CAP_MS);
  const uploads: Transfer[] = [];
  const downloads: Transfer[] = [];
  const uploadBytes = await sizeFor((bytes) => upload(ctx.route, ctx.ports.sink, bytes, params.capMs), params);
  const downloadBytes = await sizeFor((bytes) => download(ctx.route, ctx.ports.source, bytes, params.capMs), params);
  ctx.progress(`sizes for at least ${params.minMs} ms: upload ${(uploadBytes / MIB).toFixed(0)} MiB, download ${(downloadBytes / MIB).toFixed(0)} MiB`);
  for (let i = 0; i < params.repeats; i++) {
    uploads.push(await upload(ctx.route, ctx.ports.sink, uploadBytes, params.capMs));
    ctx.progress(`upload ${describe(uploads[i])}`);
    downloads.push(await download(ctx.route, ctx.ports.source, downloadBytes, params.capMs));
    ctx.progress(`download ${describe(downloads[i])}`);
  }
  return { uploads, downloads, upload: best(uploads), download: best(downloads) };
}

/** Largest size a calibration may pick: bounds the run time if a trial run was absurdly short. */
const MAX_CALIBRATED_BYTES = 16 * 1024 * MIB;
/** Aim a little above `minMs`, as the trial run may have been a lucky one. */
const CALIBRATION_MARGIN = 1.2;

/** `params.bytes`, or more if an untimed trial of that size finished within `params.minMs`. */
async function sizeFor(trial: (bytes: number) => Promise<Transfer>, params: BulkParams): Promise<number> {
  const first = await trial(params.bytes);
  if (first.capped || first.ms >= params.minMs) return params.bytes;
  const scaled = (params.bytes * params.minMs * CALIBRATION_MARGIN) / Math.max(first.ms, 1);
  return Math.min(MAX_CALIBRATED_BYTES, Math.ceil(scaled / MIB) * MIB);
}

function best(transfers: readonly Transfer[]): Transfer {
  return transfers.reduce((a, b) => (b.mbps > a.mbps ? b : a));
}

export function describe(transfer: Transfer): string {
  const capped = transfer.capped ? ' (time cap reached)' : '';
  return `${(transfer.bytes / MIB).toFixed(0)} MiB in ${(transfer.ms / 1000).toFixed(2)} s = ${compact(transfer.mbps)} MB/s${capped}`;
}
