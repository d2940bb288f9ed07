/**
 * Targets for data-path tests, built on startTarget (real TCP servers on 127.0.0.1:0):
 * a hashing sink, a keystream source, a server that speaks first, one that ends first,
 * and a firehose that writes until told to stop, counting what its socket accepted.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { startTarget, type Target } from './targets.js';
import { Keystream } from '../workloads/bulk-data.js';

const SOURCE_CHUNK = 64 * 1024;

/** Reads to EOF, then answers `"<bytes> <sha256>\n"` and ends: a request/response server that needs the whole request first. */
export function startHashSinkTarget(): Promise<Target> {
  return startTarget((socket) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    socket.on('end', () => socket.end(`${bytes} ${hash.digest('hex')}\n`));
  });
}

/** Parses a sink's answer. */
export function parseSinkAnswer(answer: Buffer): { bytes: number; sha256: string } {
  const match = /^(\d+) ([0-9a-f]{64})\n$/.exec(answer.toString('latin1'));
  if (!match) throw new Error(`unexpected sink answer ${JSON.stringify(answer.toString('latin1').slice(0, 100))}`);
  return { bytes: Number(match[1]), sha256: match[2] };
}

/** Reads one request line `"<seed> <length>\n"`, then sends that many keystream bytes with backpressure and ends. */
export function startKeystreamSourceTarget(): Promise<Target> {
  return startTarget((socket) => {
    let line = '';
    const onData = (chunk: Buffer): void => {
      line += chunk.toString('latin1');
      const newline = line.indexOf('\n');
      if (newline < 0) return;
      socket.off('data', onData);
      const [seed, length] = line.slice(0, newline).split(' ');
      sendKeystream(socket, seed, Number(length));
    };
    socket.on('data', onData);
  });
}

function sendKeystream(socket: Socket, seed: string, length: number): void {
  const source = new Keystream(seed);
  let sent = 0;
  const pump = (): void => {
    while (sent < length && !socket.destroyed) {
      const chunk = source.next(Math.min(SOURCE_CHUNK, length - sent));
      sent += chunk.length;
      if (!socket.write(chunk)) return;
    }
    if (sent >= length) {
      socket.off('drain', pump);
      socket.end();
    }
  };
  socket.on('drain', pump);
  pump();
}

/** Greets every connection with `banner` at once (like SMTP's 220), answers `QUIT\r\n` with `bye` and ends. */
export function startBannerTarget(banner: string, bye: string): Promise<Target> {
  return startTarget((socket) => {
    socket.write(banner);
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('QUIT\r\n')) socket.end(bye);
    });
  });
}

export interface EndFirstTarget extends Target {
  /** What each connection received before the application's FIN, in accept order. */
  received: Promise<{ bytes: number; sha256: string }>[];
}

/** Sends `message` and half-closes at once, then keeps reading until the application ends too. */
export async function startEndFirstTarget(message: string): Promise<EndFirstTarget> {
  const received: Promise<{ bytes: number; sha256: string }>[] = [];
  const target = await startTarget((socket) => {
    socket.end(message);
    received.push(
      new Promise((resolve, reject) => {
        const hash = createHash('sha256');
        let bytes = 0;
        socket.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        socket.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
        socket.once('close', () => reject(new Error(`closed without end after ${bytes} bytes`)));
      }),
    );
  });
  return Object.assign(target, { received });
}

export interface FirehoseStats {
  socket: Socket;
  /** Bytes handed to socket.write so far. */
  accepted: number;
  /** True while the last write returned false and no 'drain' came yet. */
  blocked: boolean;
  /** Number of times socket.write returned false. */
  blockedWrites: number;
}

export interface FirehoseTarget extends Target {
  connections: FirehoseStats[];
  /** Stops writing on every connection (sockets stay open). */
  stop(): void;
}

/** Writes 64 KiB chunks as fast as its socket takes them, honouring backpressure, until stop(). */
export async function startFirehoseTarget(): Promise<FirehoseTarget> {
  const connections: FirehoseStats[] = [];
  let stopped = false;
  const chunk = Buffer.alloc(SOURCE_CHUNK, 0x5a);
  const target = await startTarget((socket) => {
    const stats: FirehoseStats = { socket, accepted: 0, blocked: false, blockedWrites: 0 };
    connections.push(stats);
    const pump = (): void => {
      stats.blocked = false;
      while (!stopped && !socket.destroyed) {
        stats.accepted += chunk.length;
        if (!socket.write(chunk)) {
          stats.blocked = true;
          stats.blockedWrites += 1;
          return;
        }
      }
    };
    socket.on('drain', pump);
    pump();
  });
  return Object.assign(target, {
    connections,
    stop() {
      stopped = true;
    },
  });
}
