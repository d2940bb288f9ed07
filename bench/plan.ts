/** The scenarios of one bench run, their sizes and their time limits, in running order. */
import type { ScenarioName } from './messages.js';
import { MIB } from './stats.js';

export interface ScenarioPlan {
  /** The figure's number in the issue and in the table. */
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
}

export const IDLE_STREAMS = 10_000;

export const PLANS: readonly ScenarioPlan[] = [
  {
    id: '1',
    title: 'single-stream bulk throughput',
    scenario: 'bulk',
    withReference: true,
    params: { bytes: 512 * MIB, minMs: 1_500, capMs: 12_000, repeats: 3 },
    timeoutMs: 100_000,
  },
  {
    id: '2',
    title: 'connect latency, 1000 sequential connects + 1-byte echo',
    scenario: 'latency',
    withReference: true,
    params: { count: 1_000, warmup: 300, capMs: 30_000, perConnectTimeoutMs: 5_000 },
    timeoutMs: 45_000,
  },
  {
    id: '3',
    title: '64-byte round trips over 8 parallel streams',
    scenario: 'roundtrips',
    withReference: true,
    params: { streams: 8, messageBytes: 64, warmupMs: 500, durationMs: 3_000 },
    timeoutMs: 20_000,
  },
  {
    id: '4',
    title: '1000 concurrent streams, 1 KiB echo each, all opened at once',
    scenario: 'concurrent',
    params: { count: 1_000, payloadBytes: 1024, timeoutMs: 20_000 },
    timeoutMs: 60_000,
  },
  {
    id: '5',
    title: `${IDLE_STREAMS} concurrent idle streams on one WebSocket`,
    scenario: 'idle',
    params: { count: IDLE_STREAMS, batch: 500, timeoutMs: 20_000, capMs: 60_000 },
    timeoutMs: 120_000,
    needsOpenFiles: 12_000,
  },
  {
    id: '6',
    title: 'stalled reader: B downloads while A never reads',
    scenario: 'stalled',
    params: { bytes: 256 * MIB, capMs: 10_000, cycles: 3, settleMs: 500 },
    timeoutMs: 100_000,
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
];
