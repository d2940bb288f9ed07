/**
 * The report's vocabulary, shared by every scenario's figures (report.ts): one outcome per
 * plan, a metric (one table row), and the helpers that read runs into figures and notes.
 */
import type { ProcessCpu } from './messages.js';
import type { ScenarioPlan, Target } from './plan.js';
import type { CpuUse, RssPoint, RunOutcome } from './runner.js';
import type { BulkResult } from './scenarios/bulk.js';
import { compact, fixed } from './stats.js';

export interface PlanOutcome {
  plan: ScenarioPlan;
  direct: RunOutcome | null;
  tunnel: RunOutcome | null;
  /** Through two plain forwarders (forwarder-chain.ts), for scale; null when not run. */
  reference: RunOutcome | null;
  /** Through the naive one-WebSocket-per-stream tunnel (naive-tunnel.ts), for scale; absent when not run. */
  naive?: RunOutcome | null;
  /** Through V2Ray with mux.cool (v2ray.ts), the peer; a failed outcome says why it did not run; absent when not asked for. */
  v2ray?: RunOutcome | null;
  /** Through the SOCKS chain (a SOCKS5 front and one plain forwarder, forwarder-chain.ts), for scale; absent when not run. */
  socksReference?: RunOutcome | null;
  /** With plan.relayWorkers: the tunnel run with each --workers count (the first is also `tunnel`). */
  byWorkers?: { workers: number; outcome: RunOutcome }[];
  /** Why the scenario did not run at all. */
  skipped: string | null;
}

export type Ok = Extract<RunOutcome, { ok: true }>;
/** A figure: a number, a failed run, or nothing to show (not applicable / skipped). */
export type Val = number | 'FAILED' | null;

export const MODES = ['direct', 'tunnel'] as const;
export type Mode = (typeof MODES)[number];

export interface Metric {
  figure: string;
  direct: Val;
  tunnel: Val;
  format(value: number): string;
  /** Show tunnel/direct. */
  ratio?: boolean;
  /** The plan's pass threshold; absent for figures shown for information. */
  target?: Target;
  /** What the Target column says of a figure shown for information. */
  targetText?: string;
  /** The verdict of a figure without a target (e.g. "report"), unless a run failed. */
  verdict?: string;
}

export const KIB_PER_MIB = 1024;

/** The plan's threshold named `name`; a missing one is a mistake in the plan, not a figure to show untested. */
export function targetOf(plan: ScenarioPlan, name: string): Target {
  const target = plan.targets?.[name];
  if (!target) throw new Error(`plan #${plan.id} has no target "${name}"`);
  return target;
}

export function pick<T>(run: RunOutcome | null, f: (result: T, run: Ok) => number): Val {
  if (run === null) return null;
  if (!run.ok) return 'FAILED';
  return f(run.result as T, run);
}

/** One figure of both modes: `f` of each run's result, FAILED for a failed run, null for none. */
export function inBothModes<T>(o: PlanOutcome, f: (result: T, run: Ok) => number): { direct: Val; tunnel: Val } {
  return { direct: pick(o.direct, f), tunnel: pick(o.tunnel, f) };
}

/** Calls `visit` with the result of each mode whose run succeeded, direct first. */
export function forEachResult<T>(o: PlanOutcome, visit: (mode: Mode, result: T, run: Ok) => void): void {
  for (const mode of MODES) {
    const run = o[mode];
    if (run?.ok) visit(mode, run.result as T, run);
  }
}

export function resultOf<T>(run: RunOutcome | null): T | null {
  return run && run.ok ? (run.result as T) : null;
}

/** "client X µs, relay Y µs": the tunnel run's CPU time per operation; null without a CPU reading. */
export function tunnelCpuPer<T>(o: PlanOutcome, operations: (result: T) => number, digits: number): string | null {
  const run = o.tunnel?.ok ? o.tunnel : null;
  const result = resultOf<T>(run);
  if (!run?.cpu || !result) return null;
  const count = operations(result);
  const us = (sec: number): string => ((sec / count) * 1e6).toFixed(digits);
  return `client ${us(run.cpu.clientSec)} µs, relay ${us(run.cpu.relaySec)} µs`;
}

/** "figure = ratio× direct" through the reference route, or null when either run has no figure. */
export function referenceVsDirect<T>(o: PlanOutcome, f: (result: T) => number, format: (v: number) => string, through: RunOutcome | null = o.reference): string | null {
  const direct = resultOf<T>(o.direct);
  const reference = resultOf<T>(through);
  if (!direct || !reference) return null;
  return `${format(f(reference))} = ${compact(f(reference) / f(direct))}× direct`;
}

/** Relay+client RSS growth between two checkpoints, divided by `per`. */
export function rssGrowthKiB(run: Ok, from: string, to: string, per = 1): number {
  const a = run.checkpoints[from];
  const b = run.checkpoints[to];
  return a && b ? (b.totalKiB - a.totalKiB) / per : NaN;
}

export function describeRss(point: RssPoint | undefined): string {
  return point ? `relay ${fixed(point.relayKiB / KIB_PER_MIB, 1)} MiB + client ${fixed(point.clientKiB / KIB_PER_MIB, 1)} MiB` : 'n/a';
}

export function describeCpuPerGiB(cpu: NonNullable<BulkResult['cpuPerGiB']>): string {
  const one = (c: ProcessCpu): string => `${(c.clientSec + c.relaySec).toFixed(2)} s (client ${c.clientSec.toFixed(2)}, relay ${c.relaySec.toFixed(2)})`;
  return `upload ${one(cpu.upload)}, download ${one(cpu.download)}`;
}

export function describeCpu(cpu: CpuUse): string {
  const share = (sec: number): string => `${((100 * sec) / cpu.wallSec).toFixed(0)} %`;
  return `CPU over the ${cpu.wallSec.toFixed(1)} s run: client ${cpu.clientSec.toFixed(2)} s (${share(cpu.clientSec)} of a core), relay ${cpu.relaySec.toFixed(2)} s (${share(cpu.relaySec)})`;
}

export const int = (v: number): string => v.toFixed(0);
export const percent = (v: number): string => `${(v * 100).toFixed(1)} %`;
/** Loss is usually tiny: two decimals, so 0.04 % does not read as 0. */
export const lossPercent = (v: number): string => `${(v * 100).toFixed(2)} %`;
/** Figures measured for information, with no threshold. */
export const REPORT_ONLY = { targetText: 'none given', verdict: 'report' } as const;
