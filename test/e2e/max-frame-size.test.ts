/**
 * --max-frame-size: a relay that accepts only small frames tells the client in its HELLO, and
 * the client splits DATA to fit, so multi-MiB transfers through the `socks` client arrive intact
 * both ways; a UDP datagram too big for the limit is dropped and counted, the association lives
 * on. A raw tunnel that sends a frame over the limit gets GO_AWAY naming it, is counted as
 * `limit-frame-size`, and the neighbouring tunnel notices nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SocksClient } from 'socks';
import { encodeData, encodeHello, encodeOpen } from '../../protocol/codec.js';
import { Command, FRAME_HEADER_SIZE, FrameType, GoAwayCode, MIN_FRAME_SIZE_LIMIT, ReplyCode } from '../../protocol/frame.js';
import { hashUntilEnd, keystreamDigest, MiB, writeKeystream } from '../helpers/workloads/bulk-data.js';
import { parseSinkAnswer, startHashSinkTarget, startKeystreamSourceTarget } from '../helpers/targets/data-targets.js';
import { RawTunnel } from '../helpers/tunnel/relay-raw-tunnel.js';
import { readAll, readBytes } from '../helpers/io/socket-io.js';
import { socksConnect } from '../helpers/socks/socks-dial.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { startPair, TEST_TOKEN, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { socksAssociate, startUdpEcho, UdpInbox, type UdpEcho } from '../helpers/io/udp-io.js';
import { spyOnUdpRelays, type UdpRelaySpy } from '../helpers/socks/udp-relay-spy.js';
import { waitFor } from '../helpers/io/waiting.js';

const LIMIT = MIN_FRAME_SIZE_LIMIT;
const BULK = 4 * MiB;
const BULK_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 90_000;
const PROTOCOL_VERSION = 1;

describe('--max-frame-size', () => {
  let pair: TunnelPair;
  let echo: Target;
  let udpEcho: UdpEcho;
  let spy: UdpRelaySpy;

  before(async () => {
    spy = spyOnUdpRelays();
    echo = await startEchoTarget();
    udpEcho = await startUdpEcho('127.0.0.1');
    pair = await startPair({ relay: { maxFrameSize: LIMIT } });
  });
  after(async () => {
    spy.restore();
    await pair.close();
    await echo.close();
    udpEcho.close();
  });

  const clientSession = async () => pair.client.tunnel.getSession();
  const assertTunnelUntouched = async (): Promise<void> => {
    assert.equal(pair.client.tunnel.connections, 1, 'the client never had to reconnect');
    assert.equal(pair.relay.status.snapshot().totals.errors['tunnel-protocol-error'], undefined);
  };

  test("the relay's HELLO announces the limit and the client's sender adopts it", async () => {
    const session = await clientSession();
    assert.ok(session, 'a session');
    assert.equal(session.peerMaxFrameSize, LIMIT);
    assert.equal(session.maxDataPayload, LIMIT - FRAME_HEADER_SIZE);
  });

  test(`uploads ${BULK / MiB} MiB intact through a relay that takes ${LIMIT}-byte frames`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const sink = await startHashSinkTarget();
    try {
      const app = await socksConnect(pair.socksPort, sink.port);
      const answer = readAll(app, BULK_TIMEOUT_MS);
      const sent = await writeKeystream(app, 'small-frames-up', BULK, BULK_TIMEOUT_MS);
      app.end();
      const reported = parseSinkAnswer(await answer);
      assert.equal(reported.bytes, BULK);
      assert.equal(reported.sha256, sent.sha256);
      await assertTunnelUntouched();
    } finally {
      await sink.close();
    }
  });

  test(`downloads ${BULK / MiB} MiB intact through the same relay`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const source = await startKeystreamSourceTarget();
    try {
      const app = await socksConnect(pair.socksPort, source.port);
      const received = hashUntilEnd(app, BULK_TIMEOUT_MS);
      app.write(`small-frames-down ${BULK}\n`);
      const got = await received;
      assert.equal(got.bytes, BULK);
      assert.equal(got.sha256, keystreamDigest('small-frames-down', BULK));
      app.destroy();
      await assertTunnelUntouched();
    } finally {
      await source.close();
    }
  });

  test('a UDP datagram too big for the limit is dropped and counted; a small one still round-trips', async () => {
    const association = await socksAssociate(pair.socksPort, { host: '0.0.0.0', port: 0 });
    const app = await UdpInbox.bind('127.0.0.1');
    try {
      const target = { host: '127.0.0.1', port: udpEcho.port };
      const send = (data: Buffer): Promise<void> =>
        app.send(SocksClient.createUDPFrame({ remoteHost: target, data }), association.relay.port, association.relay.host);
      await send(Buffer.alloc(2 * LIMIT, 0x42));
      await send(Buffer.from('small enough'));
      const back = SocksClient.parseUDPFrame((await app.next()).data);
      assert.equal(back.data.toString(), 'small enough');
      assert.equal(spy.latest().counters.droppedTooLarge, 1);
      assert.equal(udpEcho.count, 1, 'only the small datagram reached the target');
      await assertTunnelUntouched();
    } finally {
      app.close();
      association.control.destroy();
    }
  });

  test('a raw tunnel announcing its own limit gets the long HELLO back with the relay\'s', async () => {
    const tunnel = await RawTunnel.open(pair.relay.url, TEST_TOKEN, encodeHello(PROTOCOL_VERSION, PROTOCOL_VERSION, LIMIT * 2));
    try {
      const hello = tunnel.frames.find((frame) => frame.type === FrameType.Hello);
      assert.deepEqual(hello, { type: FrameType.Hello, streamId: 0, minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, maxFrameSize: LIMIT });
    } finally {
      tunnel.terminate();
    }
    const shortForm = await RawTunnel.open(pair.relay.url, TEST_TOKEN);
    try {
      const hello = shortForm.frames.find((frame) => frame.type === FrameType.Hello);
      assert.ok(hello && !('maxFrameSize' in hello), 'a short HELLO is answered in the short form an older client can read');
    } finally {
      shortForm.terminate();
    }
  });

  test('a frame of exactly the limit is carried; one byte over ends only that tunnel with GO_AWAY, counted; the neighbour carries on', async () => {
    const neighbour = await socksConnect(pair.socksPort, echo.port);
    const tunnel = await RawTunnel.open(pair.relay.url, TEST_TOKEN);
    try {
      tunnel.ws.send(encodeOpen(1, Command.Connect, { host: '127.0.0.1', port: echo.port }));
      await tunnel.until(() => tunnel.frames.some((frame) => frame.type === FrameType.OpenResult), 'OPEN_RESULT');
      const opened = tunnel.frames.find((frame) => frame.type === FrameType.OpenResult);
      assert.equal(opened?.type === FrameType.OpenResult && opened.reply, ReplyCode.Succeeded);

      const fits = encodeData(1, Buffer.alloc(LIMIT - FRAME_HEADER_SIZE, 0x61));
      assert.equal(fits.length, LIMIT);
      tunnel.ws.send(fits);
      const echoed = (): number =>
        tunnel.frames.reduce((sum, frame) => sum + (frame.type === FrameType.Data ? frame.payload.length : 0), 0);
      await tunnel.until(() => echoed() === LIMIT - FRAME_HEADER_SIZE, 'the echo of the frame that fits');

      tunnel.ws.send(encodeData(1, Buffer.alloc(LIMIT - FRAME_HEADER_SIZE + 1, 0x62)));
      await tunnel.until(() => tunnel.frames.some((frame) => frame.type === FrameType.GoAway), 'GO_AWAY');
      const goAway = tunnel.frames.find((frame) => frame.type === FrameType.GoAway);
      assert.ok(goAway?.type === FrameType.GoAway);
      assert.equal(goAway.code, GoAwayCode.ProtocolError);
      assert.match(goAway.reason, /^ERR_FRAME_TOO_LARGE: frame of 1025 bytes, over the 1024-byte limit/);
      await tunnel.until(() => tunnel.closed, 'the relay to close the tunnel');
    } finally {
      tunnel.terminate();
    }
    await waitFor(() => pair.relay.status.snapshot().totals.errors['limit-frame-size'] === 1, { what: 'the refusal to be counted' });
    neighbour.write('still here');
    assert.equal((await readBytes(neighbour, 10)).toString(), 'still here', 'the neighbouring tunnel carries on');
    neighbour.destroy();
    assert.equal(pair.client.tunnel.connections, 1);
  });
});
