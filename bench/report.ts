/**
 * Turns the outcomes of every scenario into table rows (direct, tunnel, ratio, target,
 * verdict) and notes (failures, capped transfers, memory details).
 */
import type { ScenarioPlan } from './plan.js';
import {
  describeCpu,
  describeCpuPerGiB,
  describeRss,
  forEachResult,
  inBothModes,
  int,
  KIB_PER_MIB,
  lossPercent,
  MODES,
  percent,
  pick,
  referenceVsDirect,
  REPORT_ONLY,
  resultOf,
  rssGrowthKiB,
  targetOf,
  tunnelCpuPer,
  type Metric,
  type PlanOutcome,
  type Val,
} from './report-kit.js';
import type { BindResult } from './scenarios/bind.js';
import type { BulkParams, BulkResult } from './scenarios/bulk.js';
import type { ConcurrentResult } from './scenarios/concurrent.js';
import type { FailoverResult } from './scenarios/failover.js';
import type { IdleResult } from './scenarios/idle.js';
import type { LatencyResult } from './scenarios/latency.js';
import type { RoundTripResult } from './scenarios/roundtrips.js';
import type { StalledResult } from './scenarios/stalled.js';
import type { UdpResult, UdpSizeResult } from './scenarios/udp.js';
import { describeRamp, type WanResult } from './scenarios/wan.js';
import type { ParallelResult } from './scenarios/parallel.js';
import { compact, fixed } from './stats.js';
import type { Row } from './table.js';

export type { PlanOutcome } from './report-kit.js';

export interface Report {
  rows: Row[];
  notes: string[];
  /** Some run failed outright (timeout, crash, error). */
  anyFailed: boolean;
}

export function buildReport(outcomes: readonly PlanOutcome[]): Report {
  const rows: Row[] = [];
  const notes: string[] = [];
  let anyFailed = false;
  for (const outcome of outcomes) {
    const { plan } = outcome;
    for (const mode of MODES) {
      const run = outcome[mode];
      if (run && !run.ok) {
        anyFailed = true;
        notes.push(`#${plan.id} ${mode}: FAILED: ${run.reason}`);
      }
    }
    for (const { workers, outcome: run } of outcome.byWorkers?.slice(1) ?? []) {
      if (run.ok) continue;
      anyFailed = true;
      notes.push(`#${plan.id} tunnel, ${workers} workers: FAILED: ${run.reason}`);
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
  else if (m.target && typeof m.tunnel === 'number' && Number.isFinite(m.tunnel)) {
    verdict = m.target.pass(typeof m.direct === 'number' ? m.direct : null, m.tunnel) ? 'PASS' : 'FALL SHORT';
  } else if (m.verdict) verdict = m.verdict;
  const target = m.target?.text ?? m.targetText ?? '';
  return { id, figure: m.figure, direct: cell(m.direct), tunnel: cell(m.tunnel), ratio, target, verdict };
}

const V2RAY = 'v2ray mux, V2Ray with VLESS over one WebSocket and mux.cool (no TLS)';

/** The V2Ray run's result; a note says why when it did not run or failed. */
function peerResult<T>(o: PlanOutcome, notes: string[]): T | null {
  const run = o.v2ray ?? null;
  if (run && !run.ok) notes.push(`#${o.plan.id} v2ray mux: not run: ${run.reason}`);
  return resultOf<T>(run);
}

const REFERENCE = 'reference, two plain Node forwarders in series (no SOCKS, no WebSocket)';
const SOCKS_REFERENCE = 'SOCKS reference, a SOCKS5 front answering at once (as fast open does) and one plain forwarder, no WebSocket';


const METRICS: Record<ScenarioPlan['scenario'], (o: PlanOutcome, notes: string[]) => Metric[]> = {
  bulk(o, notes) {
    const id = o.plan.id;
    forEachResult<BulkResult>(o, (mode, r) => {
      const sizes = `${fixed(r.uploads[0].bytes / 2 ** 20, 0)} / ${fixed(r.downloads[0].bytes / 2 ** 20, 0)} MiB per run`;
      notes.push(`#${id} ${mode}: uploads ${r.uploads.map((t) => compact(t.mbps)).join(' / ')} MB/s, downloads ${r.downloads.map((t) => compact(t.mbps)).join(' / ')} MB/s (the best counts; ${sizes})`);
      if (r.cpuPerGiB) notes.push(`#${id} ${mode}: CPU per GiB moved, client + relay: ${describeCpuPerGiB(r.cpuPerGiB)}`);
      for (const t of [...r.uploads, ...r.downloads].filter((x) => x.capped)) {
        notes.push(`#${id} ${mode}: a transfer hit the time cap after ${fixed(t.bytes / 2 ** 20, 0)} MiB; its rate is of what arrived`);
      }
    });
    const mbps = (v: number): string => `${compact(v)} MB/s`;
    const up = referenceVsDirect<BulkResult>(o, (r) => r.upload.mbps, mbps);
    const down = referenceVsDirect<BulkResult>(o, (r) => r.download.mbps, mbps);
    if (up && down) notes.push(`#${id} ${REFERENCE}: upload ${up}, download ${down}`);
    const naive = resultOf<BulkResult>(o.naive ?? null);
    if (naive) notes.push(`#${id} naive tunnel, one WebSocket per stream (ws + bufferutil + pipe()): upload ${mbps(naive.upload.mbps)}, download ${mbps(naive.download.mbps)}`);
    const v2ray = peerResult<BulkResult>(o, notes);
    if (v2ray) notes.push(`#${id} ${V2RAY}: upload ${mbps(v2ray.upload.mbps)}, download ${mbps(v2ray.download.mbps)}`);
    const repeats = (o.plan.params as unknown as BulkParams).repeats * (o.plan.rounds ?? 1);
    const tunnelUpload = pick<BulkResult>(o.tunnel, (r) => r.upload.mbps);
    const rows: Metric[] = [
      { figure: `Bulk upload, 1 stream, best of ${repeats} (MB/s)`, ...inBothModes<BulkResult>(o, (r) => r.upload.mbps), format: compact, ratio: true, target: targetOf(o.plan, 'upload') },
      { figure: `Bulk download, 1 stream, best of ${repeats} (MB/s)`, ...inBothModes<BulkResult>(o, (r) => r.download.mbps), format: compact, ratio: true, target: targetOf(o.plan, 'download') },
      { figure: 'Bulk upload ÷ download, tunnel', direct: null, tunnel: pick<BulkResult>(o.tunnel, (r) => (r.download.mbps > 0 ? r.upload.mbps / r.download.mbps : NaN)), format: (v) => `${fixed(v, 2)}×`, target: targetOf(o.plan, 'uploadShare') },
    ];
    if (naive) rows.push({ figure: 'Bulk upload, naive tunnel in Direct (MB/s)', direct: naive.upload.mbps, tunnel: tunnelUpload, format: compact, ratio: true, target: targetOf(o.plan, 'vsNaive') });
    return rows;
  },
  latency(o, notes) {
    const id = o.plan.id;
    forEachResult<LatencyResult>(o, (mode, r) => {
      if (r.failures > 0) notes.push(`#${id} ${mode}: ${r.failures} of ${o.plan.params.count * (o.plan.rounds ?? 1)} connects failed (${r.errors || 'ran out of time'})`);
      notes.push(`#${id} ${mode}: p90 ${compact(r.p90Ms)} ms, max ${compact(r.maxMs)} ms`);
    });
    const rounds = o.plan.rounds ?? 1;
    const cpu = tunnelCpuPer<LatencyResult>(o, (r) => r.attempted + o.plan.params.warmup * rounds, 0);
    if (cpu) notes.push(`#${id} tunnel: CPU per connect (incl. warm-up): ${cpu}`);
    const reference = referenceVsDirect<LatencyResult>(o, (r) => r.p50Ms, (v) => `${compact(v)} ms`);
    if (reference) notes.push(`#${id} ${REFERENCE}: p50 ${reference}`);
    const socksReference = referenceVsDirect<LatencyResult>(o, (r) => r.p50Ms, (v) => `${compact(v)} ms`, o.socksReference ?? null);
    if (socksReference) notes.push(`#${id} ${SOCKS_REFERENCE}: p50 ${socksReference}`);
    const rows: Metric[] = [
      { figure: 'Connect + 1 B echo, p50 (ms)', ...inBothModes<LatencyResult>(o, (r) => r.p50Ms), format: compact, ratio: true, target: targetOf(o.plan, 'p50') },
      { figure: 'Connect + 1 B echo, p99 (ms)', ...inBothModes<LatencyResult>(o, (r) => r.p99Ms), format: compact, ratio: true },
      { figure: `Connect failures (of ${o.plan.params.count * (o.plan.rounds ?? 1)})`, ...inBothModes<LatencyResult>(o, (r) => r.failures), format: int },
    ];
    const v2ray = peerResult<LatencyResult>(o, notes);
    if (v2ray) {
      notes.push(`#${id} ${V2RAY}: p50 ${compact(v2ray.p50Ms)} ms, p90 ${compact(v2ray.p90Ms)} ms, p99 ${compact(v2ray.p99Ms)} ms, ${v2ray.failures} failed`);
      const against = o.plan.targets?.vsV2ray ? { target: o.plan.targets.vsV2ray } : REPORT_ONLY;
      rows.push({ figure: 'Connect + 1 B echo, p50, v2ray mux in Direct (ms)', direct: v2ray.p50Ms, tunnel: pick<LatencyResult>(o.tunnel, (r) => r.p50Ms), format: compact, ratio: true, ...against });
    }
    return rows;
  },
  roundtrips(o, notes) {
    const id = o.plan.id;
    forEachResult<RoundTripResult>(o, (mode, r) => {
      if (r.streamsFailed > 0) notes.push(`#${id} ${mode}: ${r.streamsFailed} of 8 streams broke or stalled`);
      notes.push(`#${id} ${mode}: mean round trip per stream ${compact(r.meanRttUs)} µs`);
    });
    // Round trips also ran during the warm-up, at about the measured rate.
    const seconds = (o.plan.params.warmupMs + o.plan.params.durationMs) / 1000;
    const cpu = tunnelCpuPer<RoundTripResult>(o, (r) => r.perSecond * seconds, 1);
    if (cpu) notes.push(`#${id} tunnel: CPU per round trip ≈ ${cpu}`);
    const reference = referenceVsDirect<RoundTripResult>(o, (r) => r.perSecond, (v) => `${int(v)} round trips/s`);
    if (reference) notes.push(`#${id} ${REFERENCE}: ${reference}`);
    return [
      { figure: '64 B round trips/s, 8 streams', ...inBothModes<RoundTripResult>(o, (r) => r.perSecond), format: int, ratio: true, target: targetOf(o.plan, 'perSecond') },
    ];
  },
  concurrent(o, notes) {
    const id = o.plan.id;
    forEachResult<ConcurrentResult>(o, (mode, r) => {
      if (r.failures > 0) notes.push(`#${id} ${mode}: ${r.failures} failed: ${r.errors}`);
      notes.push(`#${id} ${mode}: per-stream time to echo from the common start: p50 ${compact(r.p50Ms)} ms, p99 ${compact(r.p99Ms)} ms`);
    });
    if (o.tunnel?.ok) notes.push(`#${id} tunnel RSS: before ${describeRss(o.tunnel.checkpoints.before)}; all open ${describeRss(o.tunnel.checkpoints.open)}`);
    return [
      { figure: '1000 at once: wall time to all echoed (ms)', ...inBothModes<ConcurrentResult>(o, (r) => r.wallMs), format: int, ratio: true },
      { figure: '1000 at once: failures', ...inBothModes<ConcurrentResult>(o, (r) => r.failures), format: int, target: targetOf(o.plan, 'failures') },
      {
        figure: '1000 at once: relay+client RSS/stream (KiB)',
        direct: null,
        tunnel: pick<ConcurrentResult>(o.tunnel, (r, run) => rssGrowthKiB(run, 'before', 'open', r.opened)),
        format: compact,
        target: targetOf(o.plan, 'rssPerStreamKiB'),
      },
    ];
  },
  idle(o, notes) {
    const id = o.plan.id;
    forEachResult<IdleResult>(o, (mode, r) => {
      if (r.failures > 0 || r.servedWhileHeld < r.opened) notes.push(`#${id} ${mode}: ${r.failures} failed to open, ${r.opened - r.servedWhileHeld} not served on re-check: ${r.errors}`);
      notes.push(`#${id} ${mode}: re-check of all ${r.opened} held streams took ${int(r.recheckMs)} ms`);
    });
    if (o.tunnel?.ok) notes.push(`#${id} tunnel RSS: before ${describeRss(o.tunnel.checkpoints.before)}; all open ${describeRss(o.tunnel.checkpoints.open)}`);
    const lost = (r: IdleResult): number => r.failures + (r.opened - r.servedWhileHeld);
    const pooled = o.plan.clientArgs?.includes('--tunnels') === true;
    const label = `${(o.plan.params.count ?? 0) / 1000}k idle${pooled ? ` (${o.plan.clientArgs!.join(' ')})` : ''}`;
    const rows: Metric[] = [
      { figure: `${label}: time to open + echo all (s)`, ...inBothModes<IdleResult>(o, (r) => r.openMs / 1000), format: compact, ratio: true },
      { figure: `${label}: not served (open + re-check)`, ...inBothModes<IdleResult>(o, lost), format: int, target: targetOf(o.plan, 'notServed') },
      { figure: `${label}: relay+client RSS/stream (KiB)`, direct: null, tunnel: pick<IdleResult>(o.tunnel, (r, run) => rssGrowthKiB(run, 'before', 'open', r.opened)), format: compact, targetText: 'report' },
    ];
    // Figures 16/16t: the tunnels' own cost is there before the streams open, so the whole RSS is what compares across --tunnels.
    if (pooled) rows.push({ figure: `${label}: relay+client RSS, all open (MiB)`, direct: null, tunnel: pick<IdleResult>(o.tunnel, (_r, run) => (run.checkpoints.open?.totalKiB ?? NaN) / KIB_PER_MIB), format: compact, targetText: 'report' });
    return rows;
  },
  stalled(o, notes) {
    const id = o.plan.id;
    forEachResult<StalledResult>(o, (mode, r) => {
      if (!r.stalledStreamAlive) notes.push(`#${id} ${mode}: stalled stream A had been closed before it was released`);
      notes.push(`#${id} ${mode}: B alone ${r.solo.map((t) => compact(t.mbps)).join(' / ')} MB/s, with A stalled ${r.withStall.map((t) => compact(t.mbps)).join(' / ')} MB/s (medians compared)`);
    });
    if (o.tunnel?.ok) {
      const c = o.tunnel.checkpoints;
      const idleGrowth = rssGrowthKiB(o.tunnel, 'stalled', 'stalled-later') / KIB_PER_MIB;
      const pause = (o.plan.params.settleMs / 1000).toFixed(1);
      notes.push(`#${id} tunnel: relay+client RSS change over ${pause} s with only A (stalled) open: ${compact(idleGrowth)} MiB (flat means A's backlog is bounded)`);
      notes.push(`#${id} tunnel RSS: before A ${describeRss(c['before-stall'])}; A stalled ${describeRss(c.stalled)}; ${pause} s later ${describeRss(c['stalled-later'])}; after the last B ${describeRss(c['stalled-end'])}; peak ${describeRss(o.tunnel.peak ?? undefined)}`);
    }
    return [
      { figure: `B ${o.plan.params.bytes / (KIB_PER_MIB * KIB_PER_MIB)} MiB download alone, median (MB/s)`, ...inBothModes<StalledResult>(o, (r) => r.soloMbps), format: compact, ratio: true },
      { figure: 'B with A stalled, median (MB/s)', ...inBothModes<StalledResult>(o, (r) => r.withStallMbps), format: compact, ratio: true },
      { figure: "B's throughput lost to stalled A", ...inBothModes<StalledResult>(o, (r) => r.cost), format: percent, target: targetOf(o.plan, 'cost') },
      {
        figure: 'relay+client RSS growth, A stalled (MiB)',
        direct: null,
        tunnel: pick<StalledResult>(o.tunnel, (_r, run) => rssGrowthKiB(run, 'before-stall', 'stalled-end') / KIB_PER_MIB),
        format: compact,
        target: targetOf(o.plan, 'rssGrowthMiB'),
      },
    ];
  },
  udp(o, notes) {
    const id = o.plan.id;
    const sizeOf = (r: UdpResult, bytes: number): UdpSizeResult | undefined => r.sizes.find((x) => x.payloadBytes === bytes);
    const sizes = [o.plan.params.smallBytes, o.plan.params.largeBytes];
    forEachResult<UdpResult>(o, (mode, r) => {
      for (const x of r.sizes) {
        const odd = [x.late > 0 ? `${x.late} came back after their timeout` : '', x.garbled > 0 ? `${x.garbled} garbled replies` : ''].filter(Boolean).join(', ');
        notes.push(
          `#${id} ${mode}: ${x.payloadBytes} B: ${x.lostMeasured} of ${x.sentMeasured} lost (no reply within ${o.plan.params.datagramTimeoutMs} ms), ` +
            `RTT p50 ${compact(x.rttP50Us)} µs, p99 ${compact(x.rttP99Us)} µs${odd ? `; ${odd}` : ''}`,
        );
      }
    });
    // Each datagram crosses client and relay twice: out to the echo and back.
    const cpu = tunnelCpuPer<UdpResult>(o, (r) => r.sizes.reduce((sum, x) => sum + x.sentTotal, 0), 1);
    if (cpu) notes.push(`#${id} tunnel: CPU per echoed datagram (incl. warm-up and association setup): ${cpu}`);
    const window = o.plan.params.window;
    return sizes.flatMap((bytes): Metric[] => {
      const f = (g: (x: UdpSizeResult) => number) => (r: UdpResult): number => {
        const x = sizeOf(r, bytes);
        return x ? g(x) : NaN;
      };
      return [
        { figure: `UDP ${bytes} B echoed datagrams/s, window ${window}`, ...inBothModes<UdpResult>(o, f((x) => x.perSecond)), format: int, ratio: true, ...REPORT_ONLY },
        { figure: `UDP ${bytes} B datagrams lost`, ...inBothModes<UdpResult>(o, f((x) => x.lossRate)), format: lossPercent, ...REPORT_ONLY },
      ];
    });
  },
  wan(o, notes) {
    // Across a link, the direct column holds plain TCP over the same link (run.ts).
    const id = o.plan.id;
    for (const [mode, run] of [['plain TCP', o.direct], ['tunnel', o.tunnel]] as const) {
      const r = resultOf<WanResult>(run);
      if (!r) continue;
      notes.push(`#${id} ${mode}: down ${describeRamp(r.download)}; up ${describeRamp(r.upload)}`);
      notes.push(`#${id} ${mode}: ${r.parallel.streams} streams: ${describeRamp(r.parallel)}; each ${r.parallel.perStreamMeanMibps.map(compact).join(' / ')} MiB/s`);
    }
    if (o.tunnel?.ok) notes.push(`#${id} tunnel RSS: before ${describeRss(o.tunnel.checkpoints.before)}; after ${describeRss(o.tunnel.checkpoints.after)}; peak ${describeRss(o.tunnel.peak ?? undefined)}`);
    const mibps = (v: number): string => `${compact(v)} MiB/s`;
    const seconds = (v: number): string => `${fixed(v / 1000, 2)} s`;
    const rate = (figure: string, f: (r: WanResult) => number, target?: string): Metric => ({
      figure,
      direct: pick<WanResult>(o.direct, f),
      tunnel: pick<WanResult>(o.tunnel, f),
      format: mibps,
      ratio: true,
      ...(target ? { target: targetOf(o.plan, target) } : REPORT_ONLY),
    });
    const window = (figure: string, side: 'relay' | 'client'): Metric => ({
      figure,
      direct: null,
      tunnel: o.tunnel?.ok ? (o.tunnel.windows?.[side] ?? NaN) / (KIB_PER_MIB * KIB_PER_MIB) : NaN,
      format: compact,
      ...REPORT_ONLY,
    });
    const reach = (figure: string, f: (r: WanResult) => number | null): Metric => ({
      figure,
      direct: pick<WanResult>(o.direct, (r) => f(r) ?? NaN),
      tunnel: pick<WanResult>(o.tunnel, (r) => f(r) ?? NaN),
      format: seconds,
      ...REPORT_ONLY,
    });
    return [
      rate('1 stream down, final (direct: plain TCP across the link)', (r) => r.download.finalMibps, 'download'),
      rate('1 stream up, final', (r) => r.upload.finalMibps, 'upload'),
      reach('1 stream down, time to 90 % of final', (r) => r.download.timeTo90Ms),
      reach('1 stream up, time to 90 % of final', (r) => r.upload.timeTo90Ms),
      rate(`${o.plan.params.parallel} streams down, total final`, (r) => r.parallel.finalMibps),
      window('largest window, client side: downloads (MiB)', 'client'),
      window('largest window, relay side: uploads (MiB)', 'relay'),
      {
        figure: 'relay+client RSS, peak (MiB)',
        direct: null,
        tunnel: pick<WanResult>(o.tunnel, (_r, run) => (run.peak?.totalKiB ?? NaN) / KIB_PER_MIB),
        format: compact,
        ...REPORT_ONLY,
      },
    ];
  },
  parallel(o, notes) {
    // One row per --workers count: loopback in the direct column, the tunnel through that relay.
    const id = o.plan.id;
    const mibps = (v: number): string => `${compact(v)} MiB/s`;
    const runs = o.byWorkers ?? [];
    for (const { workers, outcome } of runs) {
      const r = resultOf<ParallelResult>(outcome);
      if (!r) continue;
      const core = (sec: number): string => `${sec.toFixed(2)} s (${((100 * sec) / r.seconds).toFixed(0)} % of a core)`;
      const cpu = r.cpu ? `; over the ${r.seconds.toFixed(1)} s: relay ${core(r.cpu.relaySec)}, clients ${core(r.cpu.clientSec)}` : '';
      notes.push(`#${id} ${workers} worker${workers === 1 ? '' : 's'}: each stream ${r.perStreamMeanMibps.map(compact).join(' / ')} MiB/s${cpu}`);
    }
    const [one, two] = runs.map(({ outcome }) => resultOf<ParallelResult>(outcome));
    if (one && two) notes.push(`#${id} 2 workers / 1 worker: ${compact(two.meanMibps / one.meanMibps)}× the total (load generator, targets, two clients and the relay share this machine's cores)`);
    return runs.map(({ workers, outcome }): Metric => ({
      figure: `${o.plan.params.streams} downloads at once, total, relay --workers ${workers}`,
      direct: pick<ParallelResult>(o.direct, (r) => r.meanMibps),
      tunnel: pick<ParallelResult>(outcome, (r) => r.meanMibps),
      format: mibps,
      ratio: true,
      ...REPORT_ONLY,
    }));
  },
  bind(o, notes) {
    const id = o.plan.id;
    const count = o.plan.params.count;
    forEachResult<BindResult>(o, (mode, r) => {
      if (r.failures > 0) notes.push(`#${id} ${mode}: ${r.failures} of ${count} BINDs failed (${r.errors || 'ran out of time'})`);
      notes.push(
        `#${id} ${mode}: to 1st reply p90 ${compact(r.listen.p90Ms)} ms, max ${compact(r.listen.maxMs)} ms; ` +
          `to 2nd reply p90 ${compact(r.accept.p90Ms)} ms, max ${compact(r.accept.maxMs)} ms`,
      );
    });
    const cpu = tunnelCpuPer<BindResult>(o, (r) => r.attempted + o.plan.params.warmup, 0);
    if (cpu) notes.push(`#${id} tunnel: CPU per BIND (greeting, both replies, 1-byte check; incl. warm-up): ${cpu}`);
    const row = (figure: string, f: (r: BindResult) => number): Metric => ({ figure, ...inBothModes<BindResult>(o, f), format: compact, ratio: true, ...REPORT_ONLY });
    return [
      row('BIND → 1st reply (listening), p50 (ms)', (r) => r.listen.p50Ms),
      row('BIND → 1st reply (listening), p99 (ms)', (r) => r.listen.p99Ms),
      row('BIND → 2nd reply (peer accepted), p50 (ms)', (r) => r.accept.p50Ms),
      row('BIND → 2nd reply (peer accepted), p99 (ms)', (r) => r.accept.p99Ms),
      { figure: `BIND failures (of ${count})`, ...inBothModes<BindResult>(o, (r) => r.failures), format: int },
    ];
  },
  failover(o, notes) {
    const id = o.plan.id;
    forEachResult<FailoverResult>(o, (mode, r) => {
      notes.push(`#${id} ${mode}: ${r.attempts} connects, ${r.failures} failed${r.errors ? ` (${r.errors})` : ''}; connect + echo p50 ${compact(r.p50Ms)} ms, p99 ${compact(r.p99Ms)} ms, max ${compact(r.maxMs)} ms`);
    });
    return [
      { figure: 'relay killed: longest gap of failing new streams (ms)', ...inBothModes<FailoverResult>(o, (r) => r.longestFailureGapMs), format: int, target: targetOf(o.plan, 'longestFailureGapMs') },
      { figure: 'relay killed: failures 5 s on', ...inBothModes<FailoverResult>(o, (r) => r.failuresAfterRecovery), format: int, target: targetOf(o.plan, 'failuresAfterRecovery') },
      { figure: 'relay killed: connect + echo p99 (ms)', ...inBothModes<FailoverResult>(o, (r) => r.p99Ms), format: compact, ...REPORT_ONLY },
    ];
  },
};
