/**
 * --host, --sni and --header as a CDN edge sees them: a real `sockbridge client` process reaches
 * the relay through a TLS-terminating spy (test/helpers/links/upgrade-spy.ts) that records the
 * SNI and the upgrade request, and curl's requests still travel the tunnel. Both TLS paths are
 * covered: ws's own (--ca) and the client's (--fingerprint).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../common/log.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { startClientProcess, STACK_TOKEN, type ClientProcess } from '../helpers/processes/cli-stack.js';
import { startUpgradeSpy, type SeenConnection, type UpgradeSpy } from '../helpers/links/upgrade-spy.js';
import { makeSelfSignedCert, opensslMissing, type TestCert } from '../helpers/fixtures/self-signed-cert.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { curl } from '../helpers/socks/curl.js';
import { startHttpTarget, type Target } from '../helpers/targets/targets.js';
import { waitFor } from '../helpers/io/waiting.js';

const BODY = 'through the CDN flags\n';
const CURL_WAIT_MS = 15_000;

const skip = opensslMissing();
if (skip) console.log(`# ${skip}`);

describe('client --host, --sni and --header reach the relay', { skip, timeout: 90_000 }, () => {
  let cert: TestCert;
  let relay: Relay;
  let spy: UpgradeSpy;
  let http: Target;

  before(async () => {
    cert = await makeSelfSignedCert();
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [STACK_TOKEN], rules: loopbackRules(), logger: createLogger('relay', 'silent') });
    spy = await startUpgradeSpy({ cert: cert.cert, key: cert.key, upstreamPort: relay.address.port });
    http = await startHttpTarget(BODY);
  });

  after(async () => {
    await spy?.close();
    await relay?.close();
    await http?.close();
    await cert?.remove();
  });

  /** Runs a client with `flags`, waits for its upgrade at the spy and checks curl through it; returns what the spy saw. */
  async function upgradeWith(relayUrl: string, flags: string[]): Promise<SeenConnection> {
    const first = spy.seen.length;
    let client: ClientProcess | undefined;
    try {
      client = await startClientProcess(relayUrl, flags);
      const seen = await waitFor(() => spy.seen.slice(first).find((entry) => entry.requestLine !== null), { what: 'the upgrade request at the spy', timeoutMs: 15_000 });
      const result = await curl(['--socks5-hostname', `127.0.0.1:${client.socksPort}`, `http://127.0.0.1:${http.port}/`], CURL_WAIT_MS);
      assert.equal(result.code, 0, `curl: ${result.stderr}\nclient: ${client.proc.output}`);
      assert.equal(result.stdout, BODY, 'the stream through the tunnel works');
      return seen;
    } finally {
      await client?.proc.stop();
    }
  }

  test('without the flags: SNI and Host are the URL\'s, no extra headers (the baseline)', async () => {
    const seen = await upgradeWith(`wss://localhost:${spy.port}/tunnel`, ['--ca', cert.certFile]);
    assert.equal(seen.servername, 'localhost');
    assert.deepEqual(seen.headers.host, [`localhost:${spy.port}`]);
    assert.equal(seen.headers['x-cdn-key'], undefined);
    assert.match(seen.requestLine ?? '', /^GET \/tunnel HTTP\/1\.1$/);
  });

  test('--sni, --host and two --header values, with ws doing TLS (--ca): the certificate is checked against --sni', async () => {
    // The URL names an IP, which SNI cannot carry: without --sni the server name would be absent.
    const seen = await upgradeWith(`wss://127.0.0.1:${spy.port}/tunnel`, [
      '--ca', cert.certFile, '--sni', 'localhost', '--host', 'backend.example:8443',
      '--header', 'X-Cdn-Key: k-123', '--header', 'cf-access-client-id:  id.access ',
    ]);
    assert.equal(seen.servername, 'localhost');
    assert.deepEqual(seen.headers.host, ['backend.example:8443'], 'one Host header, the --host one');
    assert.deepEqual(seen.headers['x-cdn-key'], ['k-123']);
    assert.deepEqual(seen.headers['cf-access-client-id'], ['id.access']);
    assert.deepEqual(seen.headers.authorization, [`Bearer ${STACK_TOKEN}`], 'the token still goes as sockbridge sends it');
    assert.deepEqual(seen.headers.upgrade, ['websocket']);
  });

  test('domain fronting with a pinned certificate (--fingerprint): SNI front.example, Host backend.example', async () => {
    const seen = await upgradeWith(`wss://127.0.0.1:${spy.port}/tunnel`, [
      '--fingerprint', cert.fingerprint, '--sni', 'front.example', '--host', 'backend.example', '--header', 'X-Route: relay-7',
    ]);
    assert.equal(seen.servername, 'front.example');
    assert.deepEqual(seen.headers.host, ['backend.example']);
    assert.deepEqual(seen.headers['x-route'], ['relay-7']);
  });

  test('an --sni the certificate does not name is refused before the upgrade, and the log says to check --sni', async () => {
    const first = spy.seen.length;
    const firstName = spy.offeredNames.length;
    let client: ClientProcess | undefined;
    try {
      client = await startClientProcess(`wss://localhost:${spy.port}/tunnel`, ['--ca', cert.certFile, '--sni', 'other.example', '--header', 'X-Cdn-Key: never-sent']);
      await client.proc.waitFor(/relay connection failed.*check --sni/, 15_000);
      const offered = spy.offeredNames.slice(firstName);
      assert.ok(offered.length >= 1 && offered.every((name) => name === 'other.example'), `SNI offered: ${JSON.stringify(offered)}`);
      const requests = spy.seen.slice(first).filter((entry) => entry.requestLine !== null);
      assert.deepEqual(requests, [], 'no upgrade request, so no token, went to a relay with the wrong name');
    } finally {
      await client?.proc.stop();
    }
  });
});
