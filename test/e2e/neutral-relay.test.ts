/**
 * A relay without --fallback still gives nothing away: the tunnel path without an upgrade,
 * an upgrade without the token, on any path, and any unknown path all get the same plain
 * 404; the status page's prompt has a neutral realm; nothing names the product or a tunnel.
 * With --admin-listen the status routes and /healthz live on their own listener and the
 * public port serves none of them, admin token or not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { createLogger } from '../../common/log.js';
import { WS_SUBPROTOCOL } from '../../protocol/frame.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { tokenSubprotocol } from '../../server/tunnel/auth.js';
import { comparableHeaders, rawRequest, request, upgradeRequest, type RawResponse } from '../helpers/http/raw-http.js';
import { ADMIN_TOKEN, bearer, fetchStatus } from '../helpers/status/status-http.js';
import { startPair, TEST_TOKEN, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { withTimeout } from '../helpers/io/waiting.js';

const WAIT_MS = 8_000;
const GIVEAWAY = /sockbridge|tunnel|websocket|bearer/i;

function assertPlain404(answer: RawResponse, reference: RawResponse, what: string): void {
  assert.equal(answer.statusLine, 'HTTP/1.1 404 Not Found', `${what}: ${answer.raw.slice(0, 300)}`);
  assert.deepEqual(comparableHeaders(answer), comparableHeaders(reference), `${what}: headers as for any unknown path`);
  assert.ok(answer.body.equals(reference.body), `${what}: body as for any unknown path`);
  assert.doesNotMatch(answer.raw, GIVEAWAY, what);
}

describe('a relay without --fallback answers unauthenticated requests neutrally', () => {
  let relay: Relay;
  let host: string;
  before(async () => {
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TEST_TOKEN], adminToken: ADMIN_TOKEN, logger: createLogger('relay', 'silent') });
    host = `127.0.0.1:${relay.address.port}`;
  });
  after(() => relay?.close());

  test('the tunnel path and upgrades without the token get the plain 404 of any unknown path', async () => {
    const reference = await rawRequest(relay.address.port, request('GET', '/no-such-page', host));
    const probes: Array<[string, string]> = [
      ['GET /tunnel', request('GET', '/tunnel', host)],
      ['POST /tunnel', request('POST', '/tunnel', host, 'Content-Length: 0\r\n')],
      ['an upgrade on /tunnel without a token', upgradeRequest('/tunnel', host, `Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}\r\n`)],
      ['an upgrade on /tunnel with a wrong bearer token', upgradeRequest('/tunnel', host, 'Authorization: Bearer guess\r\n')],
      ['an upgrade on /tunnel with a wrong subprotocol token', upgradeRequest('/tunnel', host, `Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}, ${tokenSubprotocol('guess')}\r\n`)],
      ['an HTTP/1.0 upgrade on /tunnel', upgradeRequest('/tunnel', host, '', '1.0')],
      ['an upgrade with the token on another path', upgradeRequest('/other', host, `Authorization: Bearer ${TEST_TOKEN}\r\n`)],
    ];
    for (const [what, probe] of probes) assertPlain404(await rawRequest(relay.address.port, probe), reference, what);
  });

  test('the status page asks for a password with a neutral realm, to a GET and to an upgrade alike', async () => {
    const get = await rawRequest(relay.address.port, request('GET', '/', host));
    const upgrade = await rawRequest(relay.address.port, upgradeRequest('/', host));
    for (const answer of [get, upgrade]) {
      assert.equal(answer.status, 401);
      assert.deepEqual(answer.headers.find(([name]) => name.toLowerCase() === 'www-authenticate')?.[1], 'Basic realm="restricted", charset="UTF-8"');
      assert.doesNotMatch(answer.raw, /sockbridge|tunnel/i);
    }
    assert.deepEqual(comparableHeaders(upgrade), comparableHeaders(get));
  });

  test('/healthz says ok and nothing about tunnels', async () => {
    const answer = await rawRequest(relay.address.port, request('GET', '/healthz', host));
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), '{"status":"ok"}');
  });
});

describe('--admin-listen takes the status routes off the public port', () => {
  let pair: TunnelPair;
  before(async () => {
    pair = await startPair({ relay: { adminToken: ADMIN_TOKEN, adminListen: { host: '127.0.0.1', port: 0 } } });
  });
  after(() => pair?.close());

  test('the admin listener serves the status API, /metrics and a detailed /healthz', async () => {
    const adminUrl = pair.relay.adminUrl;
    assert.ok(adminUrl !== null && adminUrl !== pair.relay.httpUrl, `adminUrl ${adminUrl}`);
    assert.equal((await fetchStatus(adminUrl)).totals.tunnels, 1);
    const metrics = await fetch(new URL('metrics', adminUrl), { headers: { authorization: bearer(ADMIN_TOKEN) }, signal: AbortSignal.timeout(5_000) });
    assert.equal(metrics.status, 200);
    await metrics.body?.cancel();
    const health = await fetch(new URL('healthz', adminUrl), { signal: AbortSignal.timeout(5_000) });
    assert.deepEqual(await health.json(), { status: 'ok', tunnels: 1 });
  });

  test('the public port answers 404 to every one of them, even with the admin token', async () => {
    const { port } = pair.relay.address;
    const host = `127.0.0.1:${port}`;
    const reference = await rawRequest(port, request('GET', '/no-such-page', host));
    for (const path of ['/', '/healthz', '/api/status', '/api/events', '/metrics', '/assets/status.js']) {
      for (const extra of ['', `Authorization: Bearer ${ADMIN_TOKEN}\r\n`]) {
        assertPlain404(await rawRequest(port, request('GET', path, host, extra)), reference, `${path}${extra ? ' with the admin token' : ''}`);
      }
    }
  });

  test('the tunnel still works on the public port', async () => {
    assert.equal(pair.relay.sessions.size, 1);
    assert.ok(pair.relay.url.startsWith(`ws://127.0.0.1:${pair.relay.address.port}/`));
  });
});

describe('a refused upgrade whose prober never closes', () => {
  test('does not hold the socket, nor the relay\'s shutdown, for good', async () => {
    const relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TEST_TOKEN], logger: createLogger('relay', 'silent') });
    const prober = connect({ host: '127.0.0.1', port: relay.address.port, allowHalfOpen: true });
    try {
      await once(prober, 'connect');
      prober.write('GET /tunnel HTTP/1.1\r\nHost: relay\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      let answer = '';
      prober.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      await once(prober, 'end', { signal: AbortSignal.timeout(WAIT_MS) }); // the 404, then FIN; we never send ours
      assert.match(answer, /^HTTP\/1\.1 404 /);
      const started = Date.now();
      await withTimeout(relay.close(), { what: 'relay.close() with the prober still half-open', timeoutMs: WAIT_MS });
      assert.ok(Date.now() - started < WAIT_MS);
    } finally {
      prober.destroy();
    }
  });
});
