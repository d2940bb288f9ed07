/**
 * One bulk transfer over one stream, timed by what the far end really got: an upload to
 * the sink (timed by its acknowledgements) or a download from the source. A transfer that
 * would run past `capMs` stops there and reports the rate of what it moved so far.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { openRoute, type Route } from './route.js';
import { megabytesPerSecond } from './stats.js';
import { lengthHeader, SINK_ACK, SINK_ACK_EVERY, SINK_DONE } from './wire.js';

export interface Transfer {
  bytes: number;
  ms: number;
  mbps: number;
  /** True when the time cap cut the transfer short. */
  capped: boolean;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** After the last byte is written, how long the sink may take to confirm it. */
const CONFIRM_GRACE_MS = 10_000;
const UPLOAD_CHUNK = Buffer.alloc(256 * 1024, 0xa5);

export async function upload(route: Route, sinkPort: number, bytes: number, capMs: number): Promise<Transfer> {
  const socket = await openRoute(route, sinkPort, CONNECT_TIMEOUT_MS);
  try {
    const t0 = performance.now();
    let acked = 0;
    let lastAckAt = t0;
    let done = false;
    let wakeDone: () => void = () => {};
    const confirmed = new Promise<void>((resolve) => (wakeDone = resolve));
    socket.on('data', (reply: Buffer) => {
      lastAckAt = performance.now();
      for (const byte of reply) {
        if (byte === SINK_ACK) acked += SINK_ACK_EVERY;
        else if (byte === SINK_DONE) done = true;
      }
      if (done) wakeDone();
    });
    socket.once('close', () => wakeDone());
    socket.write(lengthHeader(BigInt(bytes)));
    let sent = 0;
    const deadline = t0 + capMs;
    while (sent < bytes && performance.now() < deadline && !socket.destroyed) {
      const size = Math.min(UPLOAD_CHUNK.length, bytes - sent);
      sent += size;
      if (!socket.write(size === UPLOAD_CHUNK.length ? UPLOAD_CHUNK : UPLOAD_CHUNK.subarray(0, size))) {
        await drained(socket, deadline - performance.now());
      }
    }
    const capped = sent < bytes;
    if (!capped) await Promise.race([confirmed, delay(CONFIRM_GRACE_MS)]);
    const moved = done ? bytes : acked;
    const ms = lastAckAt - t0;
    return { bytes: moved, ms, mbps: megabytesPerSecond(moved, ms), capped: capped || !done };
  } finally {
    socket.destroy();
  }
}

export async function download(route: Route, sourcePort: number, bytes: number, capMs: number): Promise<Transfer> {
  const socket = await openRoute(route, sourcePort, CONNECT_TIMEOUT_MS);
  try {
    const t0 = performance.now();
    let received = 0;
    let lastAt = t0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, capMs);
      const finish = (): void => {
        clearTimeout(timer);
        resolve();
      };
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        lastAt = performance.now();
        if (received >= bytes) finish();
      });
      socket.once('end', finish);
      socket.once('close', finish);
      socket.write(lengthHeader(BigInt(bytes)));
    });
    const ms = lastAt - t0;
    return { bytes: received, ms, mbps: megabytesPerSecond(received, ms), capped: received < bytes };
  } finally {
    socket.destroy();
  }
}

function drained(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('drain', finish);
      socket.off('close', finish);
      resolve();
    };
    const timer = setTimeout(finish, Math.max(0, timeoutMs));
    socket.once('drain', finish);
    socket.once('close', finish);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
