/**
 * Figure 1: single-stream bulk throughput, uploads to the sink and downloads from the
 * source. Each direction runs `repeats` times (in each of the plan's rounds) and the best run counts: on a shared
 * machine the best run is the one least disturbed by others, for direct and tunnel alike.
 * Every timed run lasts at least `minMs`: a route fast enough to move `bytes` sooner gets a
 * larger size, since a transfer of a few hundred milliseconds says more about the
 * scheduler than about the route (direct loopback moved 512 MiB in 0.15–0.35 s). The size
 * comes from an untimed trial; a timed run that still ends sooner is redone larger.
 */
import { cpuBetween, type ProcessCpu, type ScenarioContext } from '../messages.js';
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
  /** CPU seconds per GiB the relay and the client spent over the timed runs of each direction; absent on direct runs. */
  cpuPerGiB?: { upload: ProcessCpu; download: ProcessCpu };
}

/** CPU time and bytes over the timed runs of one direction. */
class CpuPerByte {
  private relaySec = 0;
  private clientSec = 0;
  private bytes = 0;
  measured = true;

  add(before: ProcessCpu | null, after: ProcessCpu | null, bytes: number): void {
    const spent = cpuBetween(before, after);
    if (!spent) {
      this.measured = false;
      return;
    }
    this.relaySec += spent.relaySec;
    this.clientSec += spent.clientSec;
    this.bytes += bytes;
  }

  perGiB(): ProcessCpu {
    const gib = Math.max(this.bytes, 1) / GIB;
    return { relaySec: this.relaySec / gib, clientSec: this.clientSec / gib };
  }
}

/** Enough to wake the JIT and the socket buffers before the timed transfers. */
const WARMUP_BYTES = 16 * MIB;
const WARMUP_CAP_MS = 2_000;
const GIB = 1024 * MIB;

export async function runBulk(ctx: ScenarioContext, params: BulkParams): Promise<BulkResult> {
  await upload(ctx.route, ctx.ports.sink, WARMUP_BYTES, WARMUP_CAP_MS);
  await download(ctx.route, ctx.ports.source, WARMUP_BYTES, WARMUP_CAP_MS);
  const uploadTrial: Trial = (bytes) => upload(ctx.route, ctx.ports.sink, bytes, params.capMs);
  const downloadTrial: Trial = (bytes) => download(ctx.route, ctx.ports.source, bytes, params.capMs);
  const directions = [
    { label: 'upload', trial: uploadTrial, bytes: await sizeFor(uploadTrial, params), runs: [] as Transfer[], cpu: new CpuPerByte() },
    { label: 'download', trial: downloadTrial, bytes: await sizeFor(downloadTrial, params), runs: [] as Transfer[], cpu: new CpuPerByte() },
  ];
  ctx.progress(`sizes for at least ${params.minMs} ms: ${directions.map((d) => `${d.label} ${(d.bytes / MIB).toFixed(0)} MiB`).join(', ')}`);
  for (let i = 0; i < params.repeats; i++) {
    for (const direction of directions) {
      const before = await ctx.checkpoint(`${direction.label} ${i + 1} start`);
      const { transfer, bytes } = await timedRun(direction.trial, direction.bytes, params, ctx, direction.label);
      direction.cpu.add(before, await ctx.checkpoint(`${direction.label} ${i + 1} end`), transfer.bytes);
      direction.runs.push(transfer);
      direction.bytes = bytes;
      ctx.progress(`${direction.label} ${describe(transfer)}`);
    }
  }
  const [uploads, downloads] = directions.map((d) => d.runs);
  const [up, down] = directions.map((d) => d.cpu);
  const cpuPerGiB = up.measured && down.measured ? { upload: up.perGiB(), download: down.perGiB() } : undefined;
  return { uploads, downloads, upload: best(uploads), download: best(downloads), ...(cpuPerGiB ? { cpuPerGiB } : {}) };
}

/** Largest size a calibration may pick: bounds the run time if a trial run was absurdly short. */
const MAX_CALIBRATED_BYTES = 16 * 1024 * MIB;
/** Aim a little above `minMs`, as the trial run may have been a lucky one. */
const CALIBRATION_MARGIN = 1.2;

/**
 * A timed run that still ends within `minMs` (the untimed trial happened to be slow) is
 * redone at a size scaled from it, at most this many times per run.
 */
const MAX_RESIZES = 2;

type Trial = (bytes: number) => Promise<Transfer>;

/** `params.bytes`, or more if an untimed trial of that size finished within `params.minMs`. */
async function sizeFor(trial: Trial, params: BulkParams): Promise<number> {
  const first = await trial(params.bytes);
  return isShort(first, params) ? scaledSize(params.bytes, first.ms, params) : params.bytes;
}

/** One timed run of `bytes`, and the size later runs should use (larger if this one was short). */
async function timedRun(trial: Trial, bytes: number, params: BulkParams, ctx: ScenarioContext, label: string): Promise<{ transfer: Transfer; bytes: number }> {
  let transfer = await trial(bytes);
  for (let resized = 0; resized < MAX_RESIZES && isShort(transfer, params); resized++) {
    const larger = scaledSize(bytes, transfer.ms, params);
    ctx.progress(`${label} ${describe(transfer)} is under ${params.minMs} ms: not counted, redone with ${(larger / MIB).toFixed(0)} MiB`);
    bytes = larger;
    transfer = await trial(bytes);
  }
  return { transfer, bytes };
}

function isShort(transfer: Transfer, params: BulkParams): boolean {
  return !transfer.capped && transfer.ms < params.minMs;
}

/** The size that, at the rate `bytes` in `ms` showed, lasts a margin over `params.minMs`. */
function scaledSize(bytes: number, ms: number, params: BulkParams): number {
  const scaled = (bytes * params.minMs * CALIBRATION_MARGIN) / Math.max(ms, 1);
  return Math.min(MAX_CALIBRATED_BYTES, Math.ceil(scaled / MIB) * MIB);
}

/**
 * One result for the interleaved rounds of a route (rounds.ts): every run counts, the best
 * counts most, and CPU per GiB is over all the rounds' timed bytes.
 */
export function mergeBulkResults(results: readonly BulkResult[]): BulkResult {
  const uploads = results.flatMap((r) => r.uploads);
  const downloads = results.flatMap((r) => r.downloads);
  const withCpu = results.filter((r) => r.cpuPerGiB !== undefined);
  const merged: BulkResult = { uploads, downloads, upload: best(uploads), download: best(downloads) };
  if (withCpu.length < results.length) return merged;
  const weighted = (direction: 'upload' | 'download', runs: (r: BulkResult) => readonly Transfer[]): ProcessCpu => {
    const bytes = withCpu.map((r) => runs(r).reduce((total, t) => total + t.bytes, 0));
    const all = Math.max(bytes.reduce((a, b) => a + b, 0), 1);
    const share = (f: (c: ProcessCpu) => number): number => withCpu.reduce((total, r, i) => total + f(r.cpuPerGiB![direction]) * bytes[i]!, 0) / all;
    return { relaySec: share((c) => c.relaySec), clientSec: share((c) => c.clientSec) };
  };
  return { ...merged, cpuPerGiB: { upload: weighted('upload', (r) => r.uploads), download: weighted('download', (r) => r.downloads) } };
}

function best(transfers: readonly Transfer[]): Transfer {
  return transfers.reduce((a, b) => (b.mbps > a.mbps ? b : a));
}

export function describe(transfer: Transfer): string {
  const capped = transfer.capped ? ' (time cap reached)' : '';
  return `${(transfer.bytes / MIB).toFixed(0)} MiB in ${(transfer.ms / 1000).toFixed(2)} s = ${compact(transfer.mbps)} MB/s${capped}`;
}
