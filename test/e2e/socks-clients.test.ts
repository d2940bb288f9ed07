/**
 * Independent SOCKS clients (curl and the `socks` npm package) against a real client and
 * relay on loopback: what a user of each client would see.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { SocksClient, type SocksProxy } from 'socks';
import { curl } from '../helpers/socks/curl.js';
import { RawPeer, readSocks5Reply } from '../helpers/socks/raw-peer.js';
import { REP_SUCCEEDED } from '../helpers/socks/socks-replies.js';
import {
  ATYP_IPV6,
  AUTH_FAILURE,
  AUTH_SUCCESS,
  authStatus,
  CMD_CONNECT,
  greeting,
  METHOD_NO_ACCEPTABLE,
  METHOD_NO_AUTH,
  METHOD_USER_PASS,
  methodSelection,
  SOCKS4_GRANTED,
  SOCKS4_REJECTED,
  socks4Request,
  socks5Request,
  userPass,
} from '../helpers/socks/socks-encoder.js';
import { startEchoTarget, startHttpTarget, startTarget, type Target } from '../helpers/targets/targets.js';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { waitFor } from '../helpers/io/waiting.js';

const BODY = 'hello through sockbridge\n';

/** Writes `payload` and resolves with as many bytes echoed back, within a bounded time. */
function echoRoundTrip(socket: Socket, payload: Buffer, timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => finish(new Error(`echo: ${total} of ${payload.length} bytes after ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= payload.length) finish(null);
    };
    const onClose = (): void => finish(new Error(`echo: closed after ${total} of ${payload.length} bytes`));
    const finish = (err: Error | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(payload);
  });
}

/** Connects with the socks package, checks an echo round trip, closes. */
async function socksPackageEcho(proxy: SocksProxy, host: string, port: number): Promise<void> {
  const { socket } = await SocksClient.createConnection({ proxy, command: 'connect', destination: { host, port }, timeout: 5_000 });
  try {
    const payload = Buffer.from(`ping via SOCKS${proxy.type} to ${host}`);
    assert.deepEqual(await echoRoundTrip(socket, payload), payload);
  } finally {
    socket.destroy();
  }
}

/** An echo server on ::1, or null when this machine has no IPv6 loopback. */
async function startIPv6Echo(): Promise<Target | null> {
  const usable = await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
  return usable ? startEchoTarget('::1') : null;
}

interface SeenPeer {
  address: string | undefined;
  port: number | undefined;
}

describe('curl and the socks package through one tunnel', () => {
  let pair: TunnelPair;
  let http: Target;
  let echo: Target;
  let echo6: Target | null;
  /** The echo target's view of each connection: the relay's outbound socket address. */
  const seen: SeenPeer[] = [];

  before(async () => {
    // The true BND.ADDR of every connection needs the reply after the dial: with fast open a
    // destination dialed before gets the last bound address instead (fast-open.test.ts).
    pair = await startPair({ client: { fastOpen: 'never' } });
    http = await startHttpTarget(BODY);
    echo = await startTarget((socket) => {
      seen.push({ address: socket.remoteAddress, port: socket.remotePort });
      socket.pipe(socket);
    });
    echo6 = await startIPv6Echo();
  });

  after(async () => {
    await pair?.close();
    await http?.close();
    await echo?.close();
    await echo6?.close();
  });

  const proxyArg = (): string => `127.0.0.1:${pair.socksPort}`;

  for (const [flag, host] of [
    ['--socks4', '127.0.0.1'],
    ['--socks4a', 'localhost'],
    ['--socks5', '127.0.0.1'],
    ['--socks5-hostname', 'localhost'],
  ] as const) {
    test(`curl ${flag} fetches http://${host}/ from a local server`, async () => {
      const result = await curl([flag, proxyArg(), `http://${host}:${http.port}/`]);
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0);
      assert.equal(result.stdout, BODY);
    });
  }

  test('socks package, SOCKS4 to an IPv4 address: echo round trip', async () => {
    await socksPackageEcho({ host: '127.0.0.1', port: pair.socksPort, type: 4 }, '127.0.0.1', echo.port);
  });

  test('socks package, SOCKS4a to the name "localhost": echo round trip', async () => {
    await socksPackageEcho({ host: '127.0.0.1', port: pair.socksPort, type: 4, userId: 'someone' }, 'localhost', echo.port);
  });

  test('socks package, SOCKS5 to an IPv4 address: echo round trip', async () => {
    await socksPackageEcho({ host: '127.0.0.1', port: pair.socksPort, type: 5 }, '127.0.0.1', echo.port);
  });

  test('socks package, SOCKS5 to a domain name: echo round trip', async () => {
    await socksPackageEcho({ host: '127.0.0.1', port: pair.socksPort, type: 5 }, 'localhost', echo.port);
  });

  test('socks package, SOCKS5 to the IPv6 address ::1: echo round trip', async (t) => {
    if (!echo6) return t.skip('::1 is not available on this machine');
    await socksPackageEcho({ host: '127.0.0.1', port: pair.socksPort, type: 5 }, '::1', echo6.port);
  });

  test('SOCKS5 success reply carries the relay outbound socket as BND.ADDR:BND.PORT', async () => {
    const peer = await RawPeer.connect(pair.socksPort);
    try {
      const before = seen.length;
      peer.write(Buffer.concat([greeting(METHOD_NO_AUTH), socks5Request(CMD_CONNECT, '127.0.0.1', echo.port)]));
      assert.deepEqual(await peer.read(2), methodSelection(METHOD_NO_AUTH));
      const reply = await readSocks5Reply(peer);
      assert.equal(reply.reply, REP_SUCCEEDED);
      await waitFor(() => seen.length > before, { what: 'the target to accept', timeoutMs: 2_000 });
      const target = seen[seen.length - 1];
      assert.deepEqual({ host: reply.host, port: reply.port }, { host: target.address, port: target.port });
      assert.notEqual(reply.port, 0);
    } finally {
      peer.destroy();
    }
  });

  test('SOCKS5 success reply to an IPv6 target is an IPv6 BND.ADDR (ATYP 0x04) equal to the relay socket', async (t) => {
    if (!echo6) return t.skip('::1 is not available on this machine');
    const target6 = echo6;
    const peer = await RawPeer.connect(pair.socksPort);
    try {
      const before = target6.sockets.size;
      peer.write(Buffer.concat([greeting(METHOD_NO_AUTH), socks5Request(CMD_CONNECT, '::1', target6.port)]));
      await peer.read(2);
      const reply = await readSocks5Reply(peer);
      assert.equal(reply.reply, REP_SUCCEEDED);
      assert.equal(reply.bytes[3], ATYP_IPV6, 'ATYP of the bound address');
      await waitFor(() => target6.sockets.size > before, { what: 'the IPv6 target to accept', timeoutMs: 2_000 });
      const remotes = [...target6.sockets].map((s) => `[${s.remoteAddress}]:${s.remotePort}`);
      assert.ok(remotes.includes(`[${reply.host}]:${reply.port}`), `bound [${reply.host}]:${reply.port} is one of ${remotes.join(', ')}`);
    } finally {
      peer.destroy();
    }
  });

  test('SOCKS5: greeting, request and payload in one write, then FIN: the payload is echoed and the stream ends', async () => {
    const peer = await RawPeer.connect(pair.socksPort);
    try {
      const payload = Buffer.from('sent before the reply arrived');
      peer.write(Buffer.concat([greeting(METHOD_NO_AUTH), socks5Request(CMD_CONNECT, '127.0.0.1', echo.port), payload]));
      peer.end();
      assert.deepEqual(await peer.read(2), methodSelection(METHOD_NO_AUTH));
      assert.equal((await readSocks5Reply(peer)).reply, REP_SUCCEEDED);
      assert.deepEqual(await peer.read(payload.length), payload);
      await peer.waitEnd();
      assert.equal(peer.peek().length, 0);
    } finally {
      peer.destroy();
    }
  });

  test('SOCKS4: request and payload in one write, then FIN: the payload is echoed and the stream ends', async () => {
    const peer = await RawPeer.connect(pair.socksPort);
    try {
      const payload = Buffer.from('early SOCKS4 bytes');
      peer.write(Buffer.concat([socks4Request(CMD_CONNECT, '127.0.0.1', echo.port, 'u'), payload]));
      peer.end();
      const reply = await peer.read(8);
      assert.equal(reply[0], 0x00);
      assert.equal(reply[1], SOCKS4_GRANTED);
      assert.deepEqual(await peer.read(payload.length), payload);
      await peer.waitEnd();
    } finally {
      peer.destroy();
    }
  });
});

describe('SOCKS5 username/password (RFC 1929) when the client is configured with --socks-user', () => {
  const USER = 'alice';
  const PASSWORD = 'open sesame';
  let pair: TunnelPair;
  let http: Target;
  let echo: Target;
  let accepted = 0;

  before(async () => {
    pair = await startPair({ client: { socksUser: { username: USER, password: PASSWORD } } });
    http = await startHttpTarget(BODY);
    echo = await startTarget((socket) => {
      accepted += 1;
      socket.pipe(socket);
    });
  });

  after(async () => {
    await pair?.close();
    await http?.close();
    await echo?.close();
  });

  test('socks package with the right credentials: echo round trip', async () => {
    await socksPackageEcho({ host: '127.0.0.1', port: pair.socksPort, type: 5, userId: USER, password: PASSWORD }, '127.0.0.1', echo.port);
  });

  test('curl --socks5 with --proxy-user fetches the page', async () => {
    const result = await curl(['--socks5', `127.0.0.1:${pair.socksPort}`, '--proxy-user', `${USER}:${PASSWORD}`, `http://127.0.0.1:${http.port}/`]);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, BODY);
  });

  test('curl -x socks5h://user:pass@host fetches the page', async () => {
    const proxy = `socks5h://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${pair.socksPort}`;
    const result = await curl(['-x', proxy, `http://localhost:${http.port}/`]);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, BODY);
  });

  for (const [what, username, password] of [
    ['wrong password', USER, 'open says me'],
    ['wrong username', 'mallory', PASSWORD],
    ['empty credentials', '', ''],
  ] as const) {
    test(`${what}: method 0x02 chosen, then status 0x01 and the connection closes`, async () => {
      const peer = await RawPeer.connect(pair.socksPort);
      const acceptedBefore = accepted;
      try {
        peer.write(greeting(METHOD_NO_AUTH, METHOD_USER_PASS));
        assert.deepEqual(await peer.read(2), methodSelection(METHOD_USER_PASS));
        peer.write(Buffer.concat([userPass(username, password), socks5Request(CMD_CONNECT, '127.0.0.1', echo.port)]));
        assert.deepEqual(await peer.read(2), authStatus(AUTH_FAILURE));
        await peer.waitEnd();
        assert.equal(peer.peek().length, 0, 'nothing after the failure status');
        assert.equal(accepted, acceptedBefore, 'the target was never dialed');
      } finally {
        peer.destroy();
      }
    });
  }

  test('socks package and curl with a wrong password both fail', async () => {
    await assert.rejects(
      SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: pair.socksPort, type: 5, userId: USER, password: 'nope' },
        command: 'connect',
        destination: { host: '127.0.0.1', port: echo.port },
        timeout: 5_000,
      }),
      /Authentication failed/i,
    );
    const result = await curl(['--socks5', `127.0.0.1:${pair.socksPort}`, '--proxy-user', `${USER}:nope`, `http://127.0.0.1:${http.port}/`]);
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, '');
  });

  test('a client offering only no-auth gets method 0xFF and the connection closes', async () => {
    const peer = await RawPeer.connect(pair.socksPort);
    try {
      peer.write(greeting(METHOD_NO_AUTH));
      assert.deepEqual(await peer.read(2), methodSelection(METHOD_NO_ACCEPTABLE));
      await peer.waitEnd();
      assert.equal(peer.peek().length, 0);
    } finally {
      peer.destroy();
    }
  });

  test('a SOCKS4 request, which has no password, is rejected (91) and the target never dialed', async () => {
    const peer = await RawPeer.connect(pair.socksPort);
    const acceptedBefore = accepted;
    try {
      peer.write(Buffer.concat([socks4Request(CMD_CONNECT, '127.0.0.1', echo.port, USER), Buffer.from('early bytes')]));
      const reply = await peer.read(8);
      assert.deepEqual([reply[0], reply[1]], [0, SOCKS4_REJECTED]);
      await peer.waitEnd();
      assert.equal(accepted, acceptedBefore, 'the target was never dialed');
    } finally {
      peer.destroy();
    }
  });

  test('greeting, credentials, request and payload in one write: the payload is echoed', async () => {
    const peer = await RawPeer.connect(pair.socksPort);
    try {
      const payload = Buffer.from('pipelined behind the credentials');
      peer.write(Buffer.concat([greeting(METHOD_USER_PASS), userPass(USER, PASSWORD), socks5Request(CMD_CONNECT, '127.0.0.1', echo.port), payload]));
      assert.deepEqual(await peer.read(4), Buffer.concat([methodSelection(METHOD_USER_PASS), authStatus(AUTH_SUCCESS)]));
      assert.equal((await readSocks5Reply(peer)).reply, REP_SUCCEEDED);
      assert.deepEqual(await peer.read(payload.length), payload);
    } finally {
      peer.destroy();
    }
  });
});
