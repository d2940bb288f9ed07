/** Small promise helpers over sockets for the load generator, each bounded in time. */
import { connect, type Socket } from 'node:net';

export function connectTcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true, allowHalfOpen: true });
    const timer = setTimeout(() => fail(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/**
 * Reads exactly `length` bytes with the socket in paused mode (socket.read(n)), leaving
 * anything behind them in the socket for whoever reads next.
 */
export function readExactly(socket: Socket, length: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${length} bytes after ${timeoutMs} ms`)), timeoutMs);
    const tryRead = (): void => {
      const chunk = socket.read(length) as Buffer | null;
      if (chunk === null) return;
      if (chunk.length < length) finish(new Error(`connection ended after ${chunk.length} of ${length} bytes`));
      else finish(null, chunk);
    };
    const onEnd = (): void => finish(new Error(`connection ended before ${length} bytes arrived`));
    const onError = (err: Error): void => finish(err);
    const finish = (err: Error | null, chunk?: Buffer): void => {
      clearTimeout(timer);
      socket.off('readable', tryRead);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (err) reject(err);
      else resolve(chunk!);
    };
    socket.on('readable', tryRead);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}

/** Writes and resolves once the bytes are handed to the kernel (or rejects on error). */
export function writeAll(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
