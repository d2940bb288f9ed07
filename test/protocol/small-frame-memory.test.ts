/**
 * A small DATA frame costs its own size, not a pooled 64 KiB frame buffer: 2,000 streams each
 * sending a byte in the same turn (an echo burst across many connections) must not hold
 * 2,000 × 64 KiB of ArrayBuffers, which V8 answered with back-to-back full collections.
 * Over a real WebSocket on 127.0.0.1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command, ReplyCode } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';
import { startSessionServer, type SessionServer } from '../helpers/tunnel/session-pair.js';
import { withTimeout } from '../helpers/io/waiting.js';

const STREAMS = 2_000;
const MiB = 1024 * 1024;
/** Before the fix the burst held about 125 MiB; its own frames are 7 bytes each. */
const MAX_GROWTH_BYTES = 16 * MiB;

describe('small DATA frames', () => {
  let server: SessionServer;
  let client: Session;
  let relay: Session;

  before(async () => {
    server = await startSessionServer();
    ({ client, relay } = await server.connectClient());
  });

  after(async () => {
    await server.close();
  });

  it('a byte on each of 2,000 streams in one turn allocates kilobytes, not a 64 KiB buffer per frame', async () => {
    relay.on('open', (stream: Stream) => relay.answerOpen(stream, ReplyCode.Succeeded));
    const opened = Array.from({ length: STREAMS }, () => client.openStream(Command.Connect, { host: 'example.test', port: 80 }));
    await withTimeout(Promise.all(opened.map(({ result }) => result)), { what: `${STREAMS} OPEN_RESULTs` });

    const before = process.memoryUsage().arrayBuffers;
    for (const { stream } of opened) stream.write(Buffer.of(0x2a));
    const growth = process.memoryUsage().arrayBuffers - before;

    assert.ok(growth < MAX_GROWTH_BYTES, `the burst holds ${(growth / MiB).toFixed(1)} MiB of ArrayBuffers`);
  });
});
