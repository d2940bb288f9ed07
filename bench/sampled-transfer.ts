/**
 * Transfers that run for a fixed time while the bytes they moved are sampled at a steady
 * interval, for ramp-up figures (ramp.ts). A download asks the source for an endless
 * stream and counts what arrives; an upload feeds the sink without end and counts its
 * acknowledgements, so both count what the far end really got. Streams are opened first
 * and started together, so parallel streams share one clock.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Sample } from './ramp.js';
import { openRoute, type Route } from './route.js';
import { lengthHeader, SINK_ACK, SINK_ACK_EVERY, SOURCE_ENDLESS } from './wire.js';

export type Direction = 'download' | 'upload';

interface Stream {
  start(): void;
  /** Bytes the far end got so far. */
  moved(): number;
  /** Why the stream ended before it was stopped, or null. */
  failure(): string | null;
  stop(): void;
}

const CONNECT_TIMEOUT_MS = 10_000;
const UPLOAD_CHUNK = Buffer.alloc(256 * 1024, 0xa5);
/** An upload's announced length: more than any run moves, so the sink never finishes. */
const UPLOAD_ANNOUNCED_BYTES = 2n ** 50n;

/** `count` streams in `direction`, started together and sampled every `sampleMs` for `durationMs`; one series each. */
export async function sampledTransfers(
  route: Route,
  targetPort: number,
  direction: Direction,
  count: number,
  timing: { sampleMs: number; durationMs: number },
): Promise<Sample[][]> {
  const streams: Stream[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const socket = await openRoute(route, targetPort, CONNECT_TIMEOUT_MS);
      streams.push(direction === 'download' ? downloadStream(socket) : uploadStream(socket));
    }
    const series = await sample(streams, timing);
    const failed = streams.map((s) => s.failure()).find((f) => f !== null);
    if (failed) throw new Error(`a ${direction} stream ended early: ${failed}`);
    return series;
  } finally {
    for (const stream of streams) stream.stop();
  }
}

async function sample(streams: readonly Stream[], timing: { sampleMs: number; durationMs: number }): Promise<Sample[][]> {
  const series: Sample[][] = streams.map(() => []);
  const t0 = performance.now();
  for (const stream of streams) stream.start();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const ms = performance.now() - t0;
      streams.forEach((stream, i) => series[i].push({ ms, bytes: stream.moved() }));
      if (ms >= timing.durationMs) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, timing.sampleMs);
  });
  return series;
}

/** The first reason the socket failed or closed while `stopped()` was still false. */
function watchFailure(socket: Socket, stopped: () => boolean): () => string | null {
  let failure: string | null = null;
  socket.on('error', (err) => (failure ??= err.message));
  socket.once('close', () => {
    if (!stopped()) failure ??= 'closed by the far end';
  });
  return () => failure;
}

function downloadStream(socket: Socket): Stream {
  let received = 0;
  let stopped = false;
  const failure = watchFailure(socket, () => stopped);
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  return {
    start: () => socket.write(lengthHeader(SOURCE_ENDLESS)),
    moved: () => received,
    failure,
    stop() {
      stopped = true;
      socket.destroy();
    },
  };
}

function uploadStream(socket: Socket): Stream {
  let acked = 0;
  let stopped = false;
  const failure = watchFailure(socket, () => stopped);
  socket.on('data', (reply: Buffer) => {
    for (const byte of reply) if (byte === SINK_ACK) acked += SINK_ACK_EVERY;
  });
  const pump = (): void => {
    while (!stopped && !socket.destroyed) {
      if (!socket.write(UPLOAD_CHUNK)) return void socket.once('drain', pump);
    }
  };
  return {
    start() {
      socket.write(lengthHeader(UPLOAD_ANNOUNCED_BYTES));
      pump();
    },
    moved: () => acked,
    failure,
    stop() {
      stopped = true;
      socket.destroy();
    },
  };
}
