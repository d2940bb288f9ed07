/**
 * A relay a censor cannot find: the probes a scanner would send, against a relay started with
 * --fallback to a small website and against that website directly. Every answer through the
 * relay must equal the origin's (status line, headers but Date, Connection and Keep-Alive,
 * in order and case, and body) and none may name the product. Meanwhile an authenticated
 * client on the secret path still carries streams, and a WebSocket the origin itself serves
 * works through the relay. An origin that is down gets a reverse proxy's empty 502.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { WebSocket } from 'ws';
import { createLogger } from '../../common/log.js';
import { WS_SUBPROTOCOL } from '../../protocol/frame.js';
import { startClient, type Client } from '../../client/client.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { tokenSubprotocol } from '../../server/tunnel/auth.js';
import { ErrorReason } from '../../server/status/error-reasons.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { comparableHeaders, parseResponse, rawRequest, request, upgradeRequest, type RawResponse } from '../helpers/http/raw-http.js';
import { connectTcp, readAll } from '../helpers/io/socket-io.js';
import { sleep } from '../helpers/workloads/bulk-data.js';
import { curl } from '../helpers/socks/curl.js';
import { ADMIN_TOKEN } from '../helpers/status/status-http.js';
import { startFallbackOrigin, ORIGIN_SERVER, type FallbackOrigin } from '../helpers/targets/fallback-origin.js';
import { closedPort } from '../helpers/targets/targets.js';
import { waitFor, withTimeout } from '../helpers/io/waiting.js';
import { makeSelfSignedCert, opensslMissing, type TestCert } from '../helpers/fixtures/self-signed-cert.js';

const TOKEN = 'probe-battery-token-not-secret';
const SECRET_PATH = '/c2VjcmV0-9f3a61d0b7e24c58';
const PRODUCT = /sockbridge/i;
const POST_BODY = 'flour=2kg&'.repeat(10_000);

/** Each probe is built for the Host the scanner connects to. */
const PROBES: Array<[string, (host: string) => string]> = [
  ['GET /', (host) => request('GET', '/', host)],
  ['HEAD /', (host) => request('HEAD', '/', host)],
  ['a redirect', (host) => request('GET', '/old-menu', host)],
  ['GET /tunnel', (host) => request('GET', '/tunnel', host)],
  ['GET /healthz', (host) => request('GET', '/healthz', host)],
  ['GET /metrics', (host) => request('GET', '/metrics', host)],
  ['GET /api/status', (host) => request('GET', '/api/status', host)],
  ['GET /api/events', (host) => request('GET', '/api/events', host, 'Accept: text/event-stream\r\n')],
  ['a random path', (host) => request('GET', '/wp-login.php', host)],
  ['another random path with a query', (host) => request('GET', '/.env?x=1&y=%2F', host)],
  ['OPTIONS on a random path', (host) => request('OPTIONS', '/cgi-bin/luci', host)],
  ['the secret path without an upgrade', (host) => request('GET', SECRET_PATH, host)],
  ['the secret path without an upgrade, with a wrong token', (host) => request('GET', SECRET_PATH, host, 'Authorization: Bearer guess-0000\r\n')],
  ['an upgrade on /', (host) => upgradeRequest('/', host)],
  ['an upgrade on /tunnel', (host) => upgradeRequest('/tunnel', host)],
  ['an upgrade on the secret path without a token', (host) => upgradeRequest(SECRET_PATH, host, `Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}\r\n`)],
  ['an upgrade on the secret path with a wrong bearer token', (host) => upgradeRequest(SECRET_PATH, host, `Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}\r\nAuthorization: Bearer guess-1234\r\n`)],
  ['an upgrade on the secret path with a wrong subprotocol token', (host) => upgradeRequest(SECRET_PATH, host, `Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}, ${tokenSubprotocol('guess-5678')}\r\n`)],
  ['an HTTP/1.0 upgrade on the secret path', (host) => upgradeRequest(SECRET_PATH, host, `Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}\r\n`, '1.0')],
  ['an upgrade the origin accepts (/ws)', (host) => upgradeRequest('/ws', host)],
  ['a POST with a body', (host) => request('POST', '/order', host, `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${POST_BODY.length}\r\n`) + POST_BODY],
  ['CONNECT, as an open-proxy scan', () => `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: probe/1.0\r\n\r\n`],
  ['an absolute-form GET, as an open-proxy scan', () => 'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'],
  ['an HTTP/1.0 POST', (host) => request('POST', '/order', host, 'Content-Length: 5\r\n', '1.0') + 'hello'],
  ['a chunked POST', (host) => request('POST', '/order', host, 'Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n') + '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'],
];

function assertSameAnswer(via: RawResponse, direct: RawResponse): void {
  assert.equal(via.statusLine, direct.statusLine, `status line; relay sent:\n${via.raw.slice(0, 500)}`);
  assert.deepEqual(comparableHeaders(via), comparableHeaders(direct), 'headers but Date, Connection, Keep-Alive');
  assert.ok(via.body.equals(direct.body), `body: relay ${via.body.length} bytes, origin ${direct.body.length} bytes`);
  assert.doesNotMatch(via.raw, PRODUCT, 'the answer names the product');
}

describe('a relay with --fallback answers every probe as its origin does', () => {
  let origin: FallbackOrigin;
  let relay: Relay;
  let client: Client | null = null;
  const logLines: string[] = [];

  before(async () => {
    origin = await startFallbackOrigin();
    relay = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [TOKEN],
      path: SECRET_PATH,
      fallback: origin.url,
      adminToken: ADMIN_TOKEN,
      rules: loopbackRules(),
      logger: createLogger('relay', 'info', (line) => logLines.push(line)),
    });
  });

  after(async () => {
    await client?.close();
    await relay?.close();
    await origin?.close();
  });

  for (const [name, probe] of PROBES) {
    test(`${name}: the relay's answer is the origin's`, async () => {
      const direct = await rawRequest(origin.port, probe(`127.0.0.1:${origin.port}`));
      const via = await rawRequest(relay.address.port, probe(`127.0.0.1:${relay.address.port}`));
      assert.ok(direct.headers.some(([key, value]) => key === 'Server' && value === ORIGIN_SERVER) || direct.status === 101, 'the origin answered itself');
      assertSameAnswer(via, direct);
    });
  }

  test('probes on the secret path with a wrong token were logged, without the tokens', async () => {
    const refused = logLines.filter((line) => line.includes('tunnel refused: missing or wrong token'));
    assert.ok(refused.length >= 4, `refusals logged:\n${logLines.join('')}`);
    for (const line of logLines) {
      for (const secret of [TOKEN, ADMIN_TOKEN, 'guess-1234', 'guess-5678']) assert.ok(!line.includes(secret), `a log line holds a token: ${line}`);
    }
    assert.ok((relay.status.snapshot().totals.errors[ErrorReason.UnauthorizedTunnel] ?? 0) >= 4);
  });

  test('a valid token on anything but a tunnel upgrade on the secret path, or the admin token, never reaches the origin', async () => {
    const host = `127.0.0.1:${relay.address.port}`;
    const misdirected = [
      request('GET', SECRET_PATH, host, `Authorization: Bearer ${TOKEN}\r\n`),
      upgradeRequest('/tunnel', host, `Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}\r\nAuthorization: Bearer ${TOKEN}\r\n`),
      upgradeRequest('/ws', host, `Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}, ${tokenSubprotocol(TOKEN)}\r\n`),
      // The admin token, whose routes the public port does not serve with --fallback, as Bearer and as Basic.
      request('GET', '/api/status', host, `Authorization: Bearer ${ADMIN_TOKEN}\r\n`),
      request('GET', '/', host, `Authorization: Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}\r\n`),
      upgradeRequest('/ws', host, `Authorization: Bearer ${ADMIN_TOKEN}\r\n`),
    ];
    for (const probe of misdirected) {
      const via = await rawRequest(relay.address.port, probe);
      assert.equal(via.status, 404, via.raw.slice(0, 300));
      assert.equal(via.body.length, 0);
    }
    const encoded = tokenSubprotocol(TOKEN);
    const adminBasic = Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64');
    const leaked = [TOKEN, encoded, ADMIN_TOKEN, adminBasic];
    assert.ok(!origin.credentialsSeen.some((value) => leaked.some((secret) => value.includes(secret))), origin.credentialsSeen.join('\n'));
    assert.ok(origin.credentialsSeen.some((value) => value.includes('guess-1234')), 'wrong tokens do reach the origin, as probes');
  });

  test('an authenticated client on the secret path carries streams as before', async () => {
    assert.ok(relay.url.endsWith(SECRET_PATH), relay.url);
    client = await startClient({ relayUrl: relay.url, token: TOKEN, socks: { host: '127.0.0.1', port: 0 }, logger: createLogger('client', 'silent') });
    await withTimeout(client.tunnel.getSession(), { what: 'the tunnel on the secret path' });
    const result = await curl(['--socks5-hostname', `127.0.0.1:${client.socksAddress.port}`, `${origin.url}/`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Fresh bread daily/);
    assert.equal(relay.sessions.size, 1);
  });

  test("a WebSocket the origin serves works through the relay, both ways", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${relay.address.port}/ws`);
    try {
      await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), { what: 'the WebSocket to the origin' });
      const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
      const payload = Buffer.alloc(200_000, 7);
      ws.send(payload);
      assert.ok((await withTimeout(echoed, { what: 'the echo' })).equals(payload));
    } finally {
      ws.terminate();
    }
  });
});

describe('a relay whose --fallback origin is down', () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [TOKEN],
      path: SECRET_PATH,
      fallback: `http://127.0.0.1:${await closedPort()}`,
      logger: createLogger('relay', 'silent'),
    });
  });
  after(() => relay?.close());

  for (const [name, probe] of [PROBES[0], PROBES.find(([name]) => name === 'an upgrade on the secret path without a token')!]) {
    test(`${name}: 502 with an empty body, naming nothing`, async () => {
      const via = await rawRequest(relay.address.port, probe(`127.0.0.1:${relay.address.port}`));
      assert.equal(via.statusLine, 'HTTP/1.1 502 Bad Gateway');
      assert.equal(via.body.length, 0);
      assert.deepEqual(comparableHeaders(via).map(([key]) => key.toLowerCase()), ['content-length']);
      assert.doesNotMatch(via.raw, PRODUCT);
    });
  }

  test('each 502 is counted as fallback-unreachable', async () => {
    await waitFor(() => (relay.status.snapshot().totals.errors[ErrorReason.FallbackUnreachable] ?? 0) >= 2, { what: 'two fallback-unreachable counts' });
  });
});

describe('a relay with --fallback over TLS answers as its origin does', { skip: opensslMissing() }, () => {
  let origin: FallbackOrigin;
  let relay: Relay;
  let cert: TestCert;
  let client: Client | null = null;
  before(async () => {
    cert = await makeSelfSignedCert();
    origin = await startFallbackOrigin();
    relay = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [TOKEN],
      path: SECRET_PATH,
      fallback: origin.url,
      tls: { cert: cert.cert, key: cert.key },
      rules: loopbackRules(),
      logger: createLogger('relay', 'silent'),
    });
  });
  after(async () => {
    await client?.close();
    await relay?.close();
    await origin?.close();
    await cert?.remove();
  });

  const names = ['GET /', 'a POST with a body', 'an upgrade on the secret path with a wrong bearer token', 'an HTTP/1.0 upgrade on the secret path', 'an upgrade the origin accepts (/ws)'];
  for (const [name, probe] of PROBES.filter(([probeName]) => names.includes(probeName))) {
    test(`${name}, over TLS: the relay's answer is the origin's`, async () => {
      const direct = await rawRequest(origin.port, probe(`127.0.0.1:${origin.port}`));
      const via = await rawRequest(relay.address.port, probe(`127.0.0.1:${relay.address.port}`), { tlsCa: cert.cert });
      assertSameAnswer(via, direct);
    });
  }

  test('an authenticated client over wss:// on the secret path carries streams', async () => {
    client = await startClient({ relayUrl: relay.url, token: TOKEN, ca: cert.cert, socks: { host: '127.0.0.1', port: 0 }, logger: createLogger('client', 'silent') });
    await withTimeout(client.tunnel.getSession(), { what: 'the wss:// tunnel on the secret path' });
    const result = await curl(['--socks5-hostname', `127.0.0.1:${client.socksAddress.port}`, `${origin.url}/`]);
    assert.match(result.stdout, /Fresh bread daily/, result.stderr);
  });
});

describe('an upgrade request with a body, to an origin that reads it (as nginx does for a site without WebSockets)', () => {
  let originServer: Server;
  let relay: Relay;
  before(async () => {
    // A raw origin: reads the head, then Content-Length bytes, then says how many it got.
    originServer = createServer((socket) => {
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        if (buffered.length - end - 4 < length) return;
        const body = `got ${buffered.subarray(end + 4, end + 4 + length).toString('latin1')}`;
        socket.end(`HTTP/1.1 200 OK\r\nServer: ${ORIGIN_SERVER}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => originServer.listen(0, '127.0.0.1', resolve));
    const { port } = originServer.address() as AddressInfo;
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN], path: SECRET_PATH, fallback: `http://127.0.0.1:${port}`, logger: createLogger('relay', 'silent') });
  });
  after(async () => {
    await relay?.close();
    await new Promise<void>((resolve) => originServer?.close(() => resolve()));
  });

  test('the body reaches the origin, whole, sent with the head or after it', async () => {
    const host = `127.0.0.1:${relay.address.port}`;
    const head = `POST ${SECRET_PATH} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 12\r\n\r\n`;
    const together = await rawRequest(relay.address.port, `${head}hello, world`);
    assert.equal(together.body.toString(), 'got hello, world', together.raw);
    const socket = await connectTcp(relay.address.port);
    try {
      const answer = readAll(socket);
      socket.write(`${head}hello`);
      await sleep(100);
      socket.write(', world');
      assert.equal(parseResponse(await answer).body.toString(), 'got hello, world');
    } finally {
      socket.destroy();
    }
  });
});
