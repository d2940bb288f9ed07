/**
 * Figure 6: head-of-line blocking. Stream A asks the source for an endless download and
 * never reads it; meanwhile stream B downloads in bulk. Flow control should confine A's
 * backlog to A, so B runs as fast as alone and relay and client memory stay flat.
 *
 * After a warm-up, `cycles` times: B alone, then A opens and stalls, B again, A closes.
 * Alternating keeps drift on a busy machine from landing on one side; medians are compared.
 * Memory: before the first A, after A sat stalled for a while (twice, a pause apart: it
 * must not grow), and after the last B with A still stalled.
 */
import type { Socket } from 'node:net';
import type { ScenarioContext } from '../messages.js';
import { sleep } from '../net-io.js';
import { openRoute } from '../route.js';
import { ascending, MIB, percentile } from '../stats.js';
import { download, type Transfer } from '../transfer.js';
import { lengthHeader, SOURCE_ENDLESS } from '../wire.js';
import { describe } from './bulk.js';

export interface StalledParams {
  bytes: number;
  capMs: number;
  cycles: number;
  /** How long A is left stalled before B starts, and between the two memory samples. */
  settleMs: number;
}

export interface StalledResult {
  solo: Transfer[];
  withStall: Transfer[];
  soloMbps: number;
  withStallMbps: number;
  /** 1 − withStall / solo (medians): the share of B's throughput that stalled A cost. */
  cost: number;
  /** A was still open (not reset) each time it was released. */
  stalledStreamAlive: boolean;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** The first transfer of a fresh relay and client runs cold (JIT, buffers); it is not counted. */
const WARMUP_BYTES = 64 * MIB;

export async function runStalled(ctx: ScenarioContext, params: StalledParams): Promise<StalledResult> {
  const b = (): Promise<Transfer> => download(ctx.route, ctx.ports.source, params.bytes, params.capMs);
  const solo: Transfer[] = [];
  const withStall: Transfer[] = [];
  let stalledStreamAlive = true;

  await download(ctx.route, ctx.ports.source, WARMUP_BYTES, params.capMs);
  for (let cycle = 0; cycle < params.cycles; cycle++) {
    const first = cycle === 0;
    const last = cycle === params.cycles - 1;
    solo.push(await b());
    ctx.progress(`B alone: ${describe(solo[cycle])}`);

    if (first) await ctx.checkpoint('before-stall');
    const a = await openStalled(ctx);
    await sleep(params.settleMs);
    if (first) {
      await ctx.checkpoint('stalled');
      // A second look with nothing else running: a stalled stream that still costs memory grows here.
      await sleep(params.settleMs);
      await ctx.checkpoint('stalled-later');
    }
    withStall.push(await b());
    ctx.progress(`B with A stalled: ${describe(withStall[cycle])}`);
    if (last) await ctx.checkpoint('stalled-end');
    stalledStreamAlive &&= !a.destroyed;
    a.destroy();
  }
  const soloMbps = median(solo);
  const withStallMbps = median(withStall);
  return { solo, withStall, soloMbps, withStallMbps, cost: 1 - withStallMbps / soloMbps, stalledStreamAlive };
}

function median(transfers: readonly Transfer[]): number {
  return percentile(ascending(transfers.map((t) => t.mbps)), 50);
}

/** A: endless download that nobody reads. */
async function openStalled(ctx: ScenarioContext): Promise<Socket> {
  const a = await openRoute(ctx.route, ctx.ports.source, CONNECT_TIMEOUT_MS);
  a.pause();
  a.on('error', () => {});
  a.write(lengthHeader(SOURCE_ENDLESS));
  return a;
}
