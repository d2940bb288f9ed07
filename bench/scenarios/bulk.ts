/**
 * Figure 1: single-stream bulk throughput, uploads to the sink and downloads from the
 * source. Each direction runs `repeats` times and the best run counts: on a shared
 * machine the best run is the one least disturbed by others, for direct and tunnel alike.
 */
import type { ScenarioContext } from '../messages.js';
import { download, upload, type Transfer } from '../transfer.js';
import { compact, MIB } from '../stats.js';

export interface BulkParams {
  bytes: number;
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
  for (let i = 0; i < params.repeats; i++) {
    uploads.push(await upload(ctx.route, ctx.ports.sink, params.bytes, params.capMs));
    ctx.progress(`upload ${describe(uploads[i])}`);
    downloads.push(await download(ctx.route, ctx.ports.source, params.bytes, params.capMs));
    ctx.progress(`download ${describe(downloads[i])}`);
  }
  return { uploads, downloads, upload: best(uploads), download: best(downloads) };
}

function best(transfers: readonly Transfer[]): Transfer {
  return transfers.reduce((a, b) => (b.mbps > a.mbps ? b : a));
}

export function describe(transfer: Transfer): string {
  const capped = transfer.capped ? ' (time cap reached)' : '';
  return `${(transfer.bytes / MIB).toFixed(0)} MiB in ${(transfer.ms / 1000).toFixed(2)} s = ${compact(transfer.mbps)} MB/s${capped}`;
}
