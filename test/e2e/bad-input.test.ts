/**
 * Hostile and clumsy peers: random bytes, cut-off and oversize handshakes, slow writers,
 * stalled handshakes, and bad WebSockets at the relay. None of it may cost the process
 * or the good tunnel: at the end the same client and relay still serve curl.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { decodeFrame, encodeHello } from '../../protocol/codec.js';
import { FrameType, GoAwayCode, type Frame } from '../../protocol/frame.js';
import { curl } from '../helpers/socks/curl.js';
import { RawPeer, randomBuffer, readSocks5Reply, seededRandom, sleep } from '../helpers/socks/raw-peer.js';
import { REP_SUCCEEDED } from '../helpers/socks/socks-replies.js';
import {
  CMD_BIND,
  CMD_CONNECT,
  CMD_UDP_ASSOCIATE,
  greeting,
  METHOD_NO_AUTH,
  METHOD_USER_PASS,
  methodSelection,
  SOCKS4_GRANTED,
  SOCKS4_REJECTED,
  SOCKS4_VERSION,
  socks4Request,
  SOCKS5_VERSION,
  socks5Request,
  userPass,
} from '../helpers/socks/socks-encoder.js';
import { startEchoTarget, startHttpTarget, type Target } from '../helpers/targets/targets.js';
import { startPair, TEST_TOKEN, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { Waiters } from '../helpers/io/waiting.js';

const HANDSHAKE_TIMEOUT_MS = 300;
/** How long a bad connection may take to be closed: the handshake timeout plus slack for a busy machine. */
const CLOSE_WITHIN_MS = HANDSHAKE_TIMEOUT_MS + 2_000;
const BODY = 'still serving\n';
const RANDOM_SEED = 0x50c45;
const RANDOM_INPUTS = 60;
const MAX_RANDOM_LENGTH = 2_048;
/** Longest answer a handshake can draw before the proxy gives up: method, auth status, a SOCKS5 reply. */
const MAX_HANDSHAKE_ANSWER = 2 + 2 + 22;
const UNSUPPORTED_COMMAND = 0x09;

/** HTTP methods start with a letter: such input is the HTTP proxy's (client/socks/server.ts). */
function isLetter(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a));
}

/**
 * Random bytes must never make the proxy dial anything (it would dial whatever random
 * address the bytes name). Walk the handshake the way the proxy will and turn a CONNECT,
 * BIND or UDP ASSOCIATE into an unknown command, which is refused before any dial.
 */
function defuse(bytes: Buffer): Buffer {
  const isRealCommand = (byte: number | undefined): boolean => byte === CMD_CONNECT || byte === CMD_BIND || byte === CMD_UDP_ASSOCIATE;
  if (bytes[0] === SOCKS4_VERSION && isRealCommand(bytes[1])) bytes[1] = UNSUPPORTED_COMMAND;
  if (bytes[0] !== SOCKS5_VERSION || bytes.length < 2) return bytes;
  const methods = [...bytes.subarray(2, 2 + bytes[1])];
  let at = 2 + bytes[1];
  if (!methods.includes(METHOD_NO_AUTH)) {
    if (!methods.includes(METHOD_USER_PASS)) return bytes; // answered 0xFF and closed
    // RFC 1929 request: VER ULEN UNAME PLEN PASSWD (any credentials pass without --socks-user)
    if (at + 1 >= bytes.length) return bytes;
    at += 2 + bytes[at + 1];
    if (at >= bytes.length) return bytes;
    at += 1 + bytes[at];
  }
  if (bytes[at] === SOCKS5_VERSION && isRealCommand(bytes[at + 1])) bytes[at + 1] = UNSUPPORTED_COMMAND;
  return bytes;
}

/**
 * Random input shaped so that every parser stage gets its share: fully random bytes, a
 * random SOCKS4 request, a SOCKS5 greeting then random bytes, and a SOCKS5 greeting then
 * a request header then random bytes. Always passed through defuse().
 */
function randomHandshake(random: () => number): Buffer {
  const length = 4 + Math.floor(random() * MAX_RANDOM_LENGTH);
  const bytes = randomBuffer(random, length);
  switch (Math.floor(random() * 4)) {
    case 1:
      bytes[0] = 0x04;
      break;
    case 2:
      bytes[0] = 0x05;
      bytes[1] = 1 + Math.floor(random() * 3);
      bytes[2] = random() < 0.5 ? 0x00 : 0x02;
      break;
    case 3:
      bytes.set([0x05, 0x01, 0x00, 0x05, Math.floor(random() * 256), 0x00], 0);
      break;
    default:
      break;
  }
  return defuse(bytes);
}

/** Opens a WebSocket to the relay and reports how the upgrade went. */
function wsAttempt(
  url: string,
  protocols: string[],
  headers: Record<string, string> = {},
): Promise<{ status: number; selected: string | undefined; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, perMessageDeflate: false });
    let selected: string | undefined;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('WebSocket upgrade: no answer within 5 s'));
    }, 5_000);
    ws.on('error', () => {});
    ws.once('upgrade', (res) => {
      selected = res.headers['sec-websocket-protocol'] as string | undefined;
    });
    ws.once('unexpected-response', (req, res) => {
      clearTimeout(timer);
      res.resume();
      req.destroy();
      resolve({ status: res.statusCode ?? 0, selected: undefined, ws });
    });
    ws.once('open', () => {
      clearTimeout(timer);
      resolve({ status: 101, selected, ws });
    });
  });
}

/** Collects binary frames and the close of a raw tunnel WebSocket. */
class FrameLog {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly waiters = new Waiters();

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.frames.push(decodeFrame(data as Buffer));
      this.waiters.wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.waiters.wake();
    });
  }

  until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    return this.waiters.until(condition, { what: () => `${what}; frames: ${JSON.stringify(this.frames)}`, timeoutMs });
  }
}

describe('bad input at the SOCKS listener and the relay', () => {
  let pair: TunnelPair;
  let http: Target;
  let echo: Target;
  /** OPENs the relay has received since the last reset: random input must cause none. */
  let opens = 0;

  before(async () => {
    pair = await startPair({ client: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS } });
    for (const session of pair.relay.sessions) session.on('open', () => (opens += 1));
    http = await startHttpTarget(BODY);
    echo = await startEchoTarget();
  });

  after(async () => {
    await pair?.close();
    await http?.close();
    await echo?.close();
  });

  const socksPort = (): number => pair.socksPort;

  test(`${RANDOM_INPUTS} connections of seeded random handshakes are each closed, and nothing is dialed`, async () => {
    const random = seededRandom(RANDOM_SEED);
    const inputs = Array.from({ length: RANDOM_INPUTS }, () => randomHandshake(random));
    opens = 0;
    let answered = 0;
    const BATCH = 15;
    for (let start = 0; start < inputs.length; start += BATCH) {
      await Promise.all(
        inputs.slice(start, start + BATCH).map(async (input, offset) => {
          const which = `input #${start + offset} (seed ${RANDOM_SEED}, starts ${input.subarray(0, 8).toString('hex')}, ${input.length} bytes)`;
          const peer = await RawPeer.connect(socksPort());
          try {
            peer.write(input);
            await peer.waitEnd(CLOSE_WITHIN_MS).catch((err: Error) => assert.fail(`${which}: ${err.message}`));
            // A first byte that is a letter makes it an HTTP request, which Node's parser refuses with a 400.
            const httpRefusal = isLetter(input[0]) && peer.peek().toString('latin1').startsWith('HTTP/1.1 400 ');
            assert.ok(httpRefusal || peer.totalReceived <= MAX_HANDSHAKE_ANSWER, `${which}: proxy answered ${peer.peek().toString('hex')}`);
            if (peer.totalReceived > 0) answered += 1;
          } finally {
            peer.destroy();
          }
        }),
      );
    }
    assert.equal(opens, 0, 'no stream was opened to the relay');
    // The inputs are shaped so that many get past the first byte: the parsers were exercised.
    assert.ok(answered >= RANDOM_INPUTS / 4, `only ${answered} of ${RANDOM_INPUTS} inputs drew any SOCKS answer`);
  });

  test('truncated handshakes, ended with FIN or by closing, leave nothing behind', async () => {
    const truncated: Array<[string, Buffer, Buffer]> = [
      // [what, bytes sent, what the proxy must have answered before the cut]
      ['nothing at all', Buffer.alloc(0), Buffer.alloc(0)],
      ['SOCKS5 version byte only', Buffer.from([0x05]), Buffer.alloc(0)],
      ['greeting missing a method', Buffer.from([0x05, 0x02, 0x00]), Buffer.alloc(0)],
      ['request without ATYP', Buffer.concat([greeting(METHOD_NO_AUTH), Buffer.from([0x05, 0x01, 0x00])]), methodSelection(METHOD_NO_AUTH)],
      ['request with a cut domain', Buffer.concat([greeting(METHOD_NO_AUTH), socks5Request(CMD_CONNECT, 'localhost', 80).subarray(0, 9)]), methodSelection(METHOD_NO_AUTH)],
      ['cut username/password', Buffer.concat([greeting(METHOD_USER_PASS), userPass('alice', 'secret').subarray(0, 9)]), methodSelection(METHOD_USER_PASS)],
      ['SOCKS4 header cut', socks4Request(CMD_CONNECT, '127.0.0.1', 80).subarray(0, 4), Buffer.alloc(0)],
      ['SOCKS4 user id without NUL', socks4Request(CMD_CONNECT, '127.0.0.1', 80, 'user').subarray(0, 12), Buffer.alloc(0)],
      ['SOCKS4a domain cut', socks4Request(CMD_CONNECT, 'localhost', 80).subarray(0, 14), Buffer.alloc(0)],
    ];
    opens = 0;
    await Promise.all(
      truncated.flatMap(([what, bytes, answer]) =>
        (['fin', 'close'] as const).map(async (how) => {
          const peer = await RawPeer.connect(socksPort());
          try {
            if (bytes.length > 0) peer.write(bytes);
            if (answer.length > 0) assert.deepEqual(await peer.read(answer.length), answer, `${what}: answer so far`);
            if (how === 'close') return;
            peer.end();
            await peer.waitEnd(CLOSE_WITHIN_MS).catch((err: Error) => assert.fail(`${what}, then FIN: ${err.message}`));
            assert.equal(peer.peek().length, 0, `${what}, then FIN: nothing more was sent`);
          } finally {
            peer.destroy();
          }
        }),
      ),
    );
    assert.equal(opens, 0, 'no stream was opened to the relay');
  });

  test('SOCKS4 user id of 10 KB without a NUL: CD 91 and the connection closes', async () => {
    const peer = await RawPeer.connect(socksPort());
    try {
      const header = socks4Request(CMD_CONNECT, '127.0.0.1', echo.port).subarray(0, 8);
      peer.write(Buffer.concat([header, Buffer.alloc(10 * 1024, 'u')]));
      const reply = await peer.read(8);
      assert.equal(reply[0], 0x00);
      assert.equal(reply[1], SOCKS4_REJECTED);
      await peer.waitEnd();
    } finally {
      peer.destroy();
    }
  });

  test('SOCKS4a domain of 300 bytes: CD 91 and the connection closes', async () => {
    const peer = await RawPeer.connect(socksPort());
    try {
      peer.write(socks4Request(CMD_CONNECT, 'a'.repeat(300), echo.port));
      const reply = await peer.read(8);
      assert.equal(reply[1], SOCKS4_REJECTED);
      await peer.waitEnd();
    } finally {
      peer.destroy();
    }
  });

  for (const [what, bytes] of [
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01])],
    ['a zero byte', Buffer.from([0x00])],
    ['SOCKS version 6', Buffer.from([0x06, 0x01, 0x00])],
  ] as const) {
    test(`non-SOCKS first byte (${what}): closed at once without a reply`, async () => {
      const peer = await RawPeer.connect(socksPort());
      try {
        const started = Date.now();
        peer.write(bytes);
        await peer.waitEnd();
        assert.equal(peer.totalReceived, 0);
        assert.ok(Date.now() - started < HANDSHAKE_TIMEOUT_MS, 'closed before the handshake timeout would have');
      } finally {
        peer.destroy();
      }
    });
  }

  test('an HTTP request (a letter first) goes to the HTTP side: an HTTP answer, no SOCKS reply', async () => {
    const peer = await RawPeer.connect(socksPort());
    try {
      peer.write(Buffer.from('GET / HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n'));
      await peer.waitEnd();
      assert.match(peer.peek().toString('latin1'), /^HTTP\/1\.1 404 /);
    } finally {
      peer.destroy();
    }
  });

  test('SOCKS5 handshake to a domain sent one byte per write: echo round trip', async () => {
    const peer = await RawPeer.connect(socksPort());
    try {
      await peer.trickle(Buffer.concat([greeting(METHOD_NO_AUTH), socks5Request(CMD_CONNECT, 'localhost', echo.port)]), 1);
      assert.deepEqual(await peer.read(2), methodSelection(METHOD_NO_AUTH));
      assert.equal((await readSocks5Reply(peer)).reply, REP_SUCCEEDED);
      const payload = Buffer.from('slowly but surely');
      await peer.trickle(payload, 1);
      assert.deepEqual(await peer.read(payload.length), payload);
    } finally {
      peer.destroy();
    }
  });

  test('SOCKS4a handshake sent one byte per write: echo round trip', async () => {
    const peer = await RawPeer.connect(socksPort());
    try {
      await peer.trickle(socks4Request(CMD_CONNECT, 'localhost', echo.port, 'me'), 1);
      const reply = await peer.read(8);
      assert.equal(reply[1], SOCKS4_GRANTED);
      const payload = Buffer.from('SOCKS4a, byte by byte');
      peer.write(payload);
      assert.deepEqual(await peer.read(payload.length), payload);
    } finally {
      peer.destroy();
    }
  });

  test(`stalled handshakes are closed after the ${HANDSHAKE_TIMEOUT_MS} ms handshake timeout`, async () => {
    const stalls: Array<[string, Buffer, Buffer]> = [
      ['silent connection', Buffer.alloc(0), Buffer.alloc(0)],
      ['after the greeting', greeting(METHOD_NO_AUTH), methodSelection(METHOD_NO_AUTH)],
      ['in the middle of a SOCKS4 request', socks4Request(CMD_CONNECT, '127.0.0.1', echo.port).subarray(0, 6), Buffer.alloc(0)],
    ];
    await Promise.all(
      stalls.map(async ([what, bytes, answer]) => {
        const peer = await RawPeer.connect(socksPort());
        try {
          const started = Date.now();
          if (bytes.length > 0) peer.write(bytes);
          if (answer.length > 0) assert.deepEqual(await peer.read(answer.length), answer);
          await peer.waitEnd(CLOSE_WITHIN_MS).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
          const elapsed = Date.now() - started;
          assert.ok(elapsed >= HANDSHAKE_TIMEOUT_MS - 50, `${what}: closed after ${elapsed} ms, before the timeout`);
          assert.equal(peer.peek().length, 0, `${what}: nothing sent before closing`);
        } finally {
          peer.destroy();
        }
      }),
    );
  });

  // Without the token an upgrade is no tunnel request: it gets the 404 of any unknown request.
  test('WebSocket to /tunnel without a token: HTTP 404, no upgrade', async () => {
    const { status, ws } = await wsAttempt(pair.relay.url, ['sockbridge.v1']);
    ws.terminate();
    assert.equal(status, 404);
  });

  test('WebSocket to /tunnel with a wrong token, as a header or a subprotocol entry: HTTP 404', async () => {
    const header = await wsAttempt(pair.relay.url, ['sockbridge.v1'], { Authorization: 'Bearer not-the-token' });
    header.ws.terminate();
    assert.equal(header.status, 404);
    const entry = `sockbridge.token.${Buffer.from('not-the-token').toString('base64url')}`;
    const subprotocol = await wsAttempt(pair.relay.url, ['sockbridge.v1', entry]);
    subprotocol.ws.terminate();
    assert.equal(subprotocol.status, 404);
  });

  test('WebSocket with the token in a sockbridge.token.<base64url> entry: upgraded, sockbridge.v1 selected, HELLO answered', async () => {
    const entry = `sockbridge.token.${Buffer.from(TEST_TOKEN).toString('base64url')}`;
    const { status, selected, ws } = await wsAttempt(pair.relay.url, ['sockbridge.v1', entry]);
    try {
      assert.equal(status, 101);
      assert.equal(selected, 'sockbridge.v1', 'the relay selects sockbridge.v1, never the token entry');
      assert.equal(ws.protocol, 'sockbridge.v1');
      const log = new FrameLog(ws);
      ws.send(encodeHello(1, 1));
      await log.until(() => log.frames.length > 0, 'HELLO from the relay');
      assert.equal(log.frames[0].type, FrameType.Hello);
    } finally {
      ws.terminate();
    }
  });

  const garbage: Array<[string, (ws: WebSocket) => void, boolean]> = [
    ['an unknown frame type after HELLO', (ws) => ws.send(Buffer.from([0xee, 0x00, 0x00, 0x00, 0x00, 0x00])), true],
    ['seeded random binary before HELLO', (ws) => ws.send(randomBuffer(seededRandom(RANDOM_SEED + 1), 64)), false],
    ['a text message after HELLO', (ws) => ws.send('hello?'), true],
    ['DATA for a stream never opened', (ws) => ws.send(Buffer.from([FrameType.Data, 0x00, 0x00, 0x00, 0x00, 0x07, 0x41])), true],
  ];
  for (const [what, sendGarbage, helloFirst] of garbage) {
    test(`a tunnel WebSocket that sends ${what} gets GO_AWAY(protocol error) and is closed; the good tunnel goes on`, async () => {
      const { status, ws } = await wsAttempt(pair.relay.url, ['sockbridge.v1'], { Authorization: `Bearer ${TEST_TOKEN}` });
      try {
        assert.equal(status, 101);
        const log = new FrameLog(ws);
        if (helloFirst) {
          ws.send(encodeHello(1, 1));
          await log.until(() => log.frames.some((frame) => frame.type === FrameType.Hello), 'HELLO from the relay');
        }
        sendGarbage(ws);
        await log.until(() => log.closed, 'the relay to close the WebSocket');
        const goAway = log.frames.find((frame) => frame.type === FrameType.GoAway);
        assert.ok(goAway && goAway.type === FrameType.GoAway, 'a GO_AWAY came before the close');
        assert.equal(goAway.code, GoAwayCode.ProtocolError);
      } finally {
        ws.terminate();
      }
      const result = await curl(['--socks5-hostname', `127.0.0.1:${socksPort()}`, `http://localhost:${http.port}/`]);
      assert.equal(result.stdout, BODY, result.stderr);
      assert.equal(pair.client.tunnel.connections, 1, 'the good client never had to reconnect');
    });
  }

  test('GET /healthz answers 200 with JSON that says ok and nothing about tunnels', async () => {
    const response = await fetch(`http://127.0.0.1:${pair.relay.address.port}/healthz`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  test('after all of it the same client and relay still serve curl, on the first tunnel', async () => {
    await sleep(50); // let the last closes settle
    for (const flag of ['--socks5-hostname', '--socks4a']) {
      const result = await curl([flag, `127.0.0.1:${socksPort()}`, `http://localhost:${http.port}/`]);
      assert.equal(result.stderr, '');
      assert.equal(result.stdout, BODY);
    }
    assert.equal(pair.client.tunnel.connections, 1);
    assert.ok(pair.client.tunnel.current && !pair.client.tunnel.current.isClosed, 'the tunnel is up');
  });
});
