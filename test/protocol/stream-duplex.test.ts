/**
 * StreamDuplex over a real session pair: bytes both ways with FIN in order, backpressure
 * (a reader that stops holds the writer back, and the peer's credit is returned only as
 * bytes are read), and resets crossing as errors and back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Command, INITIAL_STREAM_WINDOW, ReplyCode, ResetCode } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';
import { StreamDuplex, StreamResetError } from '../../protocol/stream-duplex.js';
import { Recorder } from '../helpers/tunnel/stream-recorder.js';
import { startSessionServer, type SessionServer } from '../helpers/tunnel/session-pair.js';
import { MiB, sleep } from '../helpers/workloads/bulk-data.js';
import { waitFor, withTimeout } from '../helpers/io/waiting.js';

const TARGET = { host: 'example.test', port: 80 };
const SETTLE_MS = 300;

async function openPair(client: Session, relay: Session): Promise<{ clientStream: Stream; relayStream: Stream }> {
  const opened = once(relay, 'open', { signal: AbortSignal.timeout(5_000) });
  const { stream, result } = client.openStream(Command.Connect, TARGET);
  const [relayStream] = (await opened) as [Stream];
  relay.answerOpen(relayStream, ReplyCode.Succeeded);
  await withTimeout(result, { what: 'OPEN_RESULT' });
  return { clientStream: stream, relayStream };
}

function digest(chunks: Buffer[]): string {
  return createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
}

/** Every chunk until 'end'; not for-await, which destroys a Duplex whose writable side is still open. */
function readAll(readable: Readable): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  readable.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => readable.once('end', () => resolve(chunks)));
}

/** Writes `chunk` until a 'drain' fails to come within SETTLE_MS (or `maxBytes` went out); resolves with the bytes written. */
async function writeUntilStalled(writable: StreamDuplex, chunk: Buffer, maxBytes: number): Promise<number> {
  let written = 0;
  while (written < maxBytes) {
    written += chunk.length;
    if (writable.write(chunk)) continue;
    try {
      await once(writable, 'drain', { signal: AbortSignal.timeout(SETTLE_MS) });
    } catch {
      return written;
    }
  }
  return written;
}

describe('StreamDuplex', () => {
  let server: SessionServer;
  let client: Session;
  let relay: Session;

  before(async () => {
    server = await startSessionServer();
    ({ client, relay } = await server.connectClient());
  });
  after(() => server.close());

  it('carries bytes both ways through pipe(), then ends in order and closes the stream', async () => {
    const { clientStream, relayStream } = await openPair(client, relay);
    const near = new StreamDuplex(clientStream);
    const far = new StreamDuplex(relayStream);
    far.pipe(far); // echo, ending when the near side ends
    const payload = Array.from({ length: 48 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const [, echoed] = await withTimeout(Promise.all([pipeline(Readable.from(payload), near), readAll(near)]), { what: 'the echo of 3 MiB' });
    assert.equal(digest(echoed), digest(payload));
    await waitFor(() => clientStream.isClosed && relayStream.isClosed, { what: 'both stream ends closed' });
  });

  it('holds a writer back while the reader stops, returning credit only for what is read', async () => {
    const { clientStream, relayStream } = await openPair(client, relay);
    const near = new StreamDuplex(clientStream);
    const far = new StreamDuplex(relayStream);
    const chunk = Buffer.alloc(64 * 1024, 7);
    const written = await writeUntilStalled(near, chunk, 64 * MiB);
    assert.ok(written < 4 * MiB, `the writer was held back after ${written} bytes`);
    // Not one byte beyond the first window reached the far side, since nothing was read there.
    assert.equal(relayStream.bytesReceived, INITIAL_STREAM_WINDOW);
    near.end();
    near.resume();
    const received = await withTimeout(readAll(far), { what: 'everything, once the far side reads' });
    assert.equal(Buffer.concat(received).length, written);
    far.end();
    await waitFor(() => clientStream.isClosed && relayStream.isClosed, { what: 'both stream ends closed' });
  });

  it('turns a reset from the peer into an error, and a destroy into a reset for the peer', async () => {
    const first = await openPair(client, relay);
    const near = new StreamDuplex(first.clientStream);
    const failed = once(near, 'error');
    first.relayStream.reset(ResetCode.PeerReset, 'target reset the connection');
    const [err] = (await withTimeout(failed, { what: 'the error' })) as [StreamResetError];
    assert.ok(err instanceof StreamResetError);
    assert.equal(err.info.byPeer, true);
    assert.match(err.message, /target reset the connection/);

    const second = await openPair(client, relay);
    const farSide = new Recorder(second.relayStream, { autoConsume: true });
    new StreamDuplex(second.clientStream).destroy();
    await waitFor(() => farSide.closed, { what: 'the far side to hear of the destroy' });
    assert.equal(farSide.closeInfo?.byPeer, true);
    assert.equal(farSide.closeInfo?.code, ResetCode.Aborted);
  });
});
