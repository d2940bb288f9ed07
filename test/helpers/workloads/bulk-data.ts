/**
 * Bulk data for transfer tests: a deterministic pseudo-random byte source (AES-128-CTR
 * keystream, so any side can regenerate the same bytes from a seed), writing with
 * backpressure, and hashing what arrives. Every wait is bounded in time.
 */
import { createCipheriv, createHash, type Cipher, type Hash } from 'node:crypto';
import type { Socket } from 'node:net';

export const MiB = 1024 * 1024;
export const KiB = 1024;
const WRITE_CHUNK = 64 * KiB;
const ZEROS = Buffer.alloc(WRITE_CHUNK);

/** An endless, seekless stream of pseudo-random bytes fixed by `seed`. */
export class Keystream {
  private readonly cipher: Cipher;

  constructor(seed: string) {
    const key = createHash('sha256').update(`key:${seed}`).digest().subarray(0, 16);
    const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
    this.cipher = createCipheriv('aes-128-ctr', key, iv);
  }

  next(length: number): Buffer {
    return this.cipher.update(length <= ZEROS.length ? ZEROS.subarray(0, length) : Buffer.alloc(length));
  }
}

/** sha256 (hex) of the first `length` bytes of the keystream for `seed`. */
export function keystreamDigest(seed: string, length: number): string {
  const source = new Keystream(seed);
  const hash = createHash('sha256');
  for (let left = length; left > 0; left -= WRITE_CHUNK) hash.update(source.next(Math.min(WRITE_CHUNK, left)));
  return hash.digest('hex');
}

export interface WriteResult {
  bytes: number;
  sha256: string;
}

/**
 * Writes `length` keystream bytes to `socket`, pausing on backpressure. Resolves once the
 * last write was handed to the kernel; rejects when the socket fails or the time runs out.
 */
export function writeKeystream(socket: Socket, seed: string, length: number, timeoutMs: number): Promise<WriteResult> {
  const source = new Keystream(seed);
  const hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    let written = 0;
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`write timed out after ${written} of ${length} bytes`)), timeoutMs);
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('drain', pump);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve({ bytes: written, sha256: hash.digest('hex') });
    };
    const onError = (err: Error): void => finish(err);
    const onClose = (): void => finish(new Error(`socket closed after ${written} of ${length} bytes`));
    const pump = (): void => {
      while (written < length && !settled) {
        const chunk = source.next(Math.min(WRITE_CHUNK, length - written));
        hash.update(chunk);
        written += chunk.length;
        const last = written === length;
        const more = socket.write(chunk, last ? (err) => finish(err ?? null) : undefined);
        if (!more && !last) return; // 'drain' calls pump again
      }
    };
    socket.on('drain', pump);
    socket.once('error', onError);
    socket.once('close', onClose);
    if (length === 0) finish(null);
    else pump();
  });
}

export interface ReadResult {
  bytes: number;
  sha256: string;
}

/** Hashes everything the socket delivers until it ends; rejects on error, early close or timeout. */
export function hashUntilEnd(socket: Socket, timeoutMs: number): Promise<ReadResult> {
  const hash: Hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`read timed out after ${bytes} bytes`)), timeoutMs);
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      if (err) reject(err);
      else resolve({ bytes, sha256: hash.digest('hex') });
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      hash.update(chunk);
    };
    socket.on('data', onData);
    socket.once('end', () => finish(null));
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error(`socket closed without end after ${bytes} bytes`)));
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
