/**
 * --tls-cert/--tls-key, --ca, --fingerprint and --http-proxy as a user runs them: real
 * processes, a certificate made by openssl, curl through the tunnel, and the usage errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CliProcess, runCli } from '../helpers/processes/cli-process.js';
import { curl } from '../helpers/socks/curl.js';
import { startHttpTarget, type Target } from '../helpers/targets/targets.js';
import { LOOPBACK_ALLOW_FLAGS } from '../helpers/fixtures/loopback-rules.js';
import { makeSelfSignedCert, opensslMissing, type TestCert } from '../helpers/fixtures/self-signed-cert.js';
import { startConnectProxy } from '../helpers/links/connect-proxy.js';

const EXIT_USAGE = 2;
const START_WAIT_MS = 15_000;
const TOKEN = 'cli-tls-token-not-secret';
const BODY = 'served over wss between real processes\n';
const WS_RELAY = ['--relay', 'ws://127.0.0.1:9/tunnel', '--token', TOKEN, '--socks', '127.0.0.1:0'];
const WSS_RELAY = ['--relay', 'wss://127.0.0.1:9/tunnel', '--token', TOKEN, '--socks', '127.0.0.1:0'];

function assertUsageError(result: { code: number | null; stdout: string; stderr: string }, ...mentions: string[]): void {
  assert.equal(result.code, EXIT_USAGE, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  for (const text of mentions) assert.ok(lines[0].includes(text), `"${lines[0]}" names ${text}`);
}

const skipTls = opensslMissing();
if (skipTls) console.log(`# ${skipTls}`);

describe('TLS and proxy flags', { skip: skipTls, timeout: 90_000 }, () => {
  let cert: TestCert;
  /** A second pair: its key does not belong to `cert`. */
  let otherCert: TestCert;
  let http: Target;
  before(async () => {
    [cert, otherCert] = await Promise.all([makeSelfSignedCert(), makeSelfSignedCert()]);
    http = await startHttpTarget(BODY);
  });
  after(async () => {
    await http?.close();
    await cert?.remove();
    await otherCert?.remove();
  });

  test('usage errors name the flag (and the file), exit 2', async () => {
    const missing = join(cert.dir, 'no-such.pem');
    const cases: Array<[string[], ...string[]]> = [
      [['relay', '--token', TOKEN, '--tls-cert', cert.certFile], '--tls-key'],
      [['relay', '--token', TOKEN, '--tls-key', cert.keyFile], '--tls-cert'],
      [['relay', '--token', TOKEN, '--tls-cert', missing, '--tls-key', cert.keyFile], '--tls-cert', missing],
      [['relay', '--token', TOKEN, '--tls-cert', cert.certFile, '--tls-key', missing], '--tls-key', missing],
      [['relay', '--token', TOKEN, '--tls-cert', cert.keyFile, '--tls-key', cert.certFile], '--tls-cert'],
      [['relay', '--token', TOKEN, '--tls-cert', cert.certFile, '--tls-key', otherCert.keyFile], '--tls-cert', 'does not belong'],
      [['client', ...WSS_RELAY, '--ca', missing], '--ca', missing],
      [['client', ...WS_RELAY, '--ca', cert.certFile], '--ca'],
      [['client', ...WSS_RELAY, '--fingerprint', 'not-hex'], '--fingerprint'],
      [['client', ...WS_RELAY, '--http-proxy', 'socks5://127.0.0.1:1080'], '--http-proxy'],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    cases.forEach(([, ...mentions], index) => assertUsageError(results[index], ...mentions));
  });

  test('--help lists the new flags', async () => {
    const relay = await runCli(['relay', '--help']);
    for (const flag of ['--tls-cert', '--tls-key']) assert.ok(relay.stdout.includes(flag), flag);
    const client = await runCli(['client', '--help']);
    for (const flag of ['--ca', '--fingerprint', '--http-proxy']) assert.ok(client.stdout.includes(flag), flag);
  });

  test('a TLS relay process; clients with --ca (by name) and with --fingerprint through --http-proxy carry curl', async () => {
    const processes: CliProcess[] = [];
    const proxy = await startConnectProxy();
    try {
      const relay = new CliProcess(['relay', '--listen', '127.0.0.1:0', '--token', TOKEN, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, ...LOOPBACK_ALLOW_FLAGS]);
      processes.push(relay);
      const [, url] = await relay.waitFor(/relay listening .*url=(wss:\/\/\S+)/, START_WAIT_MS);
      const byName = url.replace('127.0.0.1', 'localhost');
      const clients = [
        ['--relay', byName, '--ca', cert.certFile],
        ['--relay', url, '--fingerprint', cert.fingerprint, '--http-proxy', `http://127.0.0.1:${proxy.port}`],
      ];
      for (const args of clients) {
        const client = new CliProcess(['client', '--socks', '127.0.0.1:0', '--token', TOKEN, ...args]);
        processes.push(client);
        const [, socks] = await client.waitFor(/SOCKS listening address=(\S+)/, START_WAIT_MS);
        await client.waitFor(/tunnel up/, START_WAIT_MS);
        const result = await curl(['--socks5-hostname', socks, `http://localhost:${http.port}/`]);
        assert.equal(result.stdout, BODY, `${args.join(' ')}: ${result.stderr}\n${client.output}`);
      }
      assert.equal(proxy.established, 1);
    } finally {
      for (const proc of processes) await proc.stop();
      await proxy.close();
    }
  });
});
