/**
 * Requests and origins that Node's parser accepts but the rest of Node refuses must not take
 * the relay down: a request-target no URL parser takes (`http://[`), on an upgrade, with and
 * without --fallback, gets the answer of any ordinary request; an origin whose status line
 * holds a control character (Node's reader takes it, its writer throws ERR_INVALID_CHAR)
 * gets a reverse proxy's empty 502. Either way the relay keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createLogger } from '../../common/log.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { comparableHeaders, rawRequest, request, upgradeRequest, type RawResponse } from '../helpers/http/raw-http.js';
import { startFallbackOrigin, ORIGIN_SERVER, type FallbackOrigin } from '../helpers/targets/fallback-origin.js';
import { TEST_TOKEN } from '../helpers/tunnel/tunnel-pair.js';

/** A request-target Node's HTTP parser passes on and `new URL` throws on. */
const UNPARSABLE_TARGET = 'http://[';

/** The probes with that target: a plain GET and an upgrade. */
function unparsableProbes(host: string): Array<[string, string]> {
  return [
    ['a GET', request('GET', UNPARSABLE_TARGET, host)],
    ['an upgrade', upgradeRequest(UNPARSABLE_TARGET, host)],
  ];
}

describe('a request-target no URL parser takes', () => {
  let origin: FallbackOrigin;
  let plain: Relay;
  let fronted: Relay;
  before(async () => {
    origin = await startFallbackOrigin();
    plain = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TEST_TOKEN], wisp: true, logger: createLogger('relay', 'silent') });
    // --wisp too: its /wisp/TOKEN/ paths are looked for in every request's target.
    fronted = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TEST_TOKEN], fallback: origin.url, wisp: true, logger: createLogger('relay', 'silent') });
  });
  after(async () => {
    await plain?.close();
    await fronted?.close();
    await origin?.close();
  });

  test('without --fallback (with --wisp): an ordinary answer, and the relay keeps serving', async () => {
    const host = `127.0.0.1:${plain.address.port}`;
    const answers: RawResponse[] = [];
    for (const [what, probe] of unparsableProbes(host)) {
      const answer = await rawRequest(plain.address.port, probe);
      assert.ok(answer.status >= 400 && answer.status < 500, `${what}: ${answer.raw.slice(0, 300)}`);
      answers.push(answer);
    }
    // The upgrade tells a prober nothing the GET does not.
    assert.equal(answers[1].statusLine, answers[0].statusLine);
    assert.deepEqual(comparableHeaders(answers[1]), comparableHeaders(answers[0]));
    const after = await rawRequest(plain.address.port, request('GET', '/no-such-page', host));
    assert.equal(after.status, 404);
  });

  test('with --fallback (and --wisp): the origin answers, and the relay keeps serving', async () => {
    const host = `127.0.0.1:${fronted.address.port}`;
    for (const [what, probe] of unparsableProbes(host)) {
      const answer = await rawRequest(fronted.address.port, probe);
      assert.ok(answer.headers.some(([name, value]) => name === 'Server' && value === ORIGIN_SERVER), `${what}: ${answer.raw.slice(0, 300)}`);
    }
    const home = await rawRequest(fronted.address.port, request('GET', '/', host));
    assert.equal(home.status, 200);
  });
});

/** An origin answering every request, upgrades too, with a status line holding a control character. */
async function startBadStatusOrigin(): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end('HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('an origin whose answer Node cannot write back', () => {
  let origin: Server;
  let relay: Relay;
  const logLines: string[] = [];
  before(async () => {
    origin = await startBadStatusOrigin();
    const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TEST_TOKEN], fallback: url, logger: createLogger('relay', 'info', (line) => logLines.push(line)) });
  });
  after(async () => {
    await relay?.close();
    await new Promise<void>((resolve) => origin?.close(() => resolve()));
  });

  test('gets an empty 502, to a GET and to an upgrade, and the relay keeps serving', async () => {
    const host = `127.0.0.1:${relay.address.port}`;
    for (const probe of [request('GET', '/', host), upgradeRequest('/', host), request('GET', '/again', host)]) {
      const answer = await rawRequest(relay.address.port, probe);
      assert.equal(answer.status, 502, answer.raw.slice(0, 300));
      assert.equal(answer.body.length, 0);
    }
    assert.ok(logLines.some((line) => line.includes('fallback origin')), logLines.join(''));
  });
});
