/**
 * Receive windows across a long link: a relay and a client in this process with a delaying
 * forwarder between them (20 ms each way). A fast reader's window grows past the initial one
 * and its bulk transfer arrives intact, each way; a reader that never reads earns nothing and
 * holds no more than its window.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { startClient, type Client } from '../../client/client.js';
import { createLogger } from '../../common/log.js';
import { INITIAL_STREAM_WINDOW } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { hashUntilEnd, keystreamDigest, MiB, sleep, writeKeystream } from '../helpers/workloads/bulk-data.js';
import { parseSinkAnswer, startFirehoseTarget, startHashSinkTarget, startKeystreamSourceTarget } from '../helpers/targets/data-targets.js';
import { startLatencyProxy, type LatencyProxy } from '../helpers/links/latency-proxy.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { readAll } from '../helpers/io/socket-io.js';
import { waitFor } from '../helpers/io/waiting.js';
import { rawSocks5Connect, socksConnect } from '../helpers/socks/socks-dial.js';
import { TEST_TOKEN } from '../helpers/tunnel/tunnel-pair.js';

const ONE_WAY_DELAY_MS = 20;
const BULK = 64 * MiB;
const BULK_TIMEOUT_MS = 60_000;
/** What one socket read in Node takes at most. */
const NODE_READ_BYTES = 64 * 1024;

describe(`receive windows across a link of ${2 * ONE_WAY_DELAY_MS} ms round trip`, () => {
  let relay: Relay;
  let link: LatencyProxy;
  let client: Client;
  const sockets: Socket[] = [];

  const dial = async (port: number): Promise<Socket> => {
    const socket = await socksConnect(client.socksAddress.port, port);
    sockets.push(socket);
    return socket;
  };
  const clientSession = async (): Promise<Session> => {
    const session = await client.tunnel.getSession();
    assert.ok(session, 'the tunnel is up');
    return session;
  };
  const relaySession = (): Session => {
    assert.equal(relay.sessions.size, 1, 'one tunnel');
    return [...relay.sessions][0];
  };

  before(async () => {
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TEST_TOKEN], rules: loopbackRules(), logger: createLogger('relay', 'silent') });
    link = await startLatencyProxy(relay.address.port, ONE_WAY_DELAY_MS);
    client = await startClient({
      relayUrl: `ws://127.0.0.1:${link.port}/tunnel`,
      token: TEST_TOKEN,
      socks: { host: '127.0.0.1', port: 0 },
      logger: createLogger('client', 'silent'),
    });
    await clientSession();
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await client.close();
    await link.close();
    await relay.close();
  });

  it('a 64 MiB download arrives intact and the client-side window grew past the initial one', { timeout: 90_000 }, async () => {
    const source = await startKeystreamSourceTarget();
    try {
      const app = await dial(source.port);
      const received = hashUntilEnd(app, BULK_TIMEOUT_MS);
      app.write(`download ${BULK}\n`);
      const { bytes, sha256 } = await received;
      assert.equal(bytes, BULK);
      assert.equal(sha256, keystreamDigest('download', BULK));
      const largest = (await clientSession()).windowBudget.largestWindow;
      assert.ok(largest > INITIAL_STREAM_WINDOW, `the download's window reached ${largest} bytes`);
    } finally {
      await source.close();
    }
  });

  it('a 64 MiB upload arrives intact and the relay-side window grew past the initial one', { timeout: 90_000 }, async () => {
    const sink = await startHashSinkTarget();
    try {
      const app = await dial(sink.port);
      const answer = readAll(app, BULK_TIMEOUT_MS);
      const sent = await writeKeystream(app, 'upload', BULK, BULK_TIMEOUT_MS);
      app.end();
      assert.deepEqual(parseSinkAnswer(await answer), { bytes: BULK, sha256: sent.sha256 });
      const largest = relaySession().windowBudget.largestWindow;
      assert.ok(largest > INITIAL_STREAM_WINDOW, `the upload's window reached ${largest} bytes`);
    } finally {
      await sink.close();
    }
  });

  it('a stream whose application never reads keeps the initial window and holds no more than it', { timeout: 30_000 }, async () => {
    const firehose = await startFirehoseTarget();
    try {
      const session = await clientSession();
      const before = new Set(session.streams.keys());
      // By hand, not through the socks package, which resumes the socket after handing it over.
      const { rep, socket: app } = await rawSocks5Connect(client.socksAddress.port, firehose.port);
      app.pause(); // at once, in the same turn: never reads, the kernel's buffers fill, then the client's socket pushes back
      sockets.push(app);
      assert.equal(rep, 0x00, 'CONNECT succeeded');
      const readBeforePause = app.bytesRead;
      const [stalled] = [...session.streams.values()].filter((stream) => !before.has(stream.id));
      assert.ok(stalled, 'the stalled stream is open on the client');
      await waitFor(() => stalled.pendingBytes > 0 && firehose.connections[0]?.blocked === true, { what: 'the stream to fill and the target to be pushed back' });
      await sleep(20 * ONE_WAY_DELAY_MS); // ten round trips in which a growing window would have grown
      assert.equal(stalled.receiveWindowSize, INITIAL_STREAM_WINDOW, 'a reader that never reads earns no growth');
      assert.ok(stalled.pendingBytes <= INITIAL_STREAM_WINDOW, `it holds ${stalled.pendingBytes} bytes, within its window`);
      // A paused socket still takes a read or two (64 KiB each) into Node's own buffer, and no more.
      const readWhilePaused = app.bytesRead - readBeforePause;
      assert.ok(readWhilePaused <= 2 * NODE_READ_BYTES, `the application read nothing (${readWhilePaused} bytes sit in Node's read buffer)`);
    } finally {
      firehose.stop();
      await firehose.close();
    }
  });
});
