/**
 * Short-lived SOCKS5 CONNECT streams for churn tests, each bounded in time: a 1-byte echo
 * closed cleanly, an application that vanishes mid-download, and a target that resets
 * mid-stream; the two targets those need; and a pool running N jobs C at a time.
 */
import type { Socket } from 'node:net';
import { rawSocks5Connect } from '../socks/socks-dial.js';
import { readBytes, waitClose } from '../io/socket-io.js';
import { startTarget, type Target } from '../targets/targets.js';
import { REP_SUCCEEDED } from '../socks/socks-replies.js';
import { withTimeout } from '../io/waiting.js';

const SOURCE_CHUNK = 64 * 1024;
const RESET_AFTER = 16 * 1024;
const STREAM_WAIT_MS = 10_000;

/** Runs `job(i)` for i in [0, count), at most `concurrency` at a time; rejects with the first failure. */
export async function runPool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

async function connectOk(socksPort: number, targetPort: number): Promise<{ socket: Socket; ended: Promise<void> }> {
  const { rep, socket, ended } = await rawSocks5Connect(socksPort, targetPort, STREAM_WAIT_MS);
  if (rep !== REP_SUCCEEDED) {
    socket.destroy();
    throw new Error(`SOCKS reply 0x${rep.toString(16).padStart(2, '0')} for 127.0.0.1:${targetPort}`);
  }
  return { socket, ended };
}

/** CONNECT, one byte echoed, FIN from us, FIN back, closed. */
export async function echoOneByte(socksPort: number, echoPort: number): Promise<void> {
  const { socket } = await connectOk(socksPort, echoPort);
  try {
    socket.write(Buffer.from([0x2a]));
    const echoed = await readBytes(socket, 1, STREAM_WAIT_MS);
    if (echoed.length !== 1 || echoed[0] !== 0x2a) throw new Error(`echo returned ${echoed.toString('hex')}`);
    const closed = waitClose(socket, STREAM_WAIT_MS);
    socket.end();
    await closed;
  } finally {
    socket.destroy();
  }
}

/** CONNECT to a source, wait until its bytes flow, then destroy the application socket. */
export async function abortMidDownload(socksPort: number, sourcePort: number): Promise<void> {
  const { socket } = await connectOk(socksPort, sourcePort);
  try {
    await readBytes(socket, 1, STREAM_WAIT_MS);
  } finally {
    socket.destroy();
  }
}

/** CONNECT, send a request byte to a target that answers a little and then resets; the application must see the stream end. */
export async function readUntilTargetReset(socksPort: number, resetPort: number): Promise<void> {
  const { socket, ended } = await connectOk(socksPort, resetPort);
  socket.resume();
  socket.write(Buffer.from([0x3f]));
  try {
    await withTimeout(ended, { what: 'the stream to end after the target reset', timeoutMs: STREAM_WAIT_MS });
  } finally {
    socket.destroy();
  }
}

/** Writes 64 KiB chunks with backpressure until the connection goes. */
export function startSourceTarget(): Promise<Target> {
  return startTarget((socket) => {
    const chunk = Buffer.alloc(SOURCE_CHUNK, 0x73);
    const pump = (): void => {
      while (!socket.destroyed && socket.writable) if (!socket.write(chunk)) return;
    };
    socket.on('drain', pump);
    socket.on('end', () => socket.destroy());
    pump();
  });
}

/**
 * On the first byte, answers 16 KiB and then resets the connection (TCP RST). Waiting for a
 * byte makes the reset come mid-stream: a reset right after accept can reach the relay before
 * its connect completes, and the relay then rightly reports a failed CONNECT (ECONNRESET, 0x01).
 */
export function startResetTarget(): Promise<Target> {
  return startTarget((socket) => {
    socket.once('data', () => {
      socket.write(Buffer.alloc(RESET_AFTER, 0x72), () => setImmediate(() => socket.resetAndDestroy()));
    });
  });
}
