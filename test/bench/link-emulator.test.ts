/**
 * The bench's link emulator with real sockets on 127.0.0.1: bytes arrive intact and in
 * order each way, a round trip costs twice the delay, the rate holds a transfer back, FIN
 * crosses after the data, a reset crosses too, and a receiver that never reads holds at
 * most the in-flight bound in the emulator. Timing is checked only where it cannot be
 * flaky: lower bounds, and one generous upper bound on a tiny round trip.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startLinkEmulator, type LinkEmulator, type LinkOptions } from '../../bench/link-emulator.js';
import { LinkArgsError, linkArgs, parseLinkArgs } from '../../bench/link-args.js';
import { startLinkProcess } from '../../bench/link-process.js';
import { hashUntilEnd, keystreamDigest, KiB, MiB, sleep, writeKeystream } from '../helpers/workloads/bulk-data.js';
import { connectTcp, readAll, readBytes, waitClose } from '../helpers/io/socket-io.js';
import { waitFor } from '../helpers/io/waiting.js';
import { startEchoTarget, startTarget, type Target } from '../helpers/targets/targets.js';

const EMULATOR_SCRIPT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bench', 'link-emulator.js');
/** Node reads a socket in chunks of at most this much: the bound may be passed by one. */
const ONE_READ = 64 * KiB;
const TRANSFER_TIMEOUT_MS = 20_000;

describe('link emulator', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const target = async (onSocket: (socket: Socket) => void): Promise<Target> => {
    const started = await startTarget(onSocket);
    cleanups.push(() => started.close());
    return started;
  };
  const link = async (upstreamPort: number, options: Partial<LinkOptions>): Promise<LinkEmulator> => {
    const started = await startLinkEmulator({
      upstreams: [{ host: '127.0.0.1', port: upstreamPort }],
      delayMs: 0,
      rateBytesPerSecond: 0,
      maxInflightBytes: 32 * MiB,
      ...options,
    });
    cleanups.push(() => started.close());
    return started;
  };
  const dial = async (port: number): Promise<Socket> => {
    const socket = await connectTcp(port);
    cleanups.push(async () => void socket.destroy());
    return socket;
  };

  it('carries a few MiB each way intact and in order, through a small in-flight bound', async () => {
    const size = 4 * MiB;
    const bound = 256 * KiB;
    let upstreamSaw: Promise<{ bytes: number; sha256: string }> = Promise.reject(new Error('no connection'));
    upstreamSaw.catch(() => {});
    const server = await target((socket) => {
      upstreamSaw = hashUntilEnd(socket, TRANSFER_TIMEOUT_MS);
      void writeKeystream(socket, 'down', size, TRANSFER_TIMEOUT_MS).then(() => socket.end());
    });
    const emulator = await link(server.port, { delayMs: 5, maxInflightBytes: bound });
    const client = await dial(emulator.port);
    const received = hashUntilEnd(client, TRANSFER_TIMEOUT_MS);
    await writeKeystream(client, 'up', size, TRANSFER_TIMEOUT_MS);
    client.end();

    assert.deepEqual(await received, { bytes: size, sha256: keystreamDigest('down', size) });
    assert.deepEqual(await upstreamSaw, { bytes: size, sha256: keystreamDigest('up', size) });
    assert.ok(emulator.stats().peakInflightBytes <= bound + ONE_READ, `peak ${emulator.stats().peakInflightBytes} within the bound`);
  });

  it('delays a tiny echo by twice the one-way delay, and not much more', async () => {
    const delayMs = 30;
    const echo = await startEchoTarget();
    cleanups.push(() => echo.close());
    const emulator = await link(echo.port, { delayMs, rateBytesPerSecond: 125_000_000 });
    const client = await dial(emulator.port);
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      client.write(Buffer.from([i]));
      await readBytes(client, 1);
      rtts.push(performance.now() - t0);
    }
    rtts.sort((a, b) => a - b);
    assert.ok(rtts[0] >= 2 * delayMs, `fastest round trip ${rtts[0].toFixed(1)} ms ≥ ${2 * delayMs} ms`);
    assert.ok(rtts[2] < 2 * delayMs + 50, `median round trip ${rtts[2].toFixed(1)} ms < ${2 * delayMs + 50} ms`);
  });

  it('holds a transfer to its rate: 8 MiB at 20 MB/s takes at least 0.35 s', async () => {
    const size = 8 * MiB;
    let sinkDone: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (sinkDone = resolve));
    const sink = await target((socket) => {
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes >= size) sinkDone();
      });
    });
    const emulator = await link(sink.port, { rateBytesPerSecond: 20_000_000 });
    const client = await dial(emulator.port);
    const t0 = performance.now();
    await writeKeystream(client, 'rate', size, TRANSFER_TIMEOUT_MS);
    await arrived;
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds >= 0.35, `8 MiB took ${seconds.toFixed(3)} s`);
  });

  it('passes a FIN each way after the data before it, and keeps the half-open side working', async () => {
    const size = 1 * MiB;
    const server = await target((socket) => {
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      // Answers only once the client's FIN is in: what it counted, then its own FIN.
      socket.once('end', () => socket.end(`${bytes}`));
    });
    const emulator = await link(server.port, { delayMs: 10, rateBytesPerSecond: 50_000_000 });
    const client = await dial(emulator.port);
    await writeKeystream(client, 'fin', size, TRANSFER_TIMEOUT_MS);
    client.end();
    const answer = await readAll(client, TRANSFER_TIMEOUT_MS);
    assert.equal(answer.toString(), String(size), 'the upstream saw every byte before the FIN');
    assert.ok(client.readableEnded, 'the upstream FIN came back after its answer');
  });

  it('passes a reset on, one delay later', async () => {
    const delayMs = 40;
    const server = await target((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const emulator = await link(server.port, { delayMs });
    const client = await dial(emulator.port);
    let error: NodeJS.ErrnoException | null = null;
    client.on('error', (err) => (error = err));
    const t0 = performance.now();
    client.write('x');
    await waitClose(client, TRANSFER_TIMEOUT_MS);
    assert.ok(performance.now() - t0 >= 2 * delayMs, 'the byte went over and the reset came back');
    assert.equal((error as NodeJS.ErrnoException | null)?.code, 'ECONNRESET');
    await waitFor(() => emulator.stats().connections === 0, { what: 'the emulator to forget the connection' });
  });

  it('holds at most the in-flight bound for a receiver that never reads', async () => {
    const bound = 1 * MiB;
    const chunk = Buffer.alloc(ONE_READ, 0x5a);
    let offered = 0;
    const source = await target((socket) => {
      const pump = (): void => {
        while (!socket.destroyed && offered < 256 * MiB) {
          offered += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    const emulator = await link(source.port, { delayMs: 5, maxInflightBytes: bound });
    const client = await dial(emulator.port);
    client.pause();
    // Kernel buffers on both loopback legs fill first; then the emulator pauses the source.
    let last = -1;
    for (let i = 0; i < 50 && offered !== last; i++) {
      last = offered;
      await sleep(100);
    }
    assert.equal(offered, last, 'the source was held back');
    const peak = emulator.stats().peakInflightBytes;
    assert.ok(peak >= bound, `the line filled (${peak} bytes)`);
    assert.ok(peak <= bound + ONE_READ, `peak ${peak} within the bound ${bound} + one read`);
    assert.ok(offered < 128 * MiB, `the source got only ${offered} bytes out`);
  });

  it('runs as its own process, printing its port, and its flags round-trip', async () => {
    const echo = await startEchoTarget();
    cleanups.push(() => echo.close());
    const options: LinkOptions = { upstreams: [{ host: '127.0.0.1', port: echo.port }], delayMs: 5, rateBytesPerSecond: 125_000_000, maxInflightBytes: 32 * MiB, listenPort: 0 };
    assert.deepEqual(parseLinkArgs(linkArgs(options)), options);
    assert.throws(() => parseLinkArgs(['--upstream', '127.0.0.1:1', '--delay', '5']), LinkArgsError);
    assert.throws(() => parseLinkArgs(['--delay-ms', '5']), /--upstream is required/);

    const child = await startLinkProcess('link emulator', EMULATOR_SCRIPT, options);
    cleanups.push(() => child.stop());
    assert.equal(child.entries[echo.port], child.port);
    const client = await dial(child.port);
    client.write('ping');
    assert.equal((await readBytes(client, 4)).toString(), 'ping');
  });
});
