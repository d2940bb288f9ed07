/** The scenarios of one bench run, their sizes, time limits and pass targets, in running order. */
import type { ScenarioName } from './messages.js';
import { MIB } from './stats.js';
import type { LinkSettings } from './wan-routes.js';

const WAN_PARAMS = { durationMs: 8_000, sampleMs: 100, windowMs: 500, finalMs: 2_000, parallel: 8, warmupMs: 1_000, settleMs: 1_000 };
const GIGABIT_BYTES_PER_SECOND = 125_000_000;
/** Sequential connects across a 50 ms link: a few warm-ups teach the client the destination. */
const CONNECT_ACROSS_LINK_PARAMS = { count: 40, warmup: 5, capMs: 20_000, perConnectTimeoutMs: 5_000 };

/** A pass threshold for one figure: what the Target column shows, and the test of the tunnel's value. */
export interface Target {
  text: string;
  /** `direct` is null for figures measured on the tunnel only. */
  pass(direct: number | null, tunnel: number): boolean;
}

export interface ScenarioPlan {
  /** The figure's number in the table (and in README.md). */
  id: string;
  title: string;
  scenario: ScenarioName;
  params: Record<string, number>;
  /** One mode's run is killed and reported FAILED past this. */
  timeoutMs: number;
  /** Open files the scenario needs in one process; skipped (with a message) below that. */
  needsOpenFiles?: number;
  /** Also run through the reference route (two plain forwarders), for scale. */
  withReference?: boolean;
  /** Also run through the SOCKS chain (a SOCKS5 front answering at once, then one plain forwarder), for scale. */
  withSocksReference?: boolean;
  /** Also run through the naive one-WebSocket-per-stream tunnel (naive-tunnel.ts), for scale. */
  withNaiveTunnel?: boolean;
  /**
   * Run every route of the figure once per round, in turn, this many times (rounds.ts): the
   * routes then meet the machine's slow and fast stretches alike. Bulk and latency only.
   */
  rounds?: number;
  /** Also run through V2Ray with mux.cool (v2ray.ts), the peer the figure is held against; left out without a v2ray binary. */
  withV2ray?: boolean;
  /** Pass thresholds by the report's name for the figure; figures without one are shown for information. */
  targets?: Readonly<Record<string, Target>>;
  /** Run the tunnel over wss:// (a self-signed certificate, pinned with --fingerprint). */
  tls?: boolean;
  /** More flags for the sockbridge client under test. */
  clientArgs?: readonly string[];
  /** A second relay for the client (a second --relay), which the scenario may kill (figure 15). */
  spareRelay?: boolean;
  /** An emulated long link between client and relay; the reference then crosses the same link, and takes the direct column. */
  link?: LinkSettings;
  /** Run the tunnel once per count, the relay with --workers N (figure 14); the first fills the tunnel column. */
  relayWorkers?: readonly number[];
  /** Client processes, each with its own tunnel; the scenario's streams take them in turn (default 1). */
  clients?: number;
}

/** Shares below 1 with two decimals (0.30×), others as they are (2.5×). */
const shareText = (share: number): string => (share < 1 ? share.toFixed(2) : String(share));

/** The tunnel's figure is at least `share` times direct's (rates: higher is better). */
function atLeastTimesDirect(share: number): Target {
  return { text: `≥ ${shareText(share)}× direct`, pass: (direct, tunnel) => direct !== null && tunnel >= share * direct };
}

/** Across an emulated link the direct column holds plain TCP over the same link: at least `share` times that. */
function atLeastTimesPlainTcp(share: number): Target {
  return { text: `≥ ${shareText(share)}× plain TCP`, pass: (direct, tunnel) => direct !== null && tunnel >= share * direct };
}

/** The tunnel's figure is at most `share` times direct's (times: lower is better). */
function atMostTimesDirect(share: number): Target {
  return { text: `≤ ${shareText(share)}× direct`, pass: (direct, tunnel) => direct !== null && tunnel <= share * direct };
}

/** The tunnel's figure, a share, is at least `limit` (shown as `text`). */
function atLeast(limit: number, text: string): Target {
  return { text, pass: (_direct, tunnel) => tunnel >= limit };
}

/** The direct column holds a peer route's figure: the tunnel's is at least `share` times it (rates). */
function atLeastTimesPeer(share: number, peer: string): Target {
  return { text: `≥ ${shareText(share)}× ${peer}`, pass: (p, tunnel) => p !== null && tunnel >= share * p };
}

/** The direct column holds a peer route's figure: the tunnel's is below it (times). */
function belowPeer(peer: string): Target {
  return { text: `< ${peer}`, pass: (p, tunnel) => p !== null && tunnel < p };
}

/** The tunnel's figure stays at or under `limit`, in the figure's `unit`. */
function atMost(limit: number, unit: string, label = ''): Target {
  return { text: `${label}≤ ${limit} ${unit}`, pass: (_direct, tunnel) => tunnel <= limit };
}

/** The tunnel's figure, a fraction, stays under `limit`. */
function shareBelow(limit: number): Target {
  return { text: `< ${limit * 100} %`, pass: (_direct, tunnel) => tunnel < limit };
}

/** Nothing may fail: the tunnel's count is 0. */
function none(text = '0'): Target {
  return { text, pass: (_direct, tunnel) => tunnel === 0 };
}

export const IDLE_STREAMS = 10_000;

/** Figures 1 and 1s: the same transfers, over ws:// and over wss://; upload keeps up with download by `uploadShare`. */
function bulk(uploadShare: number, more: Readonly<Record<string, Target>> = {}) {
  return {
    // Three rounds of one run each way: best of 3, interleaved with the other routes.
    params: { bytes: 512 * MIB, minMs: 1_500, capMs: 12_000, repeats: 1 },
    rounds: 3,
    timeoutMs: 60_000,
    targets: {
      upload: atLeastTimesDirect(0.25),
      download: atLeastTimesDirect(0.25),
      uploadShare: atLeast(uploadShare, `≥ ${shareText(uploadShare)}`),
      ...more,
    },
  };
}

export const PLANS: readonly ScenarioPlan[] = [
  {
    id: '1',
    title: 'single-stream bulk throughput',
    scenario: 'bulk',
    withReference: true,
    withNaiveTunnel: true,
    withV2ray: true,
    // The naive tunnel runs over ws:// only.
    ...bulk(0.8, { vsNaive: atLeastTimesPeer(1.2, 'naive') }),
  },
  {
    id: '1s',
    title: 'single-stream bulk throughput over wss:// (TLS, a pinned self-signed certificate)',
    scenario: 'bulk',
    tls: true,
    ...bulk(0.9),
  },
  {
    id: '2',
    title: 'connect latency, 3 interleaved rounds of 334 sequential connects + 1-byte echo',
    scenario: 'latency',
    withReference: true,
    withSocksReference: true,
    withV2ray: true,
    // The processes stay up across rounds; each round warms up again after the other routes ran.
    params: { count: 334, warmup: 100, capMs: 15_000, perConnectTimeoutMs: 5_000 },
    rounds: 3,
    timeoutMs: 25_000,
    targets: { p50: atMostTimesDirect(2.5), vsV2ray: belowPeer('v2ray mux') },
  },
  {
    id: '3',
    title: '64-byte round trips over 8 parallel streams',
    scenario: 'roundtrips',
    withReference: true,
    params: { streams: 8, messageBytes: 64, warmupMs: 500, durationMs: 3_000 },
    timeoutMs: 20_000,
    targets: { perSecond: atLeastTimesDirect(0.3) },
  },
  {
    id: '4',
    title: '1000 concurrent streams, 1 KiB echo each, all opened at once',
    scenario: 'concurrent',
    params: { count: 1_000, payloadBytes: 1024, timeoutMs: 20_000 },
    timeoutMs: 60_000,
    targets: { failures: none(), rssPerStreamKiB: atMost(64, 'KiB') },
  },
  {
    id: '5',
    title: `${IDLE_STREAMS} concurrent idle streams on one WebSocket`,
    scenario: 'idle',
    params: { count: IDLE_STREAMS, batch: 500, timeoutMs: 20_000, capMs: 60_000 },
    timeoutMs: 120_000,
    needsOpenFiles: 12_000,
    targets: { notServed: none('0 (all served)') },
  },
  poolMemoryPlan('16', 1),
  poolMemoryPlan('16t', 4),
  {
    id: '15',
    title: 'new connections while one of two relays is killed (--tunnels 2, SIGKILL)',
    scenario: 'failover',
    spareRelay: true,
    clientArgs: ['--tunnels', '2'],
    params: { durationMs: 10_000, intervalMs: 50, killAtMs: 2_000, perConnectTimeoutMs: 6_000, recoveryMs: 5_000 },
    timeoutMs: 40_000,
    targets: { longestFailureGapMs: atMost(5_000, 'ms'), failuresAfterRecovery: none() },
  },
  {
    id: '6',
    title: 'stalled reader: B downloads while A never reads',
    scenario: 'stalled',
    params: { bytes: 256 * MIB, capMs: 10_000, cycles: 3, settleMs: 500 },
    timeoutMs: 100_000,
    targets: { cost: shareBelow(0.1), rssGrowthMiB: atMost(32, 'MiB', 'bounded: ') },
  },
  {
    id: '7',
    title: 'UDP datagrams/s and loss, 512 B and 1400 B, UDP ASSOCIATE',
    scenario: 'udp',
    params: { smallBytes: 512, largeBytes: 1_400, window: 128, warmupMs: 300, durationMs: 2_000, datagramTimeoutMs: 250 },
    timeoutMs: 20_000,
  },
  {
    id: '8',
    title: 'BIND setup time, 200 sequential BINDs',
    scenario: 'bind',
    params: { count: 200, warmup: 50, capMs: 15_000, perBindTimeoutMs: 5_000 },
    timeoutMs: 25_000,
  },
  wanPlan('9', 50),
  wanPlan('10', 150),
  {
    id: '12',
    title: 'connect + 1-byte echo across the 50 ms link to a destination seen before (fast open)',
    scenario: 'latency',
    link: gigabitLink(50),
    withV2ray: true,
    params: CONNECT_ACROSS_LINK_PARAMS,
    timeoutMs: 60_000,
    // One round trip (50 ms) with 15 % to spare, plus about 2 ms of loopback cost.
    targets: { p50: atMost(60, 'ms') },
  },
  {
    id: '13',
    title: 'connect + 1-byte echo across the 50 ms link, replies after the dial (--fast-open never: first contact)',
    scenario: 'latency',
    link: gigabitLink(50),
    clientArgs: ['--fast-open', 'never'],
    params: CONNECT_ACROSS_LINK_PARAMS,
    timeoutMs: 60_000,
    targets: { p50: atMost(120, 'ms', 'two round trips: ') },
  },
  {
    id: '11',
    title: 'stalled reader across the 50 ms link',
    scenario: 'stalled',
    link: gigabitLink(50),
    params: { bytes: 128 * MIB, capMs: 8_000, cycles: 3, settleMs: 1_000 },
    timeoutMs: 120_000,
    // The RSS bound is the default --window-budget: growth is all a stalled stream could add.
    targets: { cost: shareBelow(0.1), rssGrowthMiB: atMost(64, 'MiB', 'within the budget: ') },
  },
  {
    id: '14',
    title: '8 parallel downloads through a relay with 1 and with 2 workers (two clients, a tunnel each)',
    scenario: 'parallel',
    relayWorkers: [1, 2],
    clients: 2,
    params: { streams: 8, durationMs: 5_000, sampleMs: 100, warmupMs: 1_000, windowMs: 500, finalMs: 2_000 },
    timeoutMs: 40_000,
  },
];

/**
 * Figures 16 and 16t: 1,000 idle streams through one relay with --tunnels 1 and with
 * --tunnels 4 (client/pool/); the difference of their RSS with all open is what three more
 * WebSockets cost.
 */
function poolMemoryPlan(id: string, tunnels: number): ScenarioPlan {
  return {
    id,
    title: `1,000 idle streams over --tunnels ${tunnels}`,
    scenario: 'idle',
    clientArgs: ['--tunnels', String(tunnels)],
    params: { count: 1_000, batch: 500, timeoutMs: 20_000, capMs: 30_000 },
    timeoutMs: 60_000,
    targets: { notServed: none('0 (all served)') },
  };
}

/** A 1 Gbit/s emulated link of `rttMs` round trip, holding up to 32 MiB each way (Linux's largest TCP windows). */
function gigabitLink(rttMs: number): LinkSettings {
  return { delayMs: rttMs / 2, rateBytesPerSecond: GIGABIT_BYTES_PER_SECOND, maxInflightBytes: 32 * MIB };
}

/** One stream down and up, then 8 down, across a 1 Gbit/s link of `rttMs`, against plain TCP across the same link. */
function wanPlan(id: string, rttMs: number): ScenarioPlan {
  return {
    id,
    title: `across a ${rttMs} ms, 1 Gbit/s link: one stream down and up, ${WAN_PARAMS.parallel} down at once`,
    scenario: 'wan',
    link: gigabitLink(rttMs),
    params: WAN_PARAMS,
    timeoutMs: 60_000,
    targets: { download: atLeastTimesPlainTcp(0.9), upload: atLeastTimesPlainTcp(0.9) },
  };
}
