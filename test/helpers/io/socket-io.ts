/** Small promise helpers over real sockets, each bounded in time. */
import { connect, type Socket } from 'node:net';
import { DEFAULT_WAIT_MS, withTimeout } from './waiting.js';

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
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<Buffer>((resolve) => {
    const done = (): void => resolve(Buffer.concat(chunks));
    socket.once('end', done);
    socket.once('close', done);
  });
  return withTimeout(ended, { what: 'the end of the stream', timeoutMs });
}

/** Resolves when the socket closes (either side), or rejects after the timeout. */
export function waitClose(socket: Socket, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return withTimeout(closed, { what: 'the socket to close', timeoutMs });
}
