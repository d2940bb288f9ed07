/**
 * The data path as an application sees it, through a real relay and client in this process
 * (startPair) and the `socks` npm package: bulk integrity both ways and full duplex, TCP
 * half-close in both orders, servers that speak first, many streams on one tunnel, a stalled
 * reader that must not hold up its neighbours, resets and aborts, and no leaks afterwards.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { startEchoTarget, startTarget, type Target } from '../helpers/targets/targets.js';
import { readAll, readBytes, waitClose } from '../helpers/io/socket-io.js';
import { socksConnect } from '../helpers/socks/socks-dial.js';
import { hashUntilEnd, Keystream, keystreamDigest, KiB, MiB, sleep, writeKeystream } from '../helpers/workloads/bulk-data.js';
import {
  parseSinkAnswer,
  startBannerTarget,
  startEndFirstTarget,
  startFirehoseTarget,
  startHashSinkTarget,
  startKeystreamSourceTarget,
} from '../helpers/targets/data-targets.js';
import type { Session } from '../../protocol/session.js';
import { waitFor, withTimeout } from '../helpers/io/waiting.js';

const BULK = 64 * MiB;
const BULK_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 90_000;

describe('data path through one tunnel', () => {
  let pair: TunnelPair;
  /** The one relay-side session every stream of this file must ride on. */
  let relaySession: Session;
  const open: Socket[] = [];

  /** Dials through SOCKS and remembers the socket so `after` closes it whatever happens. */
  const dial = async (port: number): Promise<Socket> => {
    const socket = await socksConnect(pair.socksPort, port);
    open.push(socket);
    return socket;
  };

  const assertOneTunnel = (): void => {
    assert.equal(pair.client.tunnel.connections, 1, 'the client connected its tunnel exactly once');
    assert.equal(pair.relay.sessions.size, 1, 'the relay holds exactly one session');
    assert.ok(pair.relay.sessions.has(relaySession), 'it is still the first session');
  };

  const withTarget = async <T extends Target>(start: () => Promise<T>, body: (target: T) => Promise<void>): Promise<void> => {
    const target = await start();
    try {
      await body(target);
    } finally {
      await target.close();
    }
  };

  before(async () => {
    pair = await startPair();
    assert.equal(pair.relay.sessions.size, 1);
    relaySession = [...pair.relay.sessions][0];
  });

  // Every test ends its streams; whatever it leaves open on the relay is a leak.
  afterEach(async () => {
    await waitFor(() => relaySession.streams.size === 0, { what: 'the relay stream table to empty after the test', timeoutMs: 5_000 });
  });
  after(async () => {
    for (const socket of open) socket.destroy();
    await pair.close();
  });

  it('uploads 64 MiB intact: the target hashes what it read to EOF and reports it', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withTarget(startHashSinkTarget, async (sink) => {
      const app = await dial(sink.port);
      const answer = readAll(app, BULK_TIMEOUT_MS);
      const sent = await writeKeystream(app, 'upload', BULK, BULK_TIMEOUT_MS);
      app.end();
      const reported = parseSinkAnswer(await answer);
      assert.equal(reported.bytes, BULK);
      assert.equal(reported.sha256, sent.sha256);
      assertOneTunnel();
    });
  });

  it('downloads 64 MiB intact from a target streaming pseudo-random bytes', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withTarget(startKeystreamSourceTarget, async (source) => {
      const app = await dial(source.port);
      const received = hashUntilEnd(app, BULK_TIMEOUT_MS);
      app.write(`download ${BULK}\n`);
      const got = await received;
      assert.equal(got.bytes, BULK);
      assert.equal(got.sha256, keystreamDigest('download', BULK));
      assertOneTunnel();
      app.end();
      await waitClose(app);
    });
  });

  it('echoes 64 MiB full duplex: sending and receiving at the same time', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withTarget(() => startEchoTarget(), async (echo) => {
      const app = await dial(echo.port);
      const received = hashUntilEnd(app, BULK_TIMEOUT_MS);
      const sent = await writeKeystream(app, 'duplex', BULK, BULK_TIMEOUT_MS);
      app.end();
      const got = await received;
      assert.equal(got.bytes, BULK);
      assert.equal(got.sha256, sent.sha256);
      assertOneTunnel();
    });
  });

  it('half-close: the app ends its request, the target answers only after EOF, the app reads the whole answer', async () => {
    await withTarget(startHashSinkTarget, async (sink) => {
      const app = await dial(sink.port);
      const request = new Keystream('request').next(300 * KiB);
      const answer = readAll(app);
      app.end(request);
      const reported = parseSinkAnswer(await answer);
      assert.equal(reported.bytes, request.length);
      assert.equal(reported.sha256, keystreamDigest('request', request.length));
      await waitClose(app);
    });
  });

  it('half-close reversed: the target ends first, the app keeps sending and all of it arrives', async () => {
    await withTarget(() => startEndFirstTarget('no more from me\n'), async (target) => {
      const app = await dial(target.port);
      const greeting = readAll(app);
      assert.equal((await greeting).toString(), 'no more from me\n', 'the app sees the message then end');
      assert.equal(app.writable, true, "the app's write side is still open");
      await waitFor(() => target.received.length === 1, { what: 'the target to accept' });
      const sent = await writeKeystream(app, 'after-fin', 2 * MiB, BULK_TIMEOUT_MS);
      app.end();
      const received = await target.received[0];
      assert.deepEqual(received, { bytes: sent.bytes, sha256: sent.sha256 });
      await waitClose(app);
    });
  });

  it('a server that speaks first: its banner arrives without the app sending anything', async () => {
    const banner = '220 mail.test ESMTP ready\r\n';
    await withTarget(() => startBannerTarget(banner, '221 bye\r\n'), async (smtp) => {
      const app = await dial(smtp.port);
      const greeting = await readBytes(app, banner.length);
      assert.equal(greeting.toString(), banner);
      const rest = readAll(app);
      app.write('QUIT\r\n');
      assert.equal((await rest).toString(), '221 bye\r\n');
      app.end();
      await waitClose(app);
    });
  });

  it('a server that sends 1 MiB and hangs up the moment it accepts: the app still gets all of it, then EOF', async () => {
    const greeting = new Keystream('eager').next(MiB);
    await withTarget(() => startTarget((socket) => socket.end(greeting)), async (eager) => {
      const app = await dial(eager.port);
      const received = await readAll(app);
      assert.equal(received.length, greeting.length);
      assert.ok(received.equals(greeting));
      app.end();
      await waitClose(app);
    });
  });

  it('500 concurrent streams, each echoing its own 16 KiB, all on the one tunnel', { timeout: TEST_TIMEOUT_MS }, async () => {
    const STREAMS = 500;
    const SIZE = 16 * KiB;
    await withTarget(() => startEchoTarget(), async (echo) => {
      const apps = await Promise.all(Array.from({ length: STREAMS }, () => dial(echo.port)));
      assertOneTunnel();
      assert.equal(relaySession.streams.size, STREAMS, 'every stream is open on the one relay session at once');
      const payloads = apps.map((_, i) => new Keystream(`stream-${i}`).next(SIZE));
      const echoed = await Promise.all(
        apps.map((app, i) => {
          const back = readAll(app, 30_000);
          app.end(payloads[i]);
          return back;
        }),
      );
      for (let i = 0; i < STREAMS; i++) assert.ok(echoed[i].equals(payloads[i]), `stream ${i} got its own bytes back`);
      assertOneTunnel();
      await waitFor(() => relaySession.streams.size === 0, { what: 'the streams to close' });
    });
  });

  it('a stalled reader holds back only itself: another stream moves 64 MiB meanwhile, and the stalled one stays bounded', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const firehose = await startFirehoseTarget();
    const source = await startKeystreamSourceTarget();
    try {
      // Stream A: the application never reads.
      const stalled = await dial(firehose.port);
      let stalledReceived = 0;
      stalled.on('data', (chunk: Buffer) => (stalledReceived += chunk.length));
      await new Promise((resolve) => setImmediate(resolve)); // the socks package resumes the socket once
      stalled.pause();
      await waitFor(() => firehose.connections.length === 1, { what: 'the firehose to accept' });
      const hose = firehose.connections[0];
      const relayStream = [...relaySession.streams.values()][0];
      assert.equal(relaySession.streams.size, 1);

      // Stream B: a bulk download on the same tunnel.
      const started = Date.now();
      const bulk = await dial(source.port);
      const received = hashUntilEnd(bulk, 30_000);
      bulk.write(`neighbour ${BULK}\n`);
      const got = await received;
      const elapsed = Date.now() - started;
      assert.equal(got.bytes, BULK);
      assert.equal(got.sha256, keystreamDigest('neighbour', BULK));
      assert.ok(elapsed < 30_000, `B took ${elapsed} ms`);
      bulk.end();
      await waitClose(bulk);

      // A's target is held back by backpressure, not buffered without end somewhere on the way.
      await waitFor(() => hose.blocked, { what: "the firehose's writes to block", timeoutMs: 5_000 });
      const plateau = hose.accepted;
      const forwarded = relayStream.bytesSent;
      await sleep(500);
      assert.equal(hose.accepted, plateau, 'the firehose made no progress while the app does not read');
      assert.equal(relayStream.bytesSent, forwarded, 'the relay sent nothing more on the stalled stream');
      assert.ok(hose.blocked, 'its socket.write still reports backpressure');
      t.diagnostic(
        `stalled stream: target pushed ${plateau} bytes before backpressure, the relay forwarded ${relayStream.bytesSent}, ` +
          `the app's socket delivered ${stalledReceived} before pausing; B took ${elapsed} ms`,
      );
      assert.ok(plateau < 16 * MiB, `the stalled stream absorbed ${plateau} bytes before pushing back`);
      assert.ok(stalledReceived < plateau);
      assertOneTunnel();

      // The app gives up on A: its target is released at once.
      stalled.destroy();
      await waitClose(hose.socket, 5_000);
    } finally {
      firehose.stop();
      await firehose.close();
      await source.close();
    }
  });

  it('a target reset while the stream is idle reaches the app as ECONNRESET', async () => {
    await withTarget(() => startBannerTarget('hello\n', ''), async (target) => {
      const app = await dial(target.port);
      const errors: (string | undefined)[] = [];
      app.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code));
      assert.equal((await readBytes(app, 6)).toString(), 'hello\n');
      await waitFor(() => target.sockets.size === 1, { what: 'the target to accept' });
      [...target.sockets][0].resetAndDestroy();
      await waitClose(app, 5_000);
      assert.deepEqual(errors, ['ECONNRESET']);
    });
  });

  it('a target reset mid-transfer makes the app socket end or fail promptly, never hang', async () => {
    const firehose = await startFirehoseTarget();
    try {
      const app = await dial(firehose.port);
      const settled = new Promise<void>((resolve) => {
        app.once('end', () => resolve());
        app.once('error', () => resolve());
      });
      await readBytes(app, 256 * KiB); // data is flowing, and the socket keeps flowing (and discarding) after this
      firehose.connections[0].socket.resetAndDestroy();
      // A reset that lands behind buffered data can surface as EOF (libuv reads EPOLLRDHUP after a
      // short read as end of stream), so either outcome is what a direct TCP connection would show.
      await withTimeout(settled, { what: 'the app socket to see end or error', timeoutMs: 5_000 });
      app.end();
      await waitClose(app, 5_000);
    } finally {
      firehose.stop();
      await firehose.close();
    }
  });

  it("the app destroying its socket mid-download closes the target's socket promptly", async () => {
    const firehose = await startFirehoseTarget();
    try {
      const app = await dial(firehose.port);
      await readBytes(app, 256 * KiB);
      app.destroy();
      await waitClose(firehose.connections[0].socket, 5_000);
    } finally {
      firehose.stop();
      await firehose.close();
    }
  });

  it("the app destroying its socket mid-upload closes the target's socket promptly", async () => {
    await withTarget(startHashSinkTarget, async (sink) => {
      const app = await dial(sink.port);
      const upload = writeKeystream(app, 'aborted', BULK, BULK_TIMEOUT_MS).catch(() => null);
      await waitFor(() => sink.sockets.size === 1 && app.bytesWritten > MiB, { what: 'the upload to be under way' });
      const targetSocket = [...sink.sockets][0];
      app.destroy();
      await upload;
      await waitClose(targetSocket, 5_000);
    });
  });

  it('after 2000 sequential short streams nothing leaks: no streams on either side, no target sockets', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ROUNDS = 2000;
    const tcpHandles = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
    await withTarget(() => startEchoTarget(), async (echo) => {
      const baseline = tcpHandles();
      const deadline = Date.now() + 60_000;
      for (let i = 0; i < ROUNDS; i++) {
        assert.ok(Date.now() < deadline, `round ${i} ran past the deadline`);
        const app = await socksConnect(pair.socksPort, echo.port);
        try {
          const message = `round ${i}\n`;
          const back = readAll(app);
          app.end(message);
          assert.equal((await back).toString(), message);
          await waitClose(app);
        } finally {
          app.destroy();
        }
      }
      assertOneTunnel();
      const clientSession = pair.client.tunnel.current;
      assert.ok(clientSession);
      await waitFor(() => relaySession.streams.size === 0, { what: 'the relay stream table to empty' });
      await waitFor(() => clientSession.streams.size === 0, { what: 'the client stream table to empty' });
      await waitFor(() => echo.sockets.size === 0, { what: "the target's sockets to close" });
      await waitFor(() => tcpHandles() <= baseline, { what: () => `TCP handles to return to ${baseline} (now ${tcpHandles()})` });
    });
  });
});
