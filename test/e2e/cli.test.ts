/**
 * The `sockbridge` command as a user runs it: real processes (node dist/bin/sockbridge.js),
 * real ports, curl through them, signals to stop them, and their output checked for what
 * it must say and what it must never say (the token).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { CliProcess, runCli } from '../helpers/processes/cli-process.js';
import { curl } from '../helpers/socks/curl.js';
import { startHttpTarget, type Target } from '../helpers/targets/targets.js';
import { LOOPBACK_ALLOW_FLAGS } from '../helpers/fixtures/loopback-rules.js';

const EXIT_USAGE = 2;
/** A process start loads the whole program; on a loaded CI machine that can take seconds. */
const START_WAIT_MS = 15_000;
const BODY = 'served through real processes\n';

/** A fresh token per run, so finding it in output can only mean it was printed. */
function freshToken(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

/** Asserts one-line usage output on stderr, exit 2, that names `flag`. */
function assertUsageError(result: { code: number | null; stdout: string; stderr: string }, flag: string): void {
  assert.equal(result.code, EXIT_USAGE, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.ok(lines[0].includes(flag), `"${lines[0]}" names ${flag}`);
  assert.equal(result.stdout, '');
}

// Each case is its own short-lived process: run a few at once.
describe('sockbridge usage errors', { concurrency: 4 }, () => {
  const SECRET = freshToken('usage-secret');
  const cases: Array<[string, string[], string]> = [
    ['relay with an unknown flag', ['relay', '--bogus', '--token', SECRET], '--bogus'],
    ['client with an unknown flag', ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', SECRET, '--frobnicate'], '--frobnicate'],
    ['demo with an unknown flag', ['demo', '--bogus'], '--bogus'],
    ['relay without --token', ['relay', '--listen', '127.0.0.1:0'], '--token'],
    ['client without --token', ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--socks', '127.0.0.1:0'], '--token'],
    ['relay with --listen that is not HOST:PORT', ['relay', '--token', SECRET, '--listen', 'nonsense'], '--listen'],
    ['relay with --listen port out of range', ['relay', '--token', SECRET, '--listen', '127.0.0.1:70000'], '--listen'],
    ['demo with a bad --listen', ['demo', '--listen', 'localhost'], '--listen'],
    ['client with a bad --socks', ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', SECRET, '--socks', '1080'], '--socks'],
    ['client with an http:// --relay', ['client', '--relay', 'http://127.0.0.1:9/tunnel', '--token', SECRET, '--socks', '127.0.0.1:0'], '--relay'],
    ['relay with --keepalive-interval above 60 s', ['relay', '--token', SECRET, '--keepalive-interval', '61'], '--keepalive-interval'],
    ['client with --keepalive-timeout not above 1.25 × --keepalive-interval', ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', SECRET, '--socks', '127.0.0.1:0', '--keepalive-interval', '20', '--keepalive-timeout', '25'], '--keepalive-timeout'],
    ['client with --header Host: (that is --host)', ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', SECRET, '--socks', '127.0.0.1:0', '--header', 'Host: cdn.example'], '--header'],
    ['client with a --header that is not NAME: VALUE', ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', SECRET, '--socks', '127.0.0.1:0', '--header', 'X-Cdn-Key'], '--header'],
    ['client with --sni for a ws:// relay', ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', SECRET, '--socks', '127.0.0.1:0', '--sni', 'front.example'], '--sni'],
    ['client with a --host holding a line break', ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', SECRET, '--socks', '127.0.0.1:0', '--host', 'a.example\r\nX: 1'], '--host'],
    ['relay with --max-frame-size below the 1024-byte minimum', ['relay', '--token', SECRET, '--max-frame-size', '1023'], '--max-frame-size'],
    ['relay with --max-frame-size above the protocol maximum', ['relay', '--token', SECRET, '--max-frame-size', '65773'], '--max-frame-size'],
    ['relay with --max-frame-size that is not a number', ['relay', '--token', SECRET, '--max-frame-size', '64k'], '--max-frame-size'],
    ['relay with an unknown --udp-replies', ['relay', '--token', SECRET, '--udp-replies', 'everyone'], '--udp-replies'],
    ['relay with a --fallback that is not http(s)', ['relay', '--token', SECRET, '--fallback', 'ftp://127.0.0.1/'], '--fallback'],
    ['relay with a --fallback that is not a URL', ['relay', '--token', SECRET, '--fallback', 'example.com'], '--fallback'],
    ['relay with a --path without a leading slash', ['relay', '--token', SECRET, '--path', 'tunnel'], '--path'],
    ['relay with a --path carrying a query', ['relay', '--token', SECRET, '--path', '/t?x=1'], '--path'],
    ['relay with a bad --admin-listen', ['relay', '--token', SECRET, '--admin-listen', 'loopback'], '--admin-listen'],
    ['relay with --admin-listen equal to --listen', ['relay', '--token', SECRET, '--listen', '127.0.0.1:18431', '--admin-listen', '127.0.0.1:18431'], '--admin-listen'],
    ['an unknown command', ['frobnicate'], 'frobnicate'],
  ];
  for (const [what, args, flag] of cases) {
    test(`${what}: exit 2, one line naming ${flag}`, async () => {
      const result = await runCli(args);
      assertUsageError(result, flag);
      assert.ok(!result.stderr.includes(SECRET), 'the token is not echoed back');
    });
  }
});

describe('sockbridge on an address in use', () => {
  test('--admin-listen on a taken port: exit 1, and the hint names --admin-listen', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const result = await runCli(['relay', '--token', freshToken('in-use'), '--listen', '127.0.0.1:0', '--admin-listen', `127.0.0.1:${port}`]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /in use.*--admin-listen/);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});

describe('sockbridge --help', { concurrency: 4 }, () => {
  const expected: Record<string, string[]> = {
    relay: ['--listen', '--path', '--fallback', '--admin-listen', '--token', '--dial-timeout', '--keepalive-interval', '--keepalive-timeout', '--max-frame-size', '--udp-replies', '--workers', '--log-level', '--help'],
    client: ['--relay', '--token', '--socks', '--socks-user', '--handshake-timeout', '--tunnel-wait', '--host', '--sni', '--header', '--direct', '--block', '--rules', '--log-level', '--help'],
    demo: ['--socks', '--listen', '--log-level', '--help'],
  };
  for (const [command, flags] of Object.entries(expected)) {
    test(`sockbridge ${command} --help: exit 0 and lists its flags`, async () => {
      const result = await runCli([command, '--help']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: sockbridge ${command}`));
      for (const flag of flags) assert.ok(result.stdout.includes(flag), `${command} --help lists ${flag}`);
      assert.equal(result.stderr, '');
    });
  }

  test('sockbridge --help: exit 0 and lists the commands', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0);
    for (const command of ['relay', 'client', 'demo']) assert.match(result.stdout, new RegExp(`^\\s+${command}\\s`, 'm'));
  });
});

describe('sockbridge relay and client processes', () => {
  let http: Target;

  before(async () => {
    http = await startHttpTarget(BODY);
  });

  after(async () => {
    await http?.close();
  });

  /** Starts a relay on a free port (recorded in `started`, for finally) and returns it with its tunnel URL, read from its log. */
  async function startRelayProcess(started: CliProcess[], args: string[], env: Record<string, string> = {}): Promise<{ relay: CliProcess; url: string }> {
    const relay = new CliProcess(['relay', '--listen', '127.0.0.1:0', ...LOOPBACK_ALLOW_FLAGS, ...args], env);
    started.push(relay);
    const [, address] = await relay.waitFor(/relay listening address=(\S+)/, START_WAIT_MS);
    return { relay, url: `ws://${address}/tunnel` };
  }

  /** Starts a client on a free SOCKS port (recorded in `started`) and returns it with that address, read from its log. */
  async function startClientProcess(started: CliProcess[], args: string[], env: Record<string, string> = {}): Promise<{ client: CliProcess; socks: string }> {
    const client = new CliProcess(['client', '--socks', '127.0.0.1:0', ...args], env);
    started.push(client);
    const [, socks] = await client.waitFor(/SOCKS listening address=(\S+)/, START_WAIT_MS);
    return { client, socks };
  }

  async function assertCurlWorks(socks: string): Promise<void> {
    for (const flag of ['--socks5-hostname', '--socks4']) {
      const host = flag === '--socks4' ? '127.0.0.1' : 'localhost';
      const result = await curl([flag, socks, `http://${host}:${http.port}/`]);
      assert.equal(result.stdout, BODY, `curl ${flag}: ${result.stderr}`);
    }
  }

  async function stopWithSigterm(...processes: CliProcess[]): Promise<void> {
    for (const proc of processes) proc.signal('SIGTERM');
    for (const proc of processes) {
      const exit = await proc.waitExit(10_000);
      assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${proc.output}`);
    }
  }

  test('relay with --path, --fallback and --admin-listen: the public port is the website, the admin port the status, the client on the path carries curl', async () => {
    const token = freshToken('cli-fallback');
    const adminToken = freshToken('cli-admin');
    const path = `/${randomBytes(16).toString('hex')}`;
    const processes: CliProcess[] = [];
    const site = await startHttpTarget('the fallback website\n');
    try {
      const relay = new CliProcess(['relay', '--listen', '127.0.0.1:0', ...LOOPBACK_ALLOW_FLAGS, '--token', token, '--path', path,
        '--fallback', `http://127.0.0.1:${site.port}`, '--admin-listen', '127.0.0.1:0', '--admin-token', adminToken]);
      processes.push(relay);
      const [, url] = await relay.waitFor(/relay listening address=\S+ scheme=\S+ url=(\S+)/, START_WAIT_MS);
      const [, adminUrl] = await relay.waitFor(/admin listener url=(\S+)/, START_WAIT_MS);
      assert.ok(url.endsWith(path), url);
      const publicUrl = url.replace(/^ws:/, 'http:').replace(path, '/');
      for (const route of ['', 'healthz', 'api/status', 'metrics', path.slice(1)]) {
        const page = await curl([`${publicUrl}${route}`]);
        assert.equal(page.stdout, 'the fallback website\n', `public /${route}: ${page.stderr}`);
      }
      const health = await curl([`${adminUrl}healthz`]);
      assert.equal(health.stdout, '{"status":"ok","tunnels":0}');
      const { client } = await startClientProcess(processes, ['--relay', url, '--token', token]);
      const [, socks] = await client.waitFor(/SOCKS listening address=(\S+)/, START_WAIT_MS);
      await client.waitFor(/tunnel up/, START_WAIT_MS);
      await assertCurlWorks(socks);
      const status = await curl(['-H', `Authorization: Bearer ${adminToken}`, `${adminUrl}api/status`]);
      assert.match(status.stdout, /"tunnels":1/);
      await stopWithSigterm(client, relay);
      for (const proc of processes) assert.ok(!proc.output.includes(token) && !proc.output.includes(adminToken), `a token in the output:\n${proc.output}`);
    } finally {
      for (const proc of processes) await proc.stop();
      await site.close();
    }
  });

  test('relay and client with --token carry curl; a wrong token is refused with a hint; SIGTERM exits 0; no token is ever printed', async () => {
    const token = freshToken('cli-token');
    const wrongToken = freshToken('wrong-token');
    const processes: CliProcess[] = [];
    try {
      const { relay, url } = await startRelayProcess(processes, ['--token', token, '--log-level', 'debug']);
      const { client, socks } = await startClientProcess(processes, ['--relay', url, '--token', token, '--log-level', 'debug']);
      await client.waitFor(/tunnel up/, START_WAIT_MS);
      await assertCurlWorks(socks);

      const { client: refused } = await startClientProcess(processes, ['--relay', url, '--token', wrongToken]);
      const [line] = await refused.waitFor(/^.*HTTP 404.*$/m, START_WAIT_MS);
      assert.match(line, /--token/, 'the refusal tells the user what to check');
      await relay.waitFor(/tunnel refused/);

      await stopWithSigterm(client, refused, relay);
      for (const proc of processes) {
        assert.ok(!proc.output.includes(token), `the token appears in the output of ${proc.child.spawnargs.slice(2, 3)}:\n${proc.output}`);
        assert.ok(!proc.output.includes(wrongToken), 'the wrong token appears in the output');
      }
    } finally {
      await Promise.all(processes.map((proc) => proc.stop()));
    }
  });

  test('SOCKBRIDGE_TOKEN in the environment works in place of --token, and is never printed', async () => {
    const token = freshToken('env-token');
    const env = { SOCKBRIDGE_TOKEN: token };
    const processes: CliProcess[] = [];
    try {
      const { relay, url } = await startRelayProcess(processes, [], env);
      const { client, socks } = await startClientProcess(processes, ['--relay', url], env);
      await client.waitFor(/tunnel up/, START_WAIT_MS);
      await assertCurlWorks(socks);
      await stopWithSigterm(client, relay);
      for (const proc of processes) assert.ok(!proc.output.includes(token), `the token appears in:\n${proc.output}`);
    } finally {
      await Promise.all(processes.map((proc) => proc.stop()));
    }
  });

  test('sockbridge demo prints a SOCKS address, its random tunnel path and a curl line, and that address works with curl', async () => {
    const demo = new CliProcess(['demo', '--socks', '127.0.0.1:0']);
    try {
      const [, socks] = await demo.waitFor(/SOCKS address:\s+(\S+)/, START_WAIT_MS);
      const [, relayUrl] = await demo.waitFor(/relay URL:\s+(\S+)/);
      const [, path] = await demo.waitFor(/tunnel path:\s+(\S+)/);
      assert.match(path, /^\/[0-9a-f]{32}$/, 'a random path, not /tunnel');
      assert.ok(relayUrl.endsWith(path), `${relayUrl} serves the tunnel on ${path}`);
      const [, curlProxy] = await demo.waitFor(/curl --socks5-hostname (\S+) \S+/);
      assert.match(socks, /^127\.0\.0\.1:\d+$/);
      assert.notEqual(socks, '127.0.0.1:0', 'the real port is printed, not :0');
      assert.equal(curlProxy, socks, 'the curl line uses the SOCKS address');
      await assertCurlWorks(socks);
      await stopWithSigterm(demo);
    } finally {
      await demo.stop();
    }
  });
});
