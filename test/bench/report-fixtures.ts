/**
 * Made-up bench outcomes for the report's tests: every scenario of the plan, once with
 * healthy runs (direct, tunnel, reference, CPU use and memory checkpoints) and once with
 * the troubles a report must show (failed runs, a skipped scenario, figures short of
 * their targets, capped transfers, failed connects).
 */
import { PLANS, type ScenarioPlan } from '../../bench/plan.js';
import type { PlanOutcome } from '../../bench/report.js';
import type { RssPoint, RunOutcome } from '../../bench/runner.js';
import type { Transfer } from '../../bench/transfer.js';

const MIB = 2 ** 20;

function transfer(mbps: number, capped = false): Transfer {
  return { bytes: 512 * MIB, ms: (512 * MIB) / (mbps * 1000), mbps, capped };
}

function rss(relayMiB: number, clientMiB: number): RssPoint {
  return { relayKiB: relayMiB * 1024, clientKiB: clientMiB * 1024, totalKiB: (relayMiB + clientMiB) * 1024 };
}

function ok(result: unknown, extra: Partial<Extract<RunOutcome, { ok: true }>> = {}): RunOutcome {
  return { ok: true, result, checkpoints: {}, peak: null, cpu: null, seconds: 3, ...extra };
}

const failed = (reason: string): RunOutcome => ({ ok: false, reason, seconds: 9 });

/** A tunnel run with CPU use and the memory checkpoints the scenarios record. */
function tunnelRun(result: unknown): RunOutcome {
  return ok(result, {
    cpu: { relaySec: 1.5, clientSec: 2.25, wallSec: 3 },
    checkpoints: {
      before: rss(60, 50),
      open: rss(90, 70),
      'before-stall': rss(61, 51),
      stalled: rss(70, 55),
      'stalled-later': rss(70.5, 55),
      'stalled-end': rss(72, 56),
    },
    peak: rss(80, 60),
  });
}

function plan(scenario: ScenarioPlan['scenario']): ScenarioPlan {
  return PLANS.find((p) => p.scenario === scenario)!;
}

function outcome(scenario: ScenarioPlan['scenario'], runs: Partial<PlanOutcome>): PlanOutcome {
  return { plan: plan(scenario), direct: null, tunnel: null, reference: null, skipped: null, ...runs };
}

const bulk = (up: number, down: number, capped = false) => ({
  uploads: [transfer(up, capped), transfer(up * 0.9), transfer(up * 0.95)],
  downloads: [transfer(down), transfer(down * 0.9), transfer(down * 0.8)],
  upload: transfer(up, capped),
  download: transfer(down),
});
const latency = (p50Ms: number, failures = 0) => ({ attempted: 1000, completed: 1000 - failures, failures, p50Ms, p90Ms: p50Ms * 1.5, p99Ms: p50Ms * 3, maxMs: p50Ms * 9, errors: failures ? 'ECONNRESET ×3' : '', samplesMs: [] });
const roundtrips = (perSecond: number, streamsFailed = 0) => ({ roundTrips: perSecond * 3, perSecond, meanRttUs: 8e6 / perSecond, streamsFailed });
const concurrent = (wallMs: number, failures = 0) => ({ count: 1000, opened: 1000 - failures, failures, wallMs, p50Ms: wallMs / 2, p99Ms: wallMs * 0.95, errors: failures ? 'timeout ×2' : '' });
const idle = (openMs: number, failures = 0, unserved = 0) => ({ count: 10_000, opened: 10_000 - failures, failures, openMs, servedWhileHeld: 10_000 - failures - unserved, recheckMs: openMs / 3, errors: failures ? 'EMFILE' : '' });
const stalled = (solo: number, withStall: number, alive = true) => ({
  solo: [transfer(solo), transfer(solo * 1.1)],
  withStall: [transfer(withStall), transfer(withStall * 1.05)],
  soloMbps: solo,
  withStallMbps: withStall,
  cost: 1 - withStall / solo,
  stalledStreamAlive: alive,
});
const udpSize = (payloadBytes: number, perSecond: number, lostMeasured: number, late = 0, garbled = 0) => ({
  payloadBytes,
  perSecond,
  sentMeasured: perSecond * 2,
  lostMeasured,
  lossRate: lostMeasured / (perSecond * 2),
  late,
  garbled,
  sentTotal: perSecond * 2.3,
  rttP50Us: 120_000 / perSecond,
  rttP99Us: 480_000 / perSecond,
});
const udp = (perSecond: number, lost = 0, late = 0) => ({ sizes: [udpSize(512, perSecond, lost, late), udpSize(1_400, perSecond * 0.9, lost * 2, 0, late)] });
const percentiles = (p50Ms: number) => ({ p50Ms, p90Ms: p50Ms * 1.4, p99Ms: p50Ms * 2.5, maxMs: p50Ms * 7 });
const bind = (listen: number, accept: number, failures = 0) => ({ attempted: 200, completed: 200 - failures, failures, listen: percentiles(listen), accept: percentiles(accept), errors: failures ? 'REP 0x01' : '' });

/** Every scenario ran, and every figure with a target meets it. */
export const HEALTHY: readonly PlanOutcome[] = [
  outcome('bulk', { direct: ok(bulk(2400, 2600)), tunnel: tunnelRun({ ...bulk(900, 1100), cpuPerGiB: { upload: { clientSec: 0.9, relaySec: 1.1 }, download: { clientSec: 0.7, relaySec: 0.6 } } }), reference: ok(bulk(1500, 1700)), naive: ok(bulk(700, 800)), v2ray: ok(bulk(300, 350)) }),
  outcome('latency', { direct: ok(latency(0.21)), tunnel: tunnelRun(latency(0.45)), reference: ok(latency(0.3)), socksReference: ok(latency(0.4)), v2ray: ok(latency(0.5)) }),
  outcome('roundtrips', { direct: ok(roundtrips(90_000)), tunnel: tunnelRun(roundtrips(40_000)), reference: ok(roundtrips(60_000)) }),
  outcome('concurrent', { direct: ok(concurrent(180)), tunnel: tunnelRun(concurrent(420)) }),
  outcome('idle', { direct: ok(idle(1_800)), tunnel: tunnelRun(idle(4_200)) }),
  outcome('stalled', { direct: ok(stalled(2000, 1950)), tunnel: tunnelRun(stalled(1000, 960)) }),
  outcome('udp', { direct: ok(udp(50_000)), tunnel: tunnelRun(udp(20_000, 3)) }),
  outcome('bind', { direct: ok(bind(0.3, 0.5)), tunnel: tunnelRun(bind(0.7, 1.1)) }),
];

/** Failed runs, a skipped scenario, figures short of their targets and odd details in the notes. */
export const TROUBLED: readonly PlanOutcome[] = [
  outcome('bulk', { direct: ok(bulk(2400, 2600, true)), tunnel: ok(bulk(400, 1100, true)), reference: failed('forwarder did not start'), naive: ok(bulk(600, 700)) }),
  outcome('latency', { direct: ok(latency(0.2, 4)), tunnel: ok(latency(0.6, 2)), reference: null, v2ray: failed('v2ray is not installed (Debian: apt-get install v2ray, or BENCH_V2RAY=/path/to/v2ray)') }),
  outcome('roundtrips', { direct: failed('timed out after 20000 ms'), tunnel: ok(roundtrips(40_000, 1)) }),
  outcome('concurrent', { direct: ok(concurrent(180)), tunnel: ok(concurrent(800, 2), { checkpoints: { before: rss(60, 50), open: rss(150, 100) } }) }),
  outcome('idle', { skipped: 'needs 12000 open files, the limit is 1024' }),
  outcome('stalled', { direct: ok(stalled(2000, 1950)), tunnel: tunnelRun(stalled(1000, 700, false)) }),
  outcome('udp', { direct: ok(udp(50_000, 0, 2)), tunnel: failed('relay exited with code 1') }),
  outcome('bind', { direct: ok(bind(0.3, 0.5, 1)), tunnel: ok(bind(0.7, 1.1, 5)) }),
];
