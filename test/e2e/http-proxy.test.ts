/**
 * The client's port as an HTTP proxy, driven by real clients: curl with -x (GET, POST with
 * bodies plain and chunked, keep-alive across two hosts) and -p (CONNECT), curl and git
 * through https_proxy/http_proxy, proxy credentials (407 without), the PAC file, failures
 * as HTTP answers, SOCKS on the same port, and bad HTTP input that leaves the port serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { Route } from '../../client/outbound/route.js';
import { ruleFromFlag } from '../../client/outbound/rules.js';
import { parseTargetRule } from '../../server/policy/target-rule.js';
import { curl } from '../helpers/socks/curl.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { makeSelfSignedCert, opensslMissing, type TestCert } from '../helpers/fixtures/self-signed-cert.js';
import { connectTcp, readAll, readBytes } from '../helpers/io/socket-io.js';
import { waitFor } from '../helpers/io/waiting.js';
import { closedPort, startEchoTarget, startTarget, type Target } from '../helpers/targets/targets.js';
import { startStalledTarget, type StalledTarget } from '../helpers/targets/stalled-target.js';
import { header, patternByte, startHttpOrigin, type HttpOrigin, type SeenRequest } from '../helpers/targets/http-origin.js';
import { git, startGitHttpRepo, type GitHttpRepo } from '../helpers/targets/git-http.js';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';

const HANDSHAKE_TIMEOUT_MS = 1_000;
/** A bad connection must be closed within the handshake timeout plus slack for a busy machine. */
const CLOSE_WITHIN_MS = HANDSHAKE_TIMEOUT_MS + 3_000;
const USER = 'alice';
const PASSWORD = 'secret pass';
const BODY_BYTES = 3 * 1024 * 1024 + 17;
const DOWNLOAD_BYTES = 5 * 1024 * 1024 + 3;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** curl -w output: the status line of each transfer, then the JSON body. */
function seenBy(stdout: string): SeenRequest {
  return JSON.parse(stdout) as SeenRequest;
}

/** Writes raw bytes to the port and resolves with everything it answers until it closes, and how long that took. */
async function rawExchange(port: number, bytes: Buffer | string, options: { thenWaitMs?: number } = {}): Promise<{ answer: string; closedAfterMs: number }> {
  const socket = await connectTcp(port);
  try {
    const started = Date.now();
    const all = readAll(socket, CLOSE_WITHIN_MS + (options.thenWaitMs ?? 0));
    socket.write(bytes);
    const answer = (await all).toString('latin1');
    return { answer, closedAfterMs: Date.now() - started };
  } finally {
    socket.destroy();
  }
}

describe('HTTP proxy on the SOCKS port', () => {
  let pair: TunnelPair;
  let proxy: string;
  let origin: HttpOrigin;
  let secondHost: HttpOrigin;
  let forbidden: HttpOrigin;
  let closeDelimited: Target;
  let stalled: StalledTarget | { failed: string };
  let dir: string;

  before(async () => {
    // An HTTP/1.0-style origin: no Content-Length, the body ends when the connection does.
    closeDelimited = await startTarget((socket) => socket.once('data', () => socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close\n')));
    stalled = await startStalledTarget();
    origin = await startHttpOrigin('127.0.0.1');
    secondHost = await startHttpOrigin('127.0.0.2');
    forbidden = await startHttpOrigin('127.0.0.1');
    pair = await startPair({
      relay: { rules: [parseTargetRule('deny', `127.0.0.1:${forbidden.port}`), ...loopbackRules()] },
      client: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS },
    });
    proxy = `http://127.0.0.1:${pair.socksPort}`;
    dir = await mkdtemp(join(tmpdir(), 'sockbridge-http-proxy-'));
  });

  after(async () => {
    await pair.close();
    await Promise.all([origin.close(), secondHost.close(), forbidden.close(), closeDelimited.close(), 'close' in stalled ? stalled.close() : undefined]);
    await rm(dir, { recursive: true, force: true });
  });

  test('curl -x GET reaches the origin in origin-form, Host rewritten, hop-by-hop headers gone', async () => {
    const result = await curl([
      '-x', proxy,
      '-H', 'Connection: X-Hop-Secret',
      '-H', 'X-Hop-Secret: for this hop only',
      '-H', 'Proxy-Authorization: Basic dXNlcjpwYXNz',
      '-H', 'X-End-To-End: kept',
      `${origin.base}/some/path?q=1&r=%2F`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const seen = seenBy(result.stdout);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/some/path?q=1&r=%2F');
    assert.deepEqual(header(seen, 'host'), [`127.0.0.1:${origin.port}`]);
    assert.deepEqual(header(seen, 'x-end-to-end'), ['kept']);
    for (const name of ['proxy-connection', 'proxy-authorization', 'x-hop-secret', 'keep-alive']) assert.deepEqual(header(seen, name), [], name);
    assert.deepEqual(header(seen, 'connection'), ['close'], 'one outbound per request, closed after it');
    assert.deepEqual(header(seen, 'via'), [], 'the proxy announces itself to nobody');
  });

  test('a Connection header naming Content-Length cannot strip the body\'s framing (no request smuggling)', async () => {
    const result = await curl(['-x', proxy, '-H', 'Connection: keep-alive, Content-Length', '--data-binary', 'GET /smuggled HTTP/1.1', `${origin.base}/framed`]);
    assert.equal(result.code, 0, result.stderr);
    const seen = seenBy(result.stdout);
    assert.equal(seen.url, '/framed');
    assert.deepEqual(header(seen, 'content-length'), ['22']);
    assert.equal(seen.bodyLength, 22);
  });

  test('a Via the application sent reaches the origin unchanged, with none added', async () => {
    const result = await curl(['-x', proxy, '-H', 'Via: 1.1 upstream-cache', `${origin.base}/with-via`]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(header(seenBy(result.stdout), 'via'), ['1.1 upstream-cache']);
  });

  test('POST bodies arrive whole: with Content-Length and chunked', async () => {
    const body = Buffer.alloc(BODY_BYTES);
    for (let i = 0; i < body.length; i++) body[i] = (i * 13) & 0xff;
    const file = join(dir, 'body.bin');
    await writeFile(file, body);
    const plain = await curl(['-x', proxy, '--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream', `${origin.base}/upload`], 30_000);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual([seenBy(plain.stdout).bodyLength, seenBy(plain.stdout).bodySha256], [BODY_BYTES, sha256(body)]);
    const chunked = await curl(['-x', proxy, '-X', 'PUT', '--data-binary', `@${file}`, '-H', 'Transfer-Encoding: chunked', `${origin.base}/upload`], 30_000);
    assert.equal(chunked.code, 0, chunked.stderr);
    const seen = seenBy(chunked.stdout);
    assert.deepEqual([seen.method, seen.bodyLength, seen.bodySha256], ['PUT', BODY_BYTES, sha256(body)]);
    assert.deepEqual(header(seen, 'transfer-encoding'), ['chunked']);
  });

  test('a chunked download arrives whole, and HEAD answers without a body', async () => {
    const file = join(dir, 'download.bin');
    const result = await curl(['-x', proxy, '-o', file, '-w', '%{http_code}', `${origin.base}/bytes/${DOWNLOAD_BYTES}`], 30_000);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '200');
    const got = await readFile(file);
    assert.equal(got.length, DOWNLOAD_BYTES);
    const want = Buffer.alloc(DOWNLOAD_BYTES);
    for (let i = 0; i < want.length; i++) want[i] = patternByte(i);
    assert.ok(got.equals(want), 'the bytes the origin sent, in order');
    const head = await curl(['-x', proxy, '-I', `${origin.base}/`]);
    assert.equal(head.code, 0, head.stderr);
    assert.match(head.stdout, /^HTTP\/1\.1 200 /);
    assert.match(head.stdout, /x-origin: yes/i);
  });

  test('a body the origin ends by closing arrives whole, and the client connection stays alive', async () => {
    const result = await curl(['-x', proxy, '-w', '%{num_connects}', `http://127.0.0.1:${closeDelimited.port}/`, `${origin.base}/after`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^until the close\n1\{.*"url":"\/after".*\}0$/s);
  });

  test('a client that leaves while the relay dials: the stream is given up at once', async (t) => {
    if ('failed' in stalled) return t.skip(`cannot build a never-answering loopback target: ${stalled.failed}`);
    const streams = (): number => pair.relay.status.snapshot().totals.streams;
    await waitFor(() => streams() === 0, { what: 'no open streams before' });
    for (const request of [`CONNECT 127.0.0.1:${stalled.port} HTTP/1.1\r\nHost: x\r\n\r\n`, `GET http://127.0.0.1:${stalled.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`]) {
      const socket = await connectTcp(pair.socksPort);
      socket.write(request);
      await waitFor(() => streams() === 1, { what: 'the stream to the stalled target' });
      socket.destroy();
      // The relay's dial timeout is 10 s: the stream must go long before that.
      await waitFor(() => streams() === 0, { what: 'the stream to be reset', timeoutMs: 3_000 });
    }
  });

  test('the connection to the proxy stays alive across requests to two hosts', async () => {
    const result = await curl(['-x', proxy, '-w', '\n%{num_connects}\n', `${origin.base}/first`, `${secondHost.base}/second`]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.equal(seenBy(lines[0]).url, '/first');
    assert.equal(lines[1], '1', 'the first request opened a connection');
    assert.equal(seenBy(lines[2]).url, '/second');
    assert.equal(lines[3], '0', 'the second reused it');
    assert.equal(secondHost.seen.at(-1)?.url, '/second');
  });

  test('curl -p tunnels with CONNECT, and answers 200 only once the relay has dialed', async () => {
    const result = await curl(['-p', '-x', proxy, '-v', `${origin.base}/tunneled`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /HTTP\/1\.1 200 Connection established/);
    assert.equal(seenBy(result.stdout).url, '/tunneled');
    const refused = await curl(['-p', '-x', proxy, `http://127.0.0.1:${await closedPort()}/`]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /CONNECT tunnel failed, response 502/);
  });

  test('bytes sent right behind a CONNECT reach the target first, and in order', async () => {
    const echo = await startEchoTarget();
    const socket = await connectTcp(pair.socksPort);
    try {
      socket.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\nfirst,`);
      socket.write('second,');
      setTimeout(() => socket.write('third'), 50);
      const established = 'HTTP/1.1 200 Connection established\r\n\r\n';
      const answer = await readBytes(socket, established.length + 'first,second,third'.length);
      assert.equal(answer.toString('latin1'), `${established}first,second,third`);
    } finally {
      socket.destroy();
      await echo.close();
    }
  });

  test('failures are HTTP answers with a reason: 502 refused, 403 refused by the relay, 400 for https:// URLs', async () => {
    const port = await closedPort();
    const refused = await curl(['-x', proxy, '-w', '\n%{http_code}', `http://127.0.0.1:${port}/`]);
    assert.match(refused.stdout, /^connection refused: .*127\.0\.0\.1:\d+.*\n\n502$/);
    const denied = await curl(['-x', proxy, '-w', '\n%{http_code}', `${forbidden.base}/`]);
    assert.match(denied.stdout, /^refused by a rule: .*\n\n403$/);
    assert.equal(forbidden.seen.length, 0);
    const raw = await rawExchange(pair.socksPort, 'GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    assert.match(raw.answer, /^HTTP\/1\.1 400 .*CONNECT/s);
  });

  test('GET /proxy.pac serves the PAC file: SOCKS5, then PROXY, this port', async () => {
    const result = await curl(['-i', `${proxy}/proxy.pac`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^HTTP\/1\.1 200 /);
    assert.match(result.stdout, /content-type: application\/x-ns-proxy-autoconfig/i);
    assert.ok(result.stdout.includes(`"SOCKS5 127.0.0.1:${pair.socksPort}; PROXY 127.0.0.1:${pair.socksPort}"`), result.stdout);
    assert.match(result.stdout, /function FindProxyForURL\(url, host\)/);
    const other = await curl(['-w', '\n%{http_code}', `${proxy}/elsewhere`]);
    assert.match(other.stdout, /404$/);
  });

  test('https_proxy: curl reaches an https origin through CONNECT', { skip: opensslMissing() }, async () => {
    const cert: TestCert = await makeSelfSignedCert();
    const server: HttpsServer = createHttpsServer({ cert: cert.cert, key: cert.key }, (_req, res) => res.end('secure hello\n'));
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const result = await curl(['--cacert', cert.certFile, url], 10_000, { https_proxy: proxy });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'secure hello\n');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cert.remove();
    }
  });

  test('http_proxy: git clones a repository over HTTP through the port', async () => {
    let repo: GitHttpRepo | null = null;
    try {
      repo = await startGitHttpRepo();
      const before = pair.relay.status.snapshot().totals.streamsOpened;
      const into = join(dir, 'clone');
      const result = await git(['clone', '-q', repo.url, into], { env: { http_proxy: proxy } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(join(into, repo.file.name), 'utf8'), repo.file.content);
      assert.ok(repo.requests.includes('/repo.git/info/refs'), repo.requests.join(' '));
      const opened = pair.relay.status.snapshot().totals.streamsOpened - before;
      assert.ok(opened >= repo.requests.length, `the relay opened ${opened} streams for ${repo.requests.length} requests`);
    } finally {
      await repo?.close();
    }
  });

  test('SOCKS4a and SOCKS5 still work on the same port', async () => {
    for (const flag of ['--socks5-hostname', '--socks4a']) {
      const result = await curl([flag, `127.0.0.1:${pair.socksPort}`, `${origin.base}/via-socks`]);
      assert.equal(result.code, 0, `${flag}: ${result.stderr}`);
      assert.equal(seenBy(result.stdout).url, '/via-socks');
    }
  });
});

describe('HTTP proxy credentials (--socks-user)', () => {
  let pair: TunnelPair;
  let proxy: string;
  let origin: HttpOrigin;

  before(async () => {
    origin = await startHttpOrigin();
    pair = await startPair({ client: { socksUser: { username: USER, password: PASSWORD } } });
    proxy = `http://127.0.0.1:${pair.socksPort}`;
  });
  after(async () => {
    await pair.close();
    await origin.close();
  });

  test('without credentials: 407 with a Basic challenge, for forwarding and CONNECT', async () => {
    const plain = await curl(['-i', '-x', proxy, `${origin.base}/`]);
    assert.match(plain.stdout, /^HTTP\/1\.1 407 /);
    assert.match(plain.stdout, /proxy-authenticate: Basic realm="sockbridge"/i);
    const wrong = await curl(['-w', '%{http_code}', '-o', '/dev/null', '-x', proxy, '--proxy-user', `${USER}:wrong`, `${origin.base}/`]);
    assert.equal(wrong.stdout, '407');
    const tunnel = await curl(['-p', '-x', proxy, `${origin.base}/`]);
    assert.notEqual(tunnel.code, 0);
    assert.match(tunnel.stderr, /response 407/);
    assert.equal(origin.seen.length, 0, 'nothing reached the origin');
  });

  test('the PAC file needs no credentials', async () => {
    const result = await curl(['-w', '%{http_code}', '-o', '/dev/null', `${proxy}/proxy.pac`]);
    assert.equal(result.stdout, '200');
  });

  test('with the credentials: forwarded and tunneled, and the credentials do not reach the origin', async () => {
    const forwarded = await curl(['-x', proxy, '--proxy-user', `${USER}:${PASSWORD}`, `${origin.base}/ok`]);
    assert.equal(forwarded.code, 0, forwarded.stderr);
    assert.deepEqual(header(seenBy(forwarded.stdout), 'proxy-authorization'), []);
    const tunneled = await curl(['-p', '-x', `http://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${pair.socksPort}`, `${origin.base}/ok`]);
    assert.equal(tunneled.code, 0, tunneled.stderr);
    const socks = await curl(['--socks5-hostname', `127.0.0.1:${pair.socksPort}`, '--proxy-user', `${USER}:${PASSWORD}`, `${origin.base}/socks`]);
    assert.equal(socks.code, 0, socks.stderr);
  });
});

describe('HTTP proxy and the routing rules (--direct, --block)', () => {
  const DIRECT_DIAL_TIMEOUT_MS = 500;
  let pair: TunnelPair;
  let proxy: string;
  let direct: HttpOrigin;
  let viaRelay: HttpOrigin;
  let stalled: StalledTarget | { failed: string };

  before(async () => {
    direct = await startHttpOrigin();
    viaRelay = await startHttpOrigin();
    stalled = await startStalledTarget();
    const stalledRule = 'port' in stalled ? [ruleFromFlag(Route.Direct, `127.0.0.1:${stalled.port}`)] : [];
    // The relay keeps its safe default, so a loopback origin answers only when dialled direct.
    pair = await startPair({
      relay: { rules: [] },
      client: {
        routes: [ruleFromFlag(Route.Block, 'blocked.example'), ruleFromFlag(Route.Direct, `127.0.0.1:${direct.port}`), ...stalledRule],
        directDialTimeoutMs: DIRECT_DIAL_TIMEOUT_MS,
      },
    });
    proxy = `http://127.0.0.1:${pair.socksPort}`;
  });
  after(async () => {
    await pair.close();
    await Promise.all([direct.close(), viaRelay.close(), 'close' in stalled ? stalled.close() : undefined]);
  });

  test('a --direct destination is forwarded and tunneled by a direct dial', async () => {
    const forwarded = await curl(['-x', proxy, `${direct.base}/direct`]);
    assert.equal(forwarded.code, 0, forwarded.stderr);
    assert.equal(seenBy(forwarded.stdout).url, '/direct');
    const tunneled = await curl(['-p', '-x', proxy, `${direct.base}/direct-tunnel`]);
    assert.equal(tunneled.code, 0, tunneled.stderr);
    assert.equal(seenBy(tunneled.stdout).url, '/direct-tunnel');
    assert.equal(pair.client.routeCounts().direct, 2);
  });

  test('403 for --block and for what the relay refuses; 504 when a direct dial times out', async (t) => {
    const blocked = await curl(['-x', proxy, '-w', '\n%{http_code}', 'http://blocked.example/']);
    assert.match(blocked.stdout, /^refused by a rule: blocked\.example:80 blocked by --block blocked\.example\n\n403$/);
    const refusedByRelay = await curl(['-x', proxy, '-w', '\n%{http_code}', `${viaRelay.base}/`]);
    assert.match(refusedByRelay.stdout, /^refused by a rule: relay could not serve GET 127\.0\.0\.1:\d+ \(reply 0x02\)\n\n403$/);
    const blockedTunnel = await curl(['-p', '-x', proxy, 'http://blocked.example/']);
    assert.match(blockedTunnel.stderr, /CONNECT tunnel failed, response 403/);
    if ('failed' in stalled) return t.skip(`cannot build a never-answering loopback target: ${stalled.failed}`);
    const started = Date.now();
    const timedOut = await curl(['-x', proxy, '-w', '\n%{http_code}', `http://127.0.0.1:${stalled.port}/`]);
    assert.match(timedOut.stdout, /^no answer in time: direct dial to 127\.0\.0\.1:\d+ failed: ETIMEDOUT.*\n\n504$/);
    assert.ok(Date.now() - started >= DIRECT_DIAL_TIMEOUT_MS);
  });

  test('the PAC file sends --direct destinations DIRECT and blocked ones to the proxy', async () => {
    const result = await curl([`${proxy}/proxy.pac`]);
    assert.equal(result.code, 0, result.stderr);
    const findProxy = (url: string, host: string): string => runInNewContext(`${result.stdout}\nFindProxyForURL(url, host)`, { url, host }, { timeout: 1_000 }) as string;
    const proxied = `SOCKS5 127.0.0.1:${pair.socksPort}; PROXY 127.0.0.1:${pair.socksPort}`;
    assert.equal(findProxy('http://blocked.example/', 'blocked.example'), proxied);
    assert.equal(findProxy('http://example.com/', 'example.com'), proxied);
    assert.equal(findProxy('http://localhost:8080/', 'localhost'), 'DIRECT');
    assert.equal(findProxy(`http://10.0.0.1:${direct.port}/`, '10.0.0.1'), proxied);
  });
});

describe('bad HTTP input leaves the port serving', () => {
  let pair: TunnelPair;
  let origin: HttpOrigin;

  before(async () => {
    origin = await startHttpOrigin();
    pair = await startPair({ client: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS } });
  });
  after(async () => {
    await pair.close();
    await origin.close();
  });

  test('garbage after a letter: 400 and closed', async () => {
    const { answer } = await rawExchange(pair.socksPort, Buffer.from('GARBAGE \x00\x01\x02 nonsense\r\n\r\n', 'latin1'));
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Connection: close\r\n\r\nmalformed HTTP request/);
  });

  test('neither SOCKS nor HTTP (a TLS ClientHello): closed without an answer', async () => {
    const { answer } = await rawExchange(pair.socksPort, Buffer.from('16030100a5010000a10303', 'hex'));
    assert.equal(answer, '');
  });

  test('headers over the limit: 431 and closed', async () => {
    const request = `GET ${origin.base}/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`;
    const { answer } = await rawExchange(pair.socksPort, request);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.equal(origin.seen.length, 0);
  });

  test('a request line that never finishes: 408 within the handshake timeout, then closed', async () => {
    const { answer, closedAfterMs } = await rawExchange(pair.socksPort, `GET ${origin.base}/ HT`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(closedAfterMs >= HANDSHAKE_TIMEOUT_MS - 100 && closedAfterMs < CLOSE_WITHIN_MS, `closed after ${closedAfterMs} ms`);
  });

  test('a slow first byte does not buy more time: the request line and headers end within one handshake timeout of accept', async () => {
    const socket = await connectTcp(pair.socksPort);
    try {
      const acceptedAt = Date.now();
      const all = readAll(socket, CLOSE_WITHIN_MS);
      // Most of the timeout passes before the first byte; a timer restarted there would give a whole new one.
      await new Promise((resolve) => setTimeout(resolve, HANDSHAKE_TIMEOUT_MS * 0.6));
      const firstByteAt = Date.now();
      socket.write(`GET ${origin.base}/ HT`);
      const answer = (await all).toString('latin1');
      const closedAt = Date.now();
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.ok(closedAt - acceptedAt >= HANDSHAKE_TIMEOUT_MS - 100, `closed ${closedAt - acceptedAt} ms after accept`);
      assert.ok(closedAt - firstByteAt < HANDSHAKE_TIMEOUT_MS, `closed ${closedAt - firstByteAt} ms after the first byte: the timeout restarted there`);
    } finally {
      socket.destroy();
    }
    assert.equal(origin.seen.length, 0);
  });

  test('a connection that sends nothing is closed within the handshake timeout', async () => {
    const { answer, closedAfterMs } = await rawExchange(pair.socksPort, '');
    assert.equal(answer, '');
    assert.ok(closedAfterMs < CLOSE_WITHIN_MS, `closed after ${closedAfterMs} ms`);
  });

  test('after all that, the same port still serves HTTP and SOCKS', async () => {
    const http = await curl(['-x', `http://127.0.0.1:${pair.socksPort}`, `${origin.base}/still`]);
    assert.equal(http.code, 0, http.stderr);
    assert.equal(seenBy(http.stdout).url, '/still');
    const socks = await curl(['--socks5-hostname', `127.0.0.1:${pair.socksPort}`, `${origin.base}/still-socks`]);
    assert.equal(socks.code, 0, socks.stderr);
  });
});
