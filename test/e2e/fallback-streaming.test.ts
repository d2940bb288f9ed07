/**
 * --fallback streams with backpressure: a 64 MiB download from the origin, through the relay,
 * to a client that reads slowly. The relay must hold the origin back (what the origin has
 * handed to its socket never runs far ahead of what the client has read: kernel buffers and
 * a few stream buffers, not the file) and the bytes must arrive intact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { createLogger } from '../../common/log.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { connectTcp } from '../helpers/io/socket-io.js';
import { withTimeout } from '../helpers/io/waiting.js';
import { BIG_BYTES, BIG_PATH, BIG_SEED, startFallbackOrigin, type FallbackOrigin } from '../helpers/targets/fallback-origin.js';
import { keystreamDigest, MiB, sleep } from '../helpers/workloads/bulk-data.js';

/** The client reads at most this much per tick... */
const READ_PER_TICK = 256 * 1024;
const TICK_MS = 2;
/** ...so it reads far slower than loopback carries (measured ~8 MiB ahead at most). First it reads nothing for a while. */
const STALL_MS = 1_500;
/** Loopback socket buffers (client, relay both ways, origin) and stream buffers, with room; far below 64 MiB. */
const MAX_AHEAD = 24 * MiB;
const TIMEOUT_MS = 60_000;

describe('a 64 MiB download through --fallback to a slow reader', () => {
  let origin: FallbackOrigin;
  let relay: Relay;
  let socket: Socket | null = null;
  before(async () => {
    origin = await startFallbackOrigin();
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: ['t-streaming'], path: '/s3cr3t', fallback: origin.url, logger: createLogger('relay', 'silent') });
  });
  after(async () => {
    socket?.destroy();
    await relay?.close();
    await origin?.close();
  });

  test('arrives intact while the relay holds the origin back', async () => {
    socket = await connectTcp(relay.address.port);
    socket.pause();
    socket.write(`GET ${BIG_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    await sleep(STALL_MS);
    const aheadWhileStalled = origin.bigBytesSent();
    assert.ok(aheadWhileStalled < MAX_AHEAD, `with the reader stalled the origin sent ${(aheadWhileStalled / MiB).toFixed(1)} MiB`);
    const result = await withTimeout(readSlowly(socket, origin), { what: 'the slow download', timeoutMs: TIMEOUT_MS });
    assert.ok(result.maxAhead < MAX_AHEAD, `the origin ran ${(result.maxAhead / MiB).toFixed(1)} MiB ahead of the reader`);
    assert.equal(result.bodyBytes, BIG_BYTES);
    assert.equal(result.sha256, keystreamDigest(BIG_SEED, BIG_BYTES));
    assert.equal(origin.bigBytesSent(), BIG_BYTES);
  });
});

interface SlowRead {
  bodyBytes: number;
  sha256: string;
  /** The most the origin had sent beyond what the reader had taken, sampled each tick. */
  maxAhead: number;
}

/** Reads the response in READ_PER_TICK bites, hashing the body after the head. */
async function readSlowly(socket: Socket, origin: FallbackOrigin): Promise<SlowRead> {
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  let inHead = true;
  let bodyBytes = 0;
  let received = 0;
  let maxAhead = 0;
  let ended = false;
  socket.once('end', () => (ended = true));
  const maxTicks = Math.ceil(TIMEOUT_MS / TICK_MS);
  for (let tick = 0; tick < maxTicks && !(ended && socket.readableLength === 0); tick++) {
    let taken = 0;
    for (let chunk: Buffer | null; taken < READ_PER_TICK && (chunk = socket.read() as Buffer | null) !== null; ) {
      taken += chunk.length;
      received += chunk.length;
      if (inHead) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) continue;
        assert.match(head.subarray(0, end).toString('latin1'), /^HTTP\/1\.1 200 /);
        inHead = false;
        chunk = head.subarray(end + 4);
      }
      bodyBytes += chunk.length;
      hash.update(chunk);
    }
    maxAhead = Math.max(maxAhead, origin.bigBytesSent() - bodyBytes);
    await sleep(TICK_MS);
  }
  return { bodyBytes, sha256: hash.digest('hex'), maxAhead };
}
