/**
 * Session tests over a real WebSocket on 127.0.0.1: HELLO, OPEN/OPEN_RESULT, flow control
 * (a sender never exceeds its window, credit comes back only on consumed()), write
 * backpressure and drain, FIN and RESET each way, protocol violations from a raw peer
 * (go-away ProtocolError, other sessions unharmed), idempotent close, and RTT.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { encodeBindResult, encodeData, encodeFin, encodeHello, encodeOpen, encodePing, encodeWindowUpdate } from '../../protocol/codec.js';
import {
  Command,
  FRAME_HEADER_SIZE,
  FrameType,
  GoAwayCode,
  INITIAL_STREAM_WINDOW,
  MAX_DATA_PAYLOAD,
  MAX_STREAM_WINDOW,
  MAX_STREAM_WINDOW_V2,
  ReplyCode,
  ResetCode,
  type Frame,
} from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import { SEND_QUEUE_HIGH_WATER, StreamState, type Stream, type StreamSink } from '../../protocol/stream.js';
import { Recorder } from '../helpers/tunnel/stream-recorder.js';
import { startSessionServer, type RawPeer, type SessionServer } from '../helpers/tunnel/session-pair.js';

import { Keystream, MiB, sleep } from '../helpers/workloads/bulk-data.js';
import { waitFor, withTimeout } from '../helpers/io/waiting.js';

const TARGET = { host: 'example.test', port: 443 };
const SETTLE_MS = 300;
/** No frame type uses this value (the highest defined is 0x0a). */
const UNKNOWN_FRAME_TYPE = 0xff;

/** Opens a stream from `client`; the relay answers `reply`. Resolves with both ends. */
async function openPair(client: Session, relay: Session, reply: ReplyCode = ReplyCode.Succeeded) {
  const opened = once(relay, 'open', { signal: AbortSignal.timeout(5_000) });
  const { stream, result } = client.openStream(Command.Connect, TARGET);
  const [relayStream, command, address] = (await opened) as [Stream, Command, typeof TARGET];
  relay.answerOpen(relayStream, reply, { host: '10.1.2.3', port: 4321 });
  const outcome = await withTimeout(result, { what: 'OPEN_RESULT' });
  return { clientStream: stream, relayStream, command, address, outcome };
}

describe('Session over a real WebSocket', () => {
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

  it('negotiates version 2 with HELLO on both sides', async () => {
    assert.equal(await client.ready, 2);
    assert.equal(await relay.ready, 2);
    assert.equal(client.version, 2);
    assert.equal(relay.version, 2);
  });

  it('OPEN answered with success: the client learns the bound address, both ends are open', async () => {
    const { clientStream, relayStream, command, address, outcome } = await openPair(client, relay);
    assert.equal(command, Command.Connect);
    assert.deepEqual(address, TARGET);
    assert.deepEqual(outcome, { reply: ReplyCode.Succeeded, bound: { host: '10.1.2.3', port: 4321 } });
    assert.equal(clientStream.state, StreamState.Open);
    assert.equal(relayStream.state, StreamState.Open);
    assert.equal(clientStream.id % 2, 1, 'client stream ids are odd');
    clientStream.reset(ResetCode.Aborted, 'done');
    await waitFor(() => relay.streams.size === 0, { what: 'the relay to drop the stream' });
  });

  it('OPEN answered with a failure: the reply reaches the client and the stream is closed on both sides', async () => {
    const { clientStream, relayStream, outcome } = await openPair(client, relay, ReplyCode.ConnectionRefused);
    assert.equal(outcome.reply, ReplyCode.ConnectionRefused);
    assert.equal(clientStream.state, StreamState.Closed);
    assert.equal(relayStream.state, StreamState.Closed);
    assert.equal(client.streams.has(clientStream.id), false);
    assert.equal(relay.streams.has(relayStream.id), false);
    assert.equal(client.isClosed, false, 'a refused open does not harm the session');
  });

  it('a FIN that comes with the OPEN leaves the relay stream opening (dial-timeout territory) until it answers', async () => {
    const opened = once(relay, 'open', { signal: AbortSignal.timeout(5_000) });
    const { stream, result } = client.openStream(Command.Connect, TARGET);
    stream.end();
    const [relayStream] = (await opened) as [Stream];
    await waitFor(() => relayStream.remoteEnded, { what: 'the FIN' });
    assert.equal(relayStream.isOpening, true);
    relay.answerOpen(relayStream, ReplyCode.Succeeded);
    assert.equal(relayStream.isOpening, false);
    await withTimeout(result, { what: 'OPEN_RESULT' });
    assert.equal(stream.isOpening, false);
    relayStream.end();
    await waitFor(() => relayStream.isClosed && stream.isClosed, { what: 'both ends to close' });
  });

  it('a stream reset in the same read as its success reply: a sink attached afterwards hears the reset at once', async () => {
    const opened = once(relay, 'open', { signal: AbortSignal.timeout(5_000) });
    const { stream, result } = client.openStream(Command.Connect, TARGET);
    const [relayStream] = (await opened) as [Stream];
    relay.answerOpen(relayStream, ReplyCode.Succeeded);
    relayStream.reset(ResetCode.PeerReset, 'gone at once');
    assert.equal((await withTimeout(result, { what: 'OPEN_RESULT' })).reply, ReplyCode.Succeeded);
    await waitFor(() => stream.isClosed, { what: 'the reset to arrive' });
    const sink = new Recorder(stream, { autoConsume: true });
    assert.deepEqual(sink.closeInfo, { code: ResetCode.PeerReset, reason: 'gone at once', byPeer: true });
  });

  it('a sender never exceeds the window: without consumed() exactly INITIAL_STREAM_WINDOW arrives', async () => {
    const { clientStream, relayStream } = await openPair(client, relay);
    const sink = new Recorder(relayStream, { autoConsume: false });
    const payload = new Keystream('window').next(4 * MiB);
    clientStream.write(payload);
    await waitFor(() => sink.bytes >= INITIAL_STREAM_WINDOW, { what: 'the first window' });
    await sleep(SETTLE_MS);
    assert.equal(sink.bytes, INITIAL_STREAM_WINDOW, 'not one byte beyond the window');
    assert.equal(relay.isClosed, false);

    // A quarter of a window consumed is the threshold for an update; just below it nothing moves.
    relayStream.consumed(INITIAL_STREAM_WINDOW / 4 - 1);
    await sleep(SETTLE_MS);
    assert.equal(sink.bytes, INITIAL_STREAM_WINDOW, 'credit below a quarter of a window is not returned yet');
    relayStream.consumed(1);
    await waitFor(() => sink.bytes === INITIAL_STREAM_WINDOW * 1.25, { what: 'the returned quarter window' });
    await sleep(SETTLE_MS);
    assert.equal(sink.bytes, INITIAL_STREAM_WINDOW * 1.25, 'exactly the returned credit arrived');

    // From now on the sink consumes as it goes, and everything arrives intact.
    sink.autoConsume = true;
    relayStream.consumed(INITIAL_STREAM_WINDOW * 1.25);
    await waitFor(() => sink.bytes === payload.length, { what: 'all 4 MiB' });
    assert.ok(sink.data.equals(payload));
    clientStream.end();
    relayStream.end();
    await waitFor(() => sink.closed, { what: 'the stream to close' });
  });

  it('write() returns false at SEND_QUEUE_HIGH_WATER and onDrain fires once credit lets the queue drain', async () => {
    const { clientStream, relayStream } = await openPair(client, relay);
    const receiver = new Recorder(relayStream, { autoConsume: false });
    const sender = new Recorder(clientStream, { autoConsume: true });
    // The window may be larger than the wire takes in one turn: let all of it arrive first.
    clientStream.write(Buffer.alloc(INITIAL_STREAM_WINDOW, 1));
    await waitFor(() => receiver.bytes === INITIAL_STREAM_WINDOW, { what: 'the whole first window' });
    const drainsBefore = sender.drains;
    assert.equal(clientStream.write(Buffer.alloc(SEND_QUEUE_HIGH_WATER - 1, 2)), true, 'just below the high-water mark');
    assert.equal(clientStream.write(Buffer.alloc(1, 3)), false, 'at the high-water mark the source must pause');
    await sleep(SETTLE_MS);
    assert.equal(sender.drains, drainsBefore, 'no drain while there is no credit');
    relayStream.consumed(INITIAL_STREAM_WINDOW);
    await waitFor(() => sender.drains === drainsBefore + 1, { what: 'onDrain' });
    await waitFor(() => receiver.bytes === INITIAL_STREAM_WINDOW + SEND_QUEUE_HIGH_WATER, { what: 'the queued bytes' });
    clientStream.reset(ResetCode.Aborted, 'done');
    await waitFor(() => receiver.closed, { what: 'the reset' });
  });

  it('writeBorrowed: bytes that wait for credit are kept as written, though the caller reuses its buffer at once', async () => {
    const { clientStream, relayStream } = await openPair(client, relay);
    const receiver = new Recorder(relayStream, { autoConsume: false });
    clientStream.write(Buffer.alloc(INITIAL_STREAM_WINDOW, 1)); // uses up the credit
    await waitFor(() => receiver.bytes === INITIAL_STREAM_WINDOW, { what: 'the whole first window' });
    const reused = Buffer.alloc(MAX_DATA_PAYLOAD);
    const expected: Buffer[] = [];
    // Full reads are kept in pool buffers, short ones in copies of their own size: both must survive.
    for (const [round, size] of [MAX_DATA_PAYLOAD, 100, MAX_DATA_PAYLOAD, 1].entries()) {
      const bytes = new Keystream(`borrowed ${round}`).next(size);
      bytes.copy(reused);
      clientStream.writeBorrowed(reused.subarray(0, size));
      reused.fill(0xee); // what a shared read buffer's next read would do
      expected.push(bytes);
    }
    const borrowed = Buffer.concat(expected);
    relayStream.consumed(INITIAL_STREAM_WINDOW);
    receiver.autoConsume = true;
    await waitFor(() => receiver.bytes === INITIAL_STREAM_WINDOW + borrowed.length, { what: 'the borrowed bytes' });
    assert.ok(receiver.data.subarray(INITIAL_STREAM_WINDOW).equals(borrowed), 'each queued chunk arrives as it was written');
    clientStream.reset(ResetCode.Aborted, 'done');
    await waitFor(() => receiver.closed, { what: 'the reset' });
  });

  it('FIN each way: data before FIN arrives, each side keeps sending after the other FIN, closed after both', async () => {
    const { clientStream, relayStream } = await openPair(client, relay);
    const atClient = new Recorder(clientStream, { autoConsume: true });
    const atRelay = new Recorder(relayStream, { autoConsume: true });

    clientStream.write(Buffer.from('request'));
    clientStream.end();
    await waitFor(() => atRelay.ended, { what: 'the client FIN at the relay' });
    assert.equal(atRelay.data.toString(), 'request');
    assert.equal(clientStream.state, StreamState.HalfClosedLocal);
    assert.equal(relayStream.state, StreamState.HalfClosedRemote);
    assert.equal(clientStream.write(Buffer.from('late')), true, 'write after end is ignored, not an error');

    relayStream.write(Buffer.from('response'));
    relayStream.end();
    await waitFor(() => atClient.ended && atClient.closed && atRelay.closed, { what: 'both ends to close' });
    assert.equal(atClient.data.toString(), 'response');
    assert.equal(atRelay.data.toString(), 'request', 'nothing was sent after FIN');
    assert.equal(atClient.closeInfo, null, 'an orderly close');
    assert.equal(atRelay.closeInfo, null);
    assert.equal(clientStream.state, StreamState.Closed);
    assert.equal(relayStream.state, StreamState.Closed);
    assert.equal(client.streams.has(clientStream.id), false);
    assert.equal(relay.streams.has(relayStream.id), false);
  });

  for (const resetter of ['client', 'relay'] as const) {
    it(`RESET from the ${resetter} reaches the other side's onClose with byPeer`, async () => {
      const { clientStream, relayStream } = await openPair(client, relay);
      const atClient = new Recorder(clientStream, { autoConsume: true });
      const atRelay = new Recorder(relayStream, { autoConsume: true });
      const [local, remote, localRecorder, remoteRecorder] =
        resetter === 'client' ? [clientStream, relayStream, atClient, atRelay] : [relayStream, clientStream, atRelay, atClient];
      local.reset(ResetCode.PeerReset, 'target reset the connection');
      local.reset(ResetCode.Aborted, 'second reset is a no-op');
      assert.deepEqual(localRecorder.closeInfo, { code: ResetCode.PeerReset, reason: 'target reset the connection', byPeer: false });
      await waitFor(() => remoteRecorder.closed, { what: 'the reset at the peer' });
      assert.deepEqual(remoteRecorder.closeInfo, { code: ResetCode.PeerReset, reason: 'target reset the connection', byPeer: true });
      assert.equal(remote.state, StreamState.Closed);
      assert.equal(client.isClosed || relay.isClosed, false, 'a stream reset leaves the session up');
    });
  }

  it('RTT is measured with a short keepalive interval', async () => {
    const fast = await server.connectClient({ keepaliveIntervalMs: 50, keepaliveTimeoutMs: 5_000 });
    try {
      const [ms] = (await once(fast.client, 'rtt', { signal: AbortSignal.timeout(5_000) })) as [number];
      assert.ok(ms >= 0 && ms < 1_000, `rtt ${ms} ms`);
      assert.equal(fast.client.rttMs, ms);
    } finally {
      fast.client.close();
    }
  });

  it('close() twice is harmless: one close event, the peer sees one go-away Normal, streams end as SessionClosed', async () => {
    const pair = await server.connectClient();
    const { clientStream, relayStream } = await openPair(pair.client, pair.relay);
    const atClient = new Recorder(clientStream, { autoConsume: true });
    const atRelay = new Recorder(relayStream, { autoConsume: true });
    let clientCloses = 0;
    let relayCloses = 0;
    pair.client.on('close', () => clientCloses++);
    pair.relay.on('close', () => relayCloses++);
    pair.client.close(GoAwayCode.Normal, 'bye');
    pair.client.close(GoAwayCode.InternalError, 'again');
    assert.deepEqual(pair.client.closeInfo, { code: GoAwayCode.Normal, reason: 'bye', byPeer: false });
    await waitFor(() => pair.relay.isClosed, { what: 'the relay session to close' });
    pair.relay.close();
    pair.relay.close();
    await sleep(SETTLE_MS);
    assert.equal(clientCloses, 1);
    assert.equal(relayCloses, 1);
    assert.deepEqual(pair.relay.closeInfo, { code: GoAwayCode.Normal, reason: 'bye', byPeer: true });
    assert.equal(atClient.closeInfo?.code, ResetCode.SessionClosed);
    assert.equal(atRelay.closeInfo?.code, ResetCode.SessionClosed);
    assert.throws(() => pair.client.openStream(Command.Connect, TARGET), /closed/);
    assert.equal(client.isClosed, false, 'the other session is untouched');
  });
});

describe('Session protocol violations from a raw peer', () => {
  let server: SessionServer;
  let healthy: { client: Session; relay: Session };

  before(async () => {
    server = await startSessionServer();
    healthy = await server.connectClient();
    healthy.relay.on('open', (stream) => {
      healthy.relay.answerOpen(stream, ReplyCode.Succeeded);
      const echo: StreamSink = {
        onData: (chunk) => {
          stream.write(chunk);
          stream.consumed(chunk.length);
        },
        onEnd: () => stream.end(),
        onDrain: () => {},
        onClose: () => {},
      };
      stream.attach(echo);
    });
  });

  after(async () => {
    await server.close();
  });

  /** A raw peer that has completed HELLO. */
  const helloPeer = async (): Promise<RawPeer> => {
    const peer = await server.connectRaw();
    peer.ws.send(encodeHello(1, 1));
    await waitFor(() => peer.frames.length > 0, { what: "the relay's HELLO" });
    assert.deepEqual(peer.frames[0], { type: FrameType.Hello, streamId: 0, minVersion: 1, maxVersion: 1 });
    return peer;
  };

  const header = (type: number, streamId: number): Buffer => {
    const buf = Buffer.alloc(FRAME_HEADER_SIZE);
    buf[0] = type;
    buf.writeUInt32BE(streamId, 2);
    return buf;
  };

  const CASES: { name: string; hello: boolean; send: (peer: RawPeer) => void; code: string }[] = [
    {
      name: 'DATA beyond the window',
      hello: true,
      code: 'ERR_WINDOW_EXCEEDED',
      send: ({ ws }) => {
        ws.send(encodeOpen(1, Command.Connect, TARGET));
        const full = Buffer.alloc(MAX_DATA_PAYLOAD);
        for (let sent = 0; sent < INITIAL_STREAM_WINDOW; sent += full.length) ws.send(encodeData(1, full)); // exactly the window: allowed
        ws.send(encodeData(1, Buffer.alloc(1))); // one byte too many
      },
    },
    { name: 'DATA for a stream never opened', hello: true, code: 'ERR_STREAM_ID', send: ({ ws }) => ws.send(encodeData(7, Buffer.from('x'))) },
    { name: 'FIN for a stream never opened', hello: true, code: 'ERR_STREAM_ID', send: ({ ws }) => ws.send(encodeFin(3)) },
    { name: 'OPEN with an even stream id', hello: true, code: 'ERR_STREAM_ID', send: ({ ws }) => ws.send(encodeOpen(2, Command.Connect, TARGET)) },
    {
      name: 'DATA after FIN',
      hello: true,
      code: 'ERR_DATA_AFTER_FIN',
      send: ({ ws }) => {
        ws.send(encodeOpen(1, Command.Connect, TARGET));
        ws.send(encodeFin(1));
        ws.send(encodeData(1, Buffer.from('late')));
      },
    },
    {
      name: 'OPEN reusing an older stream id',
      hello: true,
      code: 'ERR_STREAM_ID',
      send: ({ ws }) => {
        ws.send(encodeOpen(3, Command.Connect, TARGET));
        ws.send(encodeOpen(1, Command.Connect, TARGET));
      },
    },
    {
      name: 'WINDOW_UPDATE growing a window past MAX_STREAM_WINDOW',
      hello: true,
      code: 'ERR_WINDOW_OVERFLOW',
      send: ({ ws }) => {
        ws.send(encodeOpen(1, Command.Connect, TARGET));
        ws.send(encodeWindowUpdate(1, MAX_STREAM_WINDOW - INITIAL_STREAM_WINDOW)); // exactly the maximum: allowed
        ws.send(encodeWindowUpdate(1, 1));
      },
    },
    { name: 'an unknown frame type', hello: true, code: 'ERR_UNKNOWN_FRAME_TYPE', send: ({ ws }) => ws.send(header(UNKNOWN_FRAME_TYPE, 0)) },
    {
      name: 'BIND_RESULT sent to the relay',
      hello: true,
      code: 'ERR_UNEXPECTED_FRAME',
      send: ({ ws }) => ws.send(encodeBindResult(1, ReplyCode.Succeeded, TARGET)),
    },
    { name: 'a second HELLO', hello: true, code: 'ERR_SECOND_HELLO', send: ({ ws }) => ws.send(encodeHello(1, 1)) },
    { name: 'a frame before HELLO', hello: false, code: 'ERR_NO_HELLO', send: ({ ws }) => ws.send(encodeOpen(1, Command.Connect, TARGET)) },
    { name: 'a text message', hello: true, code: 'ERR_TEXT_MESSAGE', send: ({ ws }) => ws.send('hello') },
    { name: 'a frame shorter than its header', hello: true, code: 'ERR_SHORT_FRAME', send: ({ ws }) => ws.send(Buffer.from([FrameType.Ping, 0])) },
  ];

  it('FIN queued behind data that has no credit: no empty DATA goes out, and the FIN follows the data once credit comes', async () => {
    const peer = await helloPeer();
    const EXTRA = 100;
    let relayStream: Stream | null = null;
    peer.relay.once('open', (stream: Stream) => {
      relayStream = stream;
      peer.relay.answerOpen(stream, ReplyCode.Succeeded);
      stream.write(Buffer.alloc(INITIAL_STREAM_WINDOW + EXTRA, 7));
    });
    peer.ws.send(encodeOpen(1, Command.Connect, TARGET));
    const dataBytes = (): number => peer.frames.reduce((sum, frame) => sum + (frame.type === FrameType.Data ? frame.payload.length : 0), 0);
    await waitFor(() => dataBytes() === INITIAL_STREAM_WINDOW, { what: 'the first window' });
    relayStream!.end(); // with the credit spent and bytes still queued
    await sleep(SETTLE_MS);
    const empty = peer.frames.filter((frame) => frame.type === FrameType.Data && frame.payload.length === 0);
    assert.equal(empty.length, 0, 'no DATA frame without payload');
    assert.equal(peer.frames.some((frame) => frame.type === FrameType.Fin), false, 'the FIN waits behind the data');
    peer.ws.send(encodeWindowUpdate(1, EXTRA));
    await waitFor(() => peer.frames.some((frame) => frame.type === FrameType.Fin), { what: 'the FIN' });
    assert.equal(dataBytes(), INITIAL_STREAM_WINDOW + EXTRA);
    peer.ws.close();
    await withTimeout(peer.closed, { what: 'the close' });
  });

  it('HELLO: the relay answers with the highest version both speak', async () => {
    const peer = await server.connectRaw();
    peer.ws.send(encodeHello(1, 9));
    await waitFor(() => peer.frames.length > 0, { what: "the relay's HELLO" });
    assert.deepEqual(peer.frames[0], { type: FrameType.Hello, streamId: 0, minVersion: 2, maxVersion: 2 });
    assert.equal(await peer.relay.ready, 2);
    peer.ws.close();
    await withTimeout(peer.closed, { what: 'the close' });
  });

  it('HELLO ranges that do not overlap end the session with go-away UnsupportedVersion naming both', async () => {
    const peer = await server.connectRaw();
    peer.ws.send(encodeHello(3, 4));
    await withTimeout(peer.closed, { what: 'the relay to close the WebSocket' });
    assert.equal(peer.relay.closeInfo?.code, GoAwayCode.UnsupportedVersion);
    await assert.rejects(peer.relay.ready);
    const goAway = peer.frames.find((frame: Frame) => frame.type === FrameType.GoAway);
    assert.ok(goAway && goAway.type === FrameType.GoAway, 'GO_AWAY instead of HELLO');
    assert.equal(peer.frames.some((frame: Frame) => frame.type === FrameType.Hello), false);
    assert.equal(goAway.code, GoAwayCode.UnsupportedVersion);
    assert.match(goAway.reason, /3-4/);
    assert.match(goAway.reason, /1-2/);
  });

  it('version 2 lets a window grow past MAX_STREAM_WINDOW up to MAX_STREAM_WINDOW_V2, and not one byte further', async () => {
    const peer = await server.connectRaw();
    peer.ws.send(encodeHello(1, 2));
    await waitFor(() => peer.frames.length > 0, { what: "the relay's HELLO" });
    assert.deepEqual(peer.frames[0], { type: FrameType.Hello, streamId: 0, minVersion: 2, maxVersion: 2 });
    peer.ws.send(encodeOpen(1, Command.Connect, TARGET));
    peer.ws.send(encodeWindowUpdate(1, MAX_STREAM_WINDOW_V2 - INITIAL_STREAM_WINDOW)); // exactly the maximum: allowed
    peer.ws.send(encodePing(false, 7));
    await waitFor(() => peer.frames.some((frame: Frame) => frame.type === FrameType.Ping && frame.ack && frame.opaque === 7), { what: 'the answer to a ping sent after the update' });
    assert.equal(peer.relay.isClosed, false, 'a version-2 window of MAX_STREAM_WINDOW_V2 is allowed');
    peer.ws.send(encodeWindowUpdate(1, 1));
    await withTimeout(peer.closed, { what: 'the relay to close the WebSocket' });
    assert.match(peer.relay.closeInfo?.reason ?? '', /ERR_WINDOW_OVERFLOW/);
  });

  for (const violation of CASES) {
    it(`${violation.name} ends the session with go-away ProtocolError (${violation.code})`, async () => {
      const peer = violation.hello ? await helloPeer() : await server.connectRaw();
      violation.send(peer);
      await withTimeout(peer.closed, { what: 'the relay to close the WebSocket' });
      const info = peer.relay.closeInfo;
      assert.ok(info, 'the relay session is closed');
      assert.equal(info.code, GoAwayCode.ProtocolError);
      assert.equal(info.byPeer, false);
      assert.match(info.reason, new RegExp(`^${violation.code}\\b`));
      const goAway = peer.frames.find((frame: Frame) => frame.type === FrameType.GoAway);
      assert.ok(goAway && goAway.type === FrameType.GoAway, 'the peer was told why with GO_AWAY');
      assert.equal(goAway.code, GoAwayCode.ProtocolError);
      assert.equal(goAway.reason, info.reason);

      // The session next door is unaffected and still moves data.
      assert.equal(healthy.client.isClosed || healthy.relay.isClosed, false);
      const { stream, result } = healthy.client.openStream(Command.Connect, TARGET);
      assert.equal((await withTimeout(result, { what: 'OPEN_RESULT' })).reply, ReplyCode.Succeeded);
      const back = new Recorder(stream, { autoConsume: true });
      stream.write(Buffer.from(violation.name));
      stream.end();
      await waitFor(() => back.closed, { what: 'the echo stream to finish' });
      assert.equal(back.data.toString(), violation.name);
      assert.equal(back.closeInfo, null);
    });
  }
});
