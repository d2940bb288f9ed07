/** Small promise helpers over real sockets, each bounded in time. */
import { connect, type Socket } from 'node:net';

export const DEFAULT_WAIT_MS = 10_000;

export function connectTcp(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, allowHalfOpen: true }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Reads until at least `length` bytes arrived; resolves with exactly what was read. */
export function readBytes(socket: Socket, length: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => finish(new Error(`timed out after ${total} of ${length} bytes`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= length) finish(null);
    };
    const onEnd = (): void => finish(new Error(`stream ended after ${total} of ${length} bytes`));
    const finish = (err: Error | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/** Reads everything until the peer ends (or closes) the socket. */
export function readAll(socket: Socket, timeoutMs = DEFAULT_WAIT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error('timed out waiting for end')), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = (): void => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    };
    socket.once('end', done);
    socket.once('close', done);
  });
}

/** Resolves when the socket closes (either side), or rejects after the timeout. */
export function waitClose(socket: Socket, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Polls `condition` every 20 ms until true, or fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
