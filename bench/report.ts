/**
 * Turns the outcomes of every scenario into table rows (direct, tunnel, ratio, target,
 * verdict) and notes (failures, capped transfers, memory details).
 */
import type { ScenarioPlan } from './plan.js';
import type { CpuUse, RssPoint, RunOutcome } from './runner.js';
import type { BindResult } from './scenarios/bind.js';
import type { BulkParams, BulkResult } from './scenarios/bulk.js';
import type { ConcurrentResult } from './scenarios/concurrent.js';
import type { IdleResult } from './scenarios/idle.js';
import type { LatencyResult } from './scenarios/latency.js';
import type { RoundTripResult } from './scenarios/roundtrips.js';
import type { StalledResult } from './scenarios/stalled.js';
import type { UdpResult, UdpSizeResult } from './scenarios/udp.js';
import { compact, fixed } from './stats.js';
import type { Row } from './table.js';

export interface PlanOutcome {
  plan: ScenarioPlan;
  direct: RunOutcome | null;
  tunnel: RunOutcome | null;
  /** Through two plain forwarders (forwarder-chain.ts), for scale; null when not run. */
  reference: RunOutcome | null;
  /** Why the scenario did not run at all. */
  skipped: string | null;
}

export interface Report {
  rows: Row[];
  notes: string[];
  /** Some run failed outright (timeout, crash, error). */
  anyFailed: boolean;
}

type Ok = Extract<RunOutcome, { ok: true }>;
/** A figure: a number, a failed run, or nothing to show (not applicable / skipped). */
type Val = number | 'FAILED' | null;

interface Metric {
  figure: string;
  direct: Val;
  tunnel: Val;
  format(value: number): string;
  /** Show tunnel/direct. */
  ratio?: boolean;
  target?: string;
  /** The issue's target; absent for figures shown for information. */
  pass?(direct: number | null, tunnel: number): boolean;
  /** The verdict of a figure without a target (e.g. "report"), unless a run failed. */
  verdict?: string;
}

const KIB_PER_MIB = 1024;

export function buildReport(outcomes: readonly PlanOutcome[]): Report {
  const rows: Row[] = [];
  const notes: string[] = [];
  let anyFailed = false;
  for (const outcome of outcomes) {
    const { plan } = outcome;
    for (const [mode, run] of [['direct', outcome.direct], ['tunnel', outcome.tunnel]] as const) {
      if (run && !run.ok) {
        anyFailed = true;
        notes.push(`#${plan.id} ${mode}: FAILED: ${run.reason}`);
      }
    }
    if (outcome.reference && !outcome.reference.ok) notes.push(`#${plan.id} reference: FAILED: ${outcome.reference.reason}`);
    if (outcome.skipped) notes.push(`#${plan.id} skipped: ${outcome.skipped}`);
    if (outcome.tunnel?.ok && outcome.tunnel.cpu) notes.push(`#${plan.id} tunnel: ${describeCpu(outcome.tunnel.cpu)}`);
    const metrics = METRICS[plan.scenario](outcome, notes);
    for (const metric of metrics) rows.push(toRow(plan.id, metric, outcome.skipped !== null));
  }
  return { rows, notes, anyFailed };
}

function toRow(id: string, m: Metric, skipped: boolean): Row {
  const cell = (v: Val): string => (v === null ? (skipped ? 'skipped' : '—') : v === 'FAILED' ? 'FAILED' : m.format(v));
  const both = typeof m.direct === 'number' && typeof m.tunnel === 'number';
  const ratio = m.ratio && both ? `${compact((m.tunnel as number) / (m.direct as number))}×` : '';
  let verdict = '';
  if (skipped) verdict = 'SKIPPED';
  else if (m.direct === 'FAILED' || m.tunnel === 'FAILED') verdict = 'FAILED';
  else if (m.pass && typeof m.tunnel === 'number' && Number.isFinite(m.tunnel)) {
    verdict = m.pass(typeof m.direct === 'number' ? m.direct : null, m.tunnel) ? 'PASS' : 'FALL SHORT';
  } else if (m.verdict) verdict = m.verdict;
  return { id, figure: m.figure, direct: cell(m.direct), tunnel: cell(m.tunnel), ratio, target: m.target ?? '', verdict };
}

function pick<T>(run: RunOutcome | null, f: (result: T, run: Ok) => number): Val {
  if (run === null) return null;
  if (!run.ok) return 'FAILED';
  return f(run.result as T, run);
}

function resultOf<T>(run: RunOutcome | null): T | null {
  return run && run.ok ? (run.result as T) : null;
}

/** "figure = ratio× direct" through the reference route, or null when either run has no figure. */
function referenceVsDirect<T>(o: PlanOutcome, f: (result: T) => number, format: (v: number) => string): string | null {
  const direct = resultOf<T>(o.direct);
  const reference = resultOf<T>(o.reference);
  if (!direct || !reference) return null;
  return `${format(f(reference))} = ${compact(f(reference) / f(direct))}× direct`;
}

const REFERENCE = 'reference, two plain Node forwarders in series (no SOCKS, no WebSocket)';

/** Relay+client RSS growth between two checkpoints, divided by `per`. */
function rssGrowthKiB(run: Ok, from: string, to: string, per = 1): number {
  const a = run.checkpoints[from];
  const b = run.checkpoints[to];
  return a && b ? (b.totalKiB - a.totalKiB) / per : NaN;
}

function describeRss(point: RssPoint | undefined): string {
  return point ? `relay ${fixed(point.relayKiB / KIB_PER_MIB, 1)} MiB + client ${fixed(point.clientKiB / KIB_PER_MIB, 1)} MiB` : 'n/a';
}

function describeCpu(cpu: CpuUse): string {
  const share = (sec: number): string => `${((100 * sec) / cpu.wallSec).toFixed(0)} %`;
  return `CPU over the ${cpu.wallSec.toFixed(1)} s run: client ${cpu.clientSec.toFixed(2)} s (${share(cpu.clientSec)} of a core), relay ${cpu.relaySec.toFixed(2)} s (${share(cpu.relaySec)})`;
}

const ratioAtLeast = (share: number) => (d: number | null, t: number) => d !== null && t >= share * d;
const ratioAtMost = (share: number) => (d: number | null, t: number) => d !== null && t <= share * d;
const int = (v: number): string => v.toFixed(0);
const percent = (v: number): string => `${(v * 100).toFixed(1)} %`;
/** Loss is usually tiny: two decimals, so 0.04 % does not read as 0. */
const lossPercent = (v: number): string => `${(v * 100).toFixed(2)} %`;
/** Figures the issue asks for without a target. */
const REPORT_ONLY = { target: 'none given', verdict: 'report' } as const;

const METRICS: Record<ScenarioPlan['scenario'], (o: PlanOutcome, notes: string[]) => Metric[]> = {
  bulk(o, notes) {
    for (const [mode, run] of [['direct', o.direct], ['tunnel', o.tunnel]] as const) {
      const r = resultOf<BulkResult>(run);
      if (!r) continue;
      const sizes = `${fixed(r.uploads[0].bytes / 2 ** 20, 0)} / ${fixed(r.downloads[0].bytes / 2 ** 20, 0)} MiB per run`;
      notes.push(`#1 ${mode}: uploads ${r.uploads.map((t) => compact(t.mbps)).join(' / ')} MB/s, downloads ${r.downloads.map((t) => compact(t.mbps)).join(' / ')} MB/s (the best counts; ${sizes})`);
      for (const t of [...r.uploads, ...r.downloads].filter((x) => x.capped)) {
        notes.push(`#1 ${mode}: a transfer hit the time cap after ${fixed(t.bytes / 2 ** 20, 0)} MiB; its rate is of what arrived`);
      }
    }
    const mbps = (v: number): string => `${compact(v)} MB/s`;
    const up = referenceVsDirect<BulkResult>(o, (r) => r.upload.mbps, mbps);
    const down = referenceVsDirect<BulkResult>(o, (r) => r.download.mbps, mbps);
    if (up && down) notes.push(`#1 ${REFERENCE}: upload ${up}, download ${down}`);
    const target = '≥ 0.25× direct';
    const repeats = (o.plan.params as unknown as BulkParams).repeats;
    return [
      { figure: `Bulk upload, 1 stream, best of ${repeats} (MB/s)`, direct: pick<BulkResult>(o.direct, (r) => r.upload.mbps), tunnel: pick<BulkResult>(o.tunnel, (r) => r.upload.mbps), format: compact, ratio: true, target, pass: ratioAtLeast(0.25) },
      { figure: `Bulk download, 1 stream, best of ${repeats} (MB/s)`, direct: pick<BulkResult>(o.direct, (r) => r.download.mbps), tunnel: pick<BulkResult>(o.tunnel, (r) => r.download.mbps), format: compact, ratio: true, target, pass: ratioAtLeast(0.25) },
    ];
  },
  latency(o, notes) {
    for (const [mode, run] of [['direct', o.direct], ['tunnel', o.tunnel]] as const) {
      const r = resultOf<LatencyResult>(run);
      if (r && r.failures > 0) notes.push(`#2 ${mode}: ${r.failures} of 1000 connects failed (${r.errors || 'ran out of time'})`);
      if (r) notes.push(`#2 ${mode}: p90 ${compact(r.p90Ms)} ms, max ${compact(r.maxMs)} ms`);
    }
    const t = o.tunnel?.ok ? o.tunnel : null;
    const lat = resultOf<LatencyResult>(t);
    if (t?.cpu && lat) {
      const connects = lat.attempted + o.plan.params.warmup;
      const us = (sec: number): string => ((sec / connects) * 1e6).toFixed(0);
      notes.push(`#2 tunnel: CPU per connect (incl. warm-up): client ${us(t.cpu.clientSec)} µs, relay ${us(t.cpu.relaySec)} µs`);
    }
    const reference = referenceVsDirect<LatencyResult>(o, (r) => r.p50Ms, (v) => `${compact(v)} ms`);
    if (reference) notes.push(`#2 ${REFERENCE}: p50 ${reference}`);
    const p = (f: (r: LatencyResult) => number) => [pick<LatencyResult>(o.direct, f), pick<LatencyResult>(o.tunnel, f)] as const;
    const [d50, t50] = p((r) => r.p50Ms);
    const [d99, t99] = p((r) => r.p99Ms);
    const [dFail, tFail] = p((r) => r.failures);
    return [
      { figure: 'Connect + 1 B echo, p50 (ms)', direct: d50, tunnel: t50, format: compact, ratio: true, target: '≤ 2.5× direct', pass: ratioAtMost(2.5) },
      { figure: 'Connect + 1 B echo, p99 (ms)', direct: d99, tunnel: t99, format: compact, ratio: true },
      { figure: 'Connect failures (of 1000)', direct: dFail, tunnel: tFail, format: int },
    ];
  },
  roundtrips(o, notes) {
    for (const [mode, run] of [['direct', o.direct], ['tunnel', o.tunnel]] as const) {
      const r = resultOf<RoundTripResult>(run);
      if (r && r.streamsFailed > 0) notes.push(`#3 ${mode}: ${r.streamsFailed} of 8 streams broke or stalled`);
      if (r) notes.push(`#3 ${mode}: mean round trip per stream ${compact(r.meanRttUs)} µs`);
    }
    const t = o.tunnel?.ok ? o.tunnel : null;
    const rt = resultOf<RoundTripResult>(t);
    if (t?.cpu && rt) {
      // Round trips also ran during the warm-up, at about the measured rate.
      const total = rt.perSecond * ((o.plan.params.warmupMs + o.plan.params.durationMs) / 1000);
      const us = (sec: number): string => ((sec / total) * 1e6).toFixed(1);
      notes.push(`#3 tunnel: CPU per round trip ≈ client ${us(t.cpu.clientSec)} µs, relay ${us(t.cpu.relaySec)} µs`);
    }
    const reference = referenceVsDirect<RoundTripResult>(o, (r) => r.perSecond, (v) => `${int(v)} round trips/s`);
    if (reference) notes.push(`#3 ${REFERENCE}: ${reference}`);
    return [
      { figure: '64 B round trips/s, 8 streams', direct: pick<RoundTripResult>(o.direct, (r) => r.perSecond), tunnel: pick<RoundTripResult>(o.tunnel, (r) => r.perSecond), format: int, ratio: true, target: '≥ 0.30× direct', pass: ratioAtLeast(0.3) },
    ];
  },
  concurrent(o, notes) {
    for (const [mode, run] of [['direct', o.direct], ['tunnel', o.tunnel]] as const) {
      const r = resultOf<ConcurrentResult>(run);
      if (r && r.failures > 0) notes.push(`#4 ${mode}: ${r.failures} failed: ${r.errors}`);
      if (r) notes.push(`#4 ${mode}: per-stream time to echo from the common start: p50 ${compact(r.p50Ms)} ms, p99 ${compact(r.p99Ms)} ms`);
    }
    if (o.tunnel?.ok) notes.push(`#4 tunnel RSS: before ${describeRss(o.tunnel.checkpoints.before)}; all open ${describeRss(o.tunnel.checkpoints.open)}`);
    return [
      { figure: '1000 at once: wall time to all echoed (ms)', direct: pick<ConcurrentResult>(o.direct, (r) => r.wallMs), tunnel: pick<ConcurrentResult>(o.tunnel, (r) => r.wallMs), format: int, ratio: true },
      { figure: '1000 at once: failures', direct: pick<ConcurrentResult>(o.direct, (r) => r.failures), tunnel: pick<ConcurrentResult>(o.tunnel, (r) => r.failures), format: int, target: '0', pass: (_d, t) => t === 0 },
      {
        figure: '1000 at once: relay+client RSS/stream (KiB)',
        direct: null,
        tunnel: pick<ConcurrentResult>(o.tunnel, (r, run) => rssGrowthKiB(run, 'before', 'open', r.opened)),
        format: compact,
        target: '≤ 64 KiB',
        pass: (_d, t) => t <= 64,
      },
    ];
  },
  idle(o, notes) {
    for (const [mode, run] of [['direct', o.direct], ['tunnel', o.tunnel]] as const) {
      const r = resultOf<IdleResult>(run);
      if (r && (r.failures > 0 || r.servedWhileHeld < r.opened)) notes.push(`#5 ${mode}: ${r.failures} failed to open, ${r.opened - r.servedWhileHeld} not served on re-check: ${r.errors}`);
      if (r) notes.push(`#5 ${mode}: re-check of all ${r.opened} held streams took ${int(r.recheckMs)} ms`);
    }
    if (o.tunnel?.ok) notes.push(`#5 tunnel RSS: before ${describeRss(o.tunnel.checkpoints.before)}; all open ${describeRss(o.tunnel.checkpoints.open)}`);
    const lost = (r: IdleResult): number => r.failures + (r.opened - r.servedWhileHeld);
    return [
      { figure: '10k idle: time to open + echo all (s)', direct: pick<IdleResult>(o.direct, (r) => r.openMs / 1000), tunnel: pick<IdleResult>(o.tunnel, (r) => r.openMs / 1000), format: compact, ratio: true },
      { figure: '10k idle: not served (open + re-check)', direct: pick<IdleResult>(o.direct, lost), tunnel: pick<IdleResult>(o.tunnel, lost), format: int, target: '0 (all served)', pass: (_d, t) => t === 0 },
      { figure: '10k idle: relay+client RSS/stream (KiB)', direct: null, tunnel: pick<IdleResult>(o.tunnel, (r, run) => rssGrowthKiB(run, 'before', 'open', r.opened)), format: compact, target: 'report' },
    ];
  },
  stalled(o, notes) {
    for (const [mode, run] of [['direct', o.direct], ['tunnel', o.tunnel]] as const) {
      const r = resultOf<StalledResult>(run);
      if (r && !r.stalledStreamAlive) notes.push(`#6 ${mode}: stalled stream A had been closed before it was released`);
      if (r) notes.push(`#6 ${mode}: B alone ${r.solo.map((t) => compact(t.mbps)).join(' / ')} MB/s, with A stalled ${r.withStall.map((t) => compact(t.mbps)).join(' / ')} MB/s (medians compared)`);
    }
    if (o.tunnel?.ok) {
      const c = o.tunnel.checkpoints;
      const idleGrowth = rssGrowthKiB(o.tunnel, 'stalled', 'stalled-later') / KIB_PER_MIB;
      const pause = (o.plan.params.settleMs / 1000).toFixed(1);
      notes.push(`#6 tunnel: relay+client RSS change over ${pause} s with only A (stalled) open: ${compact(idleGrowth)} MiB (flat means A's backlog is bounded)`);
      notes.push(`#6 tunnel RSS: before A ${describeRss(c['before-stall'])}; A stalled ${describeRss(c.stalled)}; ${pause} s later ${describeRss(c['stalled-later'])}; after the last B ${describeRss(c['stalled-end'])}; peak ${describeRss(o.tunnel.peak ?? undefined)}`);
    }
    return [
      { figure: 'B 256 MiB download alone, median (MB/s)', direct: pick<StalledResult>(o.direct, (r) => r.soloMbps), tunnel: pick<StalledResult>(o.tunnel, (r) => r.soloMbps), format: compact, ratio: true },
      { figure: 'B with A stalled, median (MB/s)', direct: pick<StalledResult>(o.direct, (r) => r.withStallMbps), tunnel: pick<StalledResult>(o.tunnel, (r) => r.withStallMbps), format: compact, ratio: true },
      { figure: "B's throughput lost to stalled A", direct: pick<StalledResult>(o.direct, (r) => r.cost), tunnel: pick<StalledResult>(o.tunnel, (r) => r.cost), format: percent, target: '< 10 %', pass: (_d, t) => t < 0.1 },
      {
        figure: 'relay+client RSS growth, A stalled (MiB)',
        direct: null,
        tunnel: pick<StalledResult>(o.tunnel, (_r, run) => rssGrowthKiB(run, 'before-stall', 'stalled-end') / KIB_PER_MIB),
        format: compact,
        target: 'bounded: ≤ 32 MiB',
        pass: (_d, t) => t <= 32,
      },
    ];
  },
  udp(o, notes) {
    const sizeOf = (r: UdpResult, bytes: number): UdpSizeResult | undefined => r.sizes.find((x) => x.payloadBytes === bytes);
    const sizes = [o.plan.params.smallBytes, o.plan.params.largeBytes];
    for (const [mode, run] of [['direct', o.direct], ['tunnel', o.tunnel]] as const) {
      const r = resultOf<UdpResult>(run);
      if (!r) continue;
      for (const x of r.sizes) {
        const odd = [x.late > 0 ? `${x.late} came back after their timeout` : '', x.garbled > 0 ? `${x.garbled} garbled replies` : ''].filter(Boolean).join(', ');
        notes.push(
          `#7 ${mode}: ${x.payloadBytes} B: ${x.lostMeasured} of ${x.sentMeasured} lost (no reply within ${o.plan.params.datagramTimeoutMs} ms), ` +
            `RTT p50 ${compact(x.rttP50Us)} µs, p99 ${compact(x.rttP99Us)} µs${odd ? `; ${odd}` : ''}`,
        );
      }
    }
    const t = o.tunnel?.ok ? o.tunnel : null;
    const udp = resultOf<UdpResult>(t);
    if (t?.cpu && udp) {
      // Each datagram crosses client and relay twice: out to the echo and back.
      const total = udp.sizes.reduce((sum, x) => sum + x.sentTotal, 0);
      const us = (sec: number): string => ((sec / total) * 1e6).toFixed(1);
      notes.push(`#7 tunnel: CPU per echoed datagram (incl. warm-up and association setup): client ${us(t.cpu.clientSec)} µs, relay ${us(t.cpu.relaySec)} µs`);
    }
    const window = o.plan.params.window;
    return sizes.flatMap((bytes): Metric[] => {
      const f = (g: (x: UdpSizeResult) => number) => (r: UdpResult): number => {
        const x = sizeOf(r, bytes);
        return x ? g(x) : NaN;
      };
      return [
        { figure: `UDP ${bytes} B echoed datagrams/s, window ${window}`, direct: pick<UdpResult>(o.direct, f((x) => x.perSecond)), tunnel: pick<UdpResult>(o.tunnel, f((x) => x.perSecond)), format: int, ratio: true, ...REPORT_ONLY },
        { figure: `UDP ${bytes} B datagrams lost`, direct: pick<UdpResult>(o.direct, f((x) => x.lossRate)), tunnel: pick<UdpResult>(o.tunnel, f((x) => x.lossRate)), format: lossPercent, ...REPORT_ONLY },
      ];
    });
  },
  // Placeholder so the 'wan' scenario type-checks; its figures are the lead's to wire (see bench/scenarios/wan.ts).
  wan: () => [],
  bind(o, notes) {
    const count = o.plan.params.count;
    for (const [mode, run] of [['direct', o.direct], ['tunnel', o.tunnel]] as const) {
      const r = resultOf<BindResult>(run);
      if (!r) continue;
      if (r.failures > 0) notes.push(`#8 ${mode}: ${r.failures} of ${count} BINDs failed (${r.errors || 'ran out of time'})`);
      notes.push(
        `#8 ${mode}: to 1st reply p90 ${compact(r.listen.p90Ms)} ms, max ${compact(r.listen.maxMs)} ms; ` +
          `to 2nd reply p90 ${compact(r.accept.p90Ms)} ms, max ${compact(r.accept.maxMs)} ms`,
      );
    }
    const t = o.tunnel?.ok ? o.tunnel : null;
    const bind = resultOf<BindResult>(t);
    if (t?.cpu && bind) {
      const binds = bind.attempted + o.plan.params.warmup;
      const us = (sec: number): string => ((sec / binds) * 1e6).toFixed(0);
      notes.push(`#8 tunnel: CPU per BIND (greeting, both replies, 1-byte check; incl. warm-up): client ${us(t.cpu.clientSec)} µs, relay ${us(t.cpu.relaySec)} µs`);
    }
    const p = (f: (r: BindResult) => number) => [pick<BindResult>(o.direct, f), pick<BindResult>(o.tunnel, f)] as const;
    const row = (figure: string, f: (r: BindResult) => number): Metric => {
      const [direct, tunnel] = p(f);
      return { figure, direct, tunnel, format: compact, ratio: true, ...REPORT_ONLY };
    };
    const [dFail, tFail] = p((r) => r.failures);
    return [
      row('BIND → 1st reply (listening), p50 (ms)', (r) => r.listen.p50Ms),
      row('BIND → 1st reply (listening), p99 (ms)', (r) => r.listen.p99Ms),
      row('BIND → 2nd reply (peer accepted), p50 (ms)', (r) => r.accept.p50Ms),
      row('BIND → 2nd reply (peer accepted), p99 (ms)', (r) => r.accept.p99Ms),
      { figure: `BIND failures (of ${count})`, direct: dFail, tunnel: tFail, format: int },
    ];
  },
};
