/**
 * Figure 3: small request/response round trips. Each of N parallel streams writes 64
 * bytes, waits for all 64 to come back, and repeats until the time is up.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ScenarioContext } from '../messages.js';
import { openRoute } from '../route.js';

export interface RoundTripParams {
  streams: number;
  messageBytes: number;
  warmupMs: number;
  durationMs: number;
}

export interface RoundTripResult {
  roundTrips: number;
  perSecond: number;
  /** Mean time of one round trip on one stream. */
  meanRttUs: number;
  streamsFailed: number;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** A stream whose echo has not come back this long after the end is counted as failed. */
const STRAGGLER_GRACE_MS = 5_000;

export async function runRoundTrips(ctx: ScenarioContext, params: RoundTripParams): Promise<RoundTripResult> {
  const sockets = await Promise.all(Array.from({ length: params.streams }, () => openRoute(ctx.route, ctx.ports.echo, CONNECT_TIMEOUT_MS)));
  try {
    const start = performance.now();
    const measureFrom = start + params.warmupMs;
    const end = measureFrom + params.durationMs;
    const counts = await Promise.all(sockets.map((socket) => pingPong(socket, params.messageBytes, measureFrom, end)));
    const roundTrips = counts.reduce((sum, n) => sum + Math.max(0, n), 0);
    const perSecond = roundTrips / (params.durationMs / 1000);
    return {
      roundTrips,
      perSecond,
      meanRttUs: perSecond > 0 ? (params.streams / perSecond) * 1e6 : NaN,
      streamsFailed: counts.filter((n) => n < 0).length,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

/** Round trips completed between `from` and `until`; -1 when the stream broke or stalled. */
function pingPong(socket: Socket, size: number, from: number, until: number): Promise<number> {
  const message = Buffer.alloc(size, 0x61);
  return new Promise((resolve) => {
    let pending = size;
    let counted = 0;
    const finish = (result: number): void => {
      clearTimeout(guard);
      socket.removeAllListeners('data');
      resolve(result);
    };
    const guard = setTimeout(() => finish(-1), until - performance.now() + STRAGGLER_GRACE_MS);
    socket.on('data', (chunk: Buffer) => {
      pending -= chunk.length;
      if (pending > 0) return;
      const now = performance.now();
      if (now >= from && now < until) counted++;
      if (now >= until) return finish(counted);
      pending = size;
      socket.write(message);
    });
    socket.once('close', () => finish(-1));
    socket.write(message);
  });
}
