/**
 * relay --wisp against a raw Wisp peer (test/helpers/wisp/wisp-peer.ts, its own encoder):
 * the byte-level rules of protocol version 1 and the relay's own rules on top of them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createLogger } from '../../common/log.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { ErrorReason } from '../../server/status/error-reasons.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { waitFor } from '../helpers/io/waiting.js';
import { startUdpEcho } from '../helpers/io/udp-io.js';
import { runCli } from '../helpers/processes/cli-process.js';
import { relayStatus, startRelayProcess, STACK_TOKEN } from '../helpers/processes/cli-stack.js';
import { closedPort, startEchoTarget, startTarget, type Target } from '../helpers/targets/targets.js';
import { closePacket, connectPacket, dataPacket, packet, PACKET, WispPeer } from '../helpers/wisp/wisp-peer.js';

const TOKEN = 'wisp token/with?odd chars';
const BUFFER_PACKETS = 64;
const silent = createLogger('relay', 'silent');

function wispUrl(relay: Relay, token = TOKEN): string {
  return `ws://127.0.0.1:${relay.address.port}/wisp/${encodeURIComponent(token)}/`;
}

describe('relay --wisp, raw peer', () => {
  let relay: Relay;
  let strict: Relay;
  let echo: Target;
  const peers: WispPeer[] = [];
  const open = async (url: string): Promise<WispPeer> => {
    const peer = await WispPeer.open(url);
    peers.push(peer);
    return peer;
  };

  before(async () => {
    echo = await startEchoTarget();
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN], rules: loopbackRules(), wisp: true, logger: silent });
    // The safe default alone: loopback is refused.
    strict = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN], wisp: true, logger: silent });
  });

  after(async () => {
    for (const peer of peers) peer.close();
    await relay.close();
    await strict.close();
    await echo.close();
  });

  it('sends CONTINUE on stream 0 with the buffer size before anything else', async () => {
    const peer = await open(wispUrl(relay));
    const first = await peer.next(() => true, 'the first packet');
    assert.equal(first.type, PACKET.Continue);
    assert.equal(first.streamId, 0);
    assert.equal(first.payload.length, 4);
    assert.equal(first.payload.readUInt32LE(0), BUFFER_PACKETS);
  });

  it('answers an upgrade offering "wisp-v2" without a subprotocol, CONTINUE first: version 1', async () => {
    // Browsers accept a 101 without Sec-WebSocket-Protocol (wisp-js then runs version 1, as
    // wisp-browser.test.ts shows); the ws client library refuses one, so this is plain HTTP.
    const request = httpRequest({
      host: '127.0.0.1',
      port: relay.address.port,
      path: `/wisp/${encodeURIComponent(TOKEN)}/`,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': 'wisp-v2' },
    });
    const [response, socket, head] = await new Promise<[IncomingMessage, Socket, Buffer]>((resolve, reject) => {
      request.once('upgrade', (res, sock, rest) => resolve([res, sock as Socket, rest]));
      request.once('response', (res) => reject(new Error(`HTTP ${res.statusCode}`)));
      request.once('error', reject);
      request.end();
    });
    try {
      assert.equal(response.statusCode, 101);
      assert.equal(response.headers['sec-websocket-protocol'], undefined);
      let bytes = head;
      socket.on('data', (chunk: Buffer) => (bytes = Buffer.concat([bytes, chunk])));
      const frame = 2 + 9; // FIN|binary, length 9; then CONTINUE on stream 0 with 64 packets
      await waitFor(() => bytes.length >= frame, { what: 'the first frame', timeoutMs: 5_000 });
      assert.equal(bytes.subarray(0, frame).toString('hex'), '8209' + '03' + '00000000' + '40000000');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(bytes.length, frame, 'nothing (no INFO) follows the CONTINUE');
    } finally {
      socket.destroy();
    }
  });

  it('closes a connection whose peer stops answering pings', async () => {
    const pinged = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN], wisp: true, keepaliveIntervalMs: 100, keepaliveTimeoutMs: 200, logger: silent });
    try {
      const peer = await WispPeer.open(wispUrl(pinged));
      peers.push(peer);
      // ws answers pings by itself; a paused socket reads none, as a vanished page would.
      (peer.ws as unknown as { _socket: Socket })._socket.pause();
      await waitFor(() => pinged.status.snapshot().totals.tunnels === 0, { what: 'the silent connection to be closed', timeoutMs: 5_000 });
    } finally {
      await pinged.close();
    }
  });

  it('carries a TCP stream both ways, DATA sent before the dial completes included', async () => {
    const peer = await open(wispUrl(relay));
    const sent = randomBytes(200_000);
    const chunks: Buffer[] = [];
    for (let at = 0; at < sent.length; at += 16_384) chunks.push(dataPacket(1, sent.subarray(at, at + 16_384)));
    peer.send(connectPacket(1, '127.0.0.1', echo.port), ...chunks);
    await waitFor(() => peer.dataOf(1).length >= sent.length, { what: 'the echo' });
    assert.ok(peer.dataOf(1).equals(sent));
    peer.send(closePacket(1, 0x02));
    await waitFor(() => echo.sockets.size === 0, { what: 'the target socket to close' });
  });

  it('closes a stream that sends more DATA than its credit with 0x49, and the connection carries on', async () => {
    const peer = await open(wispUrl(relay));
    await peer.next((p) => p.type === PACKET.Continue, 'the first CONTINUE');
    const errorsBefore = relay.status.snapshot().totals.errors[ErrorReason.WispCreditExceeded] ?? 0;
    // All in one go, while the dial is still under way: nothing has been written, so no credit came back.
    const over = Array.from({ length: BUFFER_PACKETS + 1 }, () => dataPacket(3, Buffer.from('x')));
    peer.send(connectPacket(3, '127.0.0.1', echo.port), ...over);
    assert.equal(await peer.closeOf(3), 0x49);
    assert.equal(relay.status.snapshot().totals.errors[ErrorReason.WispCreditExceeded], errorsBefore + 1);
    await echoesOn(peer, 5);
  });

  it('grants more credit with CONTINUE as the target takes the data', async () => {
    const peer = await open(wispUrl(relay));
    peer.send(connectPacket(1, '127.0.0.1', echo.port));
    const packets = BUFFER_PACKETS * 4;
    let credit = BUFFER_PACKETS;
    let sent = 0;
    let continues = 0;
    while (sent < packets) {
      if (credit === 0) {
        const grant = await peer.next((p) => p.type === PACKET.Continue && p.streamId === 1 && !p.payload.equals(Buffer.alloc(0)), 'a CONTINUE for stream 1');
        peer.received.splice(peer.received.indexOf(grant), 1);
        credit = grant.payload.readUInt32LE(0);
        continues += 1;
        assert.ok(credit > 0 && credit <= BUFFER_PACKETS, `credit ${credit}`);
      }
      peer.send(dataPacket(1, Buffer.alloc(1024, sent)));
      sent += 1;
      credit -= 1;
    }
    await waitFor(() => peer.dataOf(1).length >= packets * 1024, { what: 'the echo' });
    assert.ok(continues >= 3, `${continues} CONTINUEs`);
    assert.equal(peer.closeCode, null);
  });

  it('ignores unknown packet types and a CLOSE for an unknown stream', async () => {
    const peer = await open(wispUrl(relay));
    peer.send(packet(0x05, 0, Buffer.from([2, 0])), packet(0xff, 9, Buffer.from('??')), closePacket(77, 0x02), packet(PACKET.Continue, 1, Buffer.alloc(4)));
    await echoesOn(peer, 1);
    assert.equal(peer.received.filter((p) => p.streamId === 77 || p.streamId === 9).length, 0);
  });

  it('closes the connection (1009) on a packet over the size limit', async () => {
    const target = await startEchoTarget();
    try {
      const peer = await open(wispUrl(relay));
      peer.send(connectPacket(1, '127.0.0.1', target.port), dataPacket(1, Buffer.from('fits')));
      await waitFor(() => peer.dataOf(1).length === 4, { what: 'the echo' });
      peer.send(dataPacket(1, Buffer.alloc(64 * 1024 + 1)));
      assert.equal(await peer.waitClosed(), 1009);
      await waitFor(() => target.sockets.size === 0, { what: 'the target socket to close' });
    } finally {
      await target.close();
    }
  });

  it('refuses a wrong or missing token before the upgrade, with the 404 of any unknown path', async () => {
    await assert.rejects(WispPeer.open(wispUrl(relay, 'not-the-token')), /HTTP 404/);
    await assert.rejects(WispPeer.open(`ws://127.0.0.1:${relay.address.port}/wisp//`), /HTTP 404/);
    await assert.rejects(WispPeer.open(`ws://127.0.0.1:${relay.address.port}/wisp/${encodeURIComponent(TOKEN)}`), /HTTP 404/);
    assert.ok((relay.status.snapshot().totals.errors[ErrorReason.UnauthorizedTunnel] ?? 0) >= 1);
  });

  it('with --fallback: a wrong token goes to the origin, a valid token in a /wisp/ path never does', async () => {
    const seen: string[] = [];
    const origin = createHttpServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-length': '6' }).end('origin');
    });
    origin.on('upgrade', (req, socket) => {
      seen.push(`upgrade ${req.url ?? ''}`);
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const fronted = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [TOKEN],
      wisp: true,
      fallback: `http://127.0.0.1:${(origin.address() as AddressInfo).port}`,
      logger: silent,
    });
    try {
      await assert.rejects(WispPeer.open(wispUrl(fronted, 'wrong')), /HTTP 400/);
      assert.deepEqual(seen, ['upgrade /wisp/wrong/']);
      const base = `http://127.0.0.1:${fronted.address.port}/wisp/${encodeURIComponent(TOKEN)}`;
      for (const url of [`${base}/`, `${base}/page`, base]) assert.equal((await fetch(url)).status, 404, url);
      await assert.rejects(WispPeer.open(`ws://127.0.0.1:${fronted.address.port}/wisp/${encodeURIComponent(TOKEN)}/extra`), /HTTP 404/);
      assert.deepEqual(seen, ['upgrade /wisp/wrong/'], 'the origin saw no request carrying the token');
      const peer = await open(wispUrl(fronted));
      assert.equal((await peer.next(() => true, 'the first packet')).type, PACKET.Continue);
    } finally {
      await fronted.close();
      await new Promise((resolve) => origin.close(resolve));
    }
  });

  it('is not served without --wisp', async () => {
    const plain = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN], rules: loopbackRules(), logger: silent });
    try {
      await assert.rejects(WispPeer.open(wispUrl(plain)), /HTTP 404/);
    } finally {
      await plain.close();
    }
  });

  it('answers a destination the rules refuse with CLOSE 0x48 and dials nothing, names judged after resolution', async () => {
    const accepted: Socket[] = [];
    const target = await startTarget((socket) => accepted.push(socket));
    try {
      const peer = await open(wispUrl(strict));
      peer.send(connectPacket(1, '127.0.0.1', target.port), connectPacket(2, 'localhost', target.port));
      assert.equal(await peer.closeOf(1), 0x48);
      assert.equal(await peer.closeOf(2), 0x48);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(accepted.length, 0);
    } finally {
      await target.close();
    }
  });

  it('maps dial failures and refused requests to close reasons', async () => {
    const peer = await open(wispUrl(relay));
    peer.send(
      connectPacket(1, '127.0.0.1', await closedPort()),
      connectPacket(2, '127.0.0.1', echo.port, 0x02),
      connectPacket(3, '127.0.0.1', 0),
      connectPacket(4, 'name.invalid', 80),
    );
    assert.equal(await peer.closeOf(1), 0x44, 'refused');
    assert.equal(await peer.closeOf(2), 0x41, 'UDP without --wisp-udp');
    assert.equal(await peer.closeOf(3), 0x41, 'port 0');
    assert.equal(await peer.closeOf(4), 0x42, 'a name that does not resolve');
  });

  it('carries UDP streams with --wisp-udp, one DATA per datagram, with no CONTINUE for them', async () => {
    const udpEcho = await startUdpEcho('127.0.0.1');
    const udpRelay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN], rules: loopbackRules(), wisp: true, wispUdp: true, logger: silent });
    try {
      const peer = await open(wispUrl(udpRelay));
      peer.send(connectPacket(1, '127.0.0.1', udpEcho.port, 0x02), dataPacket(1, Buffer.from('one')), dataPacket(1, Buffer.from('two')));
      await waitFor(() => peer.received.filter((p) => p.type === PACKET.Data && p.streamId === 1).length === 2, { what: 'two datagrams back' });
      const echoed = peer.received.filter((p) => p.type === PACKET.Data && p.streamId === 1).map((p) => p.payload.toString()).sort();
      assert.deepEqual(echoed, ['one', 'two']);
      assert.equal(peer.received.filter((p) => p.type === PACKET.Continue && p.streamId === 1).length, 0);
      const strictUdp = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN], wisp: true, wispUdp: true, logger: silent });
      try {
        const refused = await open(wispUrl(strictUdp));
        refused.send(connectPacket(1, '127.0.0.1', udpEcho.port, 0x02));
        assert.equal(await refused.closeOf(1), 0x48);
      } finally {
        await strictUdp.close();
      }
    } finally {
      await udpRelay.close();
      await udpEcho.close();
    }
  });

  it('applies the limits and the idle timeout: 0x49 over --max-streams, 429 over --max-tunnels-per-token, 0x47 when idle', async () => {
    const limited = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [TOKEN],
      rules: loopbackRules(),
      wisp: true,
      maxStreamsPerTunnel: 2,
      maxTunnelsPerToken: 1,
      idleTimeoutMs: 300,
      logger: silent,
    });
    try {
      const peer = await open(wispUrl(limited));
      peer.send(connectPacket(1, '127.0.0.1', echo.port), connectPacket(2, '127.0.0.1', echo.port), connectPacket(3, '127.0.0.1', echo.port));
      assert.equal(await peer.closeOf(3), 0x49);
      await assert.rejects(WispPeer.open(wispUrl(limited)), /HTTP 429/);
      assert.equal(await peer.closeOf(1), 0x47);
      assert.equal(await peer.closeOf(2), 0x47);
    } finally {
      await limited.close();
    }
  });

  it('is served by `sockbridge relay --wisp`, and --wisp-udp alone is a usage error', async () => {
    const { proc, port } = await startRelayProcess(['--wisp']);
    try {
      const peer = await open(`ws://127.0.0.1:${port}/wisp/${encodeURIComponent(STACK_TOKEN)}/`);
      peer.send(connectPacket(1, '127.0.0.1', echo.port), dataPacket(1, Buffer.from('via the CLI')));
      await waitFor(() => peer.dataOf(1).toString() === 'via the CLI', { what: 'the echo' });
      const status = await relayStatus(port);
      assert.ok(status.tunnels.some((t) => t.kind === 'wisp' && t.tokenName === 'token-1'));
    } finally {
      await proc.stop();
    }
    const refused = await runCli(['relay', '--token', TOKEN, '--listen', '127.0.0.1:0', '--wisp-udp']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /--wisp-udp.*needs --wisp/);
  });

  it('shows the connection on the status page as kind wisp under the token name, and its streams as Wisp streams', async () => {
    const peer = await open(wispUrl(relay));
    peer.send(connectPacket(1, '127.0.0.1', echo.port), dataPacket(1, Buffer.from('ping')));
    await waitFor(() => peer.dataOf(1).length === 4, { what: 'the echo' });
    const snapshot = relay.status.snapshot();
    const wisp = snapshot.tunnels.filter((t) => t.kind === 'wisp');
    assert.ok(wisp.length >= 1);
    assert.ok(wisp.every((t) => t.tokenName === 'token-1'));
    const ids = new Set(wisp.map((t) => t.id));
    const streams = snapshot.streams.filter((s) => ids.has(s.tunnel));
    assert.ok(streams.some((s) => s.destination === `127.0.0.1:${echo.port}` && s.kind === 'CONNECT'));
    assert.ok(streams.every((s) => s.tunnelKind === 'wisp'), 'its streams say they came over Wisp');
  });

  it('pauses a stream whose page stops reading, bounded, and delivers every byte once it reads again', async () => {
    const size = 64 * 1024 * 1024;
    const source = randomBytes(1024 * 1024);
    let written = 0;
    const flood = await startTarget((socket) => {
      const pump = (): void => {
        while (written < size) {
          written += source.length;
          if (!socket.write(source)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
    try {
      const peer = await open(wispUrl(relay));
      await peer.next((p) => p.type === PACKET.Continue, 'the first CONTINUE');
      const transport = (peer.ws as unknown as { _socket: Socket })._socket;
      transport.pause();
      peer.send(connectPacket(1, '127.0.0.1', flood.port));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // Another stream asks for an echo meanwhile: its answer must not queue behind stream 1's flood.
      peer.send(connectPacket(2, '127.0.0.1', echo.port), dataPacket(2, Buffer.from('meanwhile')));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const whilePaused = written;
      assert.ok(whilePaused < 24 * 1024 * 1024, `the target wrote ${whilePaused} bytes while the page read nothing`);
      transport.resume();
      await waitFor(() => peer.dataOf(2).toString() === 'meanwhile', { what: 'the echo on stream 2' });
      const firstOfTwo = peer.received.findIndex((p) => p.type === PACKET.Data && p.streamId === 2);
      const aheadOfIt = peer.received.slice(0, firstOfTwo).filter((p) => p.type === PACKET.Data && p.streamId === 1).reduce((sum, p) => sum + p.payload.length, 0);
      assert.ok(aheadOfIt < 8 * 1024 * 1024, `${aheadOfIt} bytes of stream 1 came before stream 2's echo`);
      await waitFor(() => peer.dataOf(1).length >= size, { what: 'all 64 MiB', timeoutMs: 30_000 });
      const got = peer.dataOf(1);
      assert.equal(got.length, size);
      for (let at = 0; at < size; at += source.length) assert.ok(got.subarray(at, at + source.length).equals(source), `at ${at}`);
    } finally {
      await flood.close();
    }
  });

  it('drains on close(grace): open streams keep echoing, a new CONNECT gets 0x49, each connection closes (1001) when its streams are done or the grace ends', async () => {
    const graceMs = 2_000;
    const draining = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN], rules: loopbackRules(), wisp: true, logger: silent });
    let closing: Promise<void> | null = null;
    try {
      const finishing = await open(wispUrl(draining));
      const lingering = await open(wispUrl(draining));
      const idle = await open(wispUrl(draining));
      for (const peer of [finishing, lingering]) {
        peer.send(connectPacket(1, '127.0.0.1', echo.port), dataPacket(1, Buffer.from('before')));
        await waitFor(() => peer.dataOf(1).toString() === 'before', { what: 'the echo before the drain' });
      }
      const started = Date.now();
      closing = draining.close(graceMs);
      assert.equal(await idle.waitClosed(), 1001, 'a connection with no stream closes at once');
      finishing.send(dataPacket(1, Buffer.from(' during')));
      await waitFor(() => finishing.dataOf(1).toString() === 'before during', { what: 'the echo during the grace' });
      finishing.send(connectPacket(2, '127.0.0.1', echo.port));
      assert.equal(await finishing.closeOf(2), 0x49, 'a new CONNECT while draining');
      assert.equal(finishing.closeCode, null, 'the connection carries on while a stream is open');
      finishing.send(closePacket(1, 0x02));
      assert.equal(await finishing.waitClosed(), 1001);
      assert.ok(Date.now() - started < graceMs, 'closed when its last stream was done, before the grace ended');
      assert.equal(lingering.closeCode, null, 'the other connection still has its stream');
      assert.equal(await lingering.waitClosed(), 1001);
      assert.ok(Date.now() - started >= graceMs - 100, 'closed when the grace ended');
      await closing;
    } finally {
      await (closing ?? draining.close());
    }
  });
});

/** A fresh stream on `peer` echoes: the connection still works. */
async function echoesOn(peer: WispPeer, streamId: number): Promise<void> {
  const echo = await startEchoTarget();
  try {
    peer.send(connectPacket(streamId, '127.0.0.1', echo.port), dataPacket(streamId, Buffer.from('still here')));
    await waitFor(() => peer.dataOf(streamId).toString() === 'still here', { what: `the echo on stream ${streamId}` });
  } finally {
    await echo.close();
  }
}
