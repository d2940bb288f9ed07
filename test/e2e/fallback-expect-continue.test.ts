/**
 * `Expect: 100-continue` through --fallback: the prober hears what the origin says, and only
 * that. An origin that answers at once, without asking for the body (as nginx does for a path
 * it does not have), gives no 100 Continue, so the relay must not add one of its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../common/log.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { rawRequest } from '../helpers/http/raw-http.js';

const PROBE = 'POST /upload HTTP/1.1\r\nHost: site\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n';

describe('--fallback and Expect: 100-continue', () => {
  let origin: Server;
  let originPort: number;
  let relay: Relay;

  before(async () => {
    origin = createServer();
    // Answers before any body, as a server does for a request it will refuse anyway.
    origin.on('checkContinue', (_req, res) => res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no such page\n'));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originPort = (origin.address() as AddressInfo).port;
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: ['t-expect'], path: '/s3cr3t', fallback: `http://127.0.0.1:${originPort}`, logger: createLogger('relay', 'silent') });
  });

  after(async () => {
    await relay?.close();
    origin?.closeAllConnections();
    await new Promise((resolve) => origin?.close(resolve));
  });

  test("the origin's answer comes first, with no 100 Continue the origin did not send", async () => {
    const direct = await rawRequest(originPort, PROBE);
    const through = await rawRequest(relay.address.port, PROBE);
    assert.equal(direct.statusLine, 'HTTP/1.1 404 Not Found');
    assert.equal(through.statusLine, direct.statusLine, through.raw.slice(0, 200));
    assert.equal(through.body.toString(), 'no such page\n');
  });
});

describe('--fallback and an origin that closes after its answer', () => {
  let origin: Server;
  let relay: Relay;

  before(async () => {
    origin = createServer((_req, res) => res.writeHead(400, { 'Content-Type': 'text/plain', Connection: 'close' }).end('bad request\n'));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const port = (origin.address() as AddressInfo).port;
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: ['t-close'], path: '/s3cr3t', fallback: `http://127.0.0.1:${port}`, logger: createLogger('relay', 'silent') });
  });

  after(async () => {
    await relay?.close();
    origin?.closeAllConnections();
    await new Promise((resolve) => origin?.close(resolve));
  });

  test('the relay says Connection: close and closes too', async () => {
    // A keep-alive request: rawRequest resolves only once the relay ends the connection.
    const answer = await rawRequest(relay.address.port, 'GET /weird HTTP/1.1\r\nHost: site\r\n\r\n');
    assert.equal(answer.statusLine, 'HTTP/1.1 400 Bad Request');
    assert.match(answer.raw, /\r\nConnection: close\r\n/i);
  });
});
