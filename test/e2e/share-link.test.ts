/**
 * Share links as a user passes them around: `sockbridge link` prints one, `sockbridge client
 * --link` carries a stream with it (over ws:// and over wss:// with the certificate pinned in
 * the link), explicit flags override the link, a link with several relays fails over from the
 * first to the next, and `relay --public-url` prints one per --token token and none for --users entries. Real processes, the `socks` package as the application.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeShareLink } from '../../common/share-link.js';
import { digestSecret } from '../../common/secrets.js';
import { CliProcess, runCli } from '../helpers/processes/cli-process.js';
import { readBytes } from '../helpers/io/socket-io.js';
import { socksConnect } from '../helpers/socks/socks-dial.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { LOOPBACK_ALLOW_FLAGS } from '../helpers/fixtures/loopback-rules.js';
import { makeSelfSignedCert, opensslMissing, type TestCert } from '../helpers/fixtures/self-signed-cert.js';

const START_WAIT_MS = 15_000;
const EXIT_USAGE = 2;
/** Every character RFC 3986 reserves, so the link's escaping is what makes it arrive intact. */
const TOKEN = 'link tok@en:/?#[]%+=&!';
const OTHER_TOKEN = 'second-token';
const USER_TOKEN = 'users-file-token-never-in-a-link';
const WRONG_FP = '00'.repeat(32);
const LINK_LINE = /^share link (token-\d+): (sockbridge:\/\/\S+)$/gm;

async function startRelay(args: string[]): Promise<{ relay: CliProcess; url: string }> {
  const relay = new CliProcess(['relay', '--listen', '127.0.0.1:0', '--path', '/secret-path', ...LOOPBACK_ALLOW_FLAGS, ...args]);
  const [, url] = await relay.waitFor(/relay listening .*url=(wss?:\/\/\S+)/, START_WAIT_MS);
  return { relay, url };
}

async function makeLink(args: string[]): Promise<string> {
  const result = await runCli(['link', ...args]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  const lines = result.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${result.stdout}`);
  assert.match(lines[0], /^sockbridge:\/\//);
  return lines[0];
}

/** A client from `args`, once its tunnel is up; one echo round trip through it. */
async function echoThroughClient(args: string[], echo: Target, processes: CliProcess[]): Promise<CliProcess> {
  const client = new CliProcess(['client', '--socks', '127.0.0.1:0', ...args]);
  processes.push(client);
  const [, socks] = await client.waitFor(/SOCKS listening address=127\.0\.0\.1:(\d+)/, START_WAIT_MS);
  await client.waitFor(/tunnel up/, START_WAIT_MS);
  const socket = await socksConnect(Number(socks), echo.port);
  try {
    socket.write('through the share link');
    assert.equal((await readBytes(socket, 22)).toString(), 'through the share link');
  } finally {
    socket.destroy();
  }
  return client;
}

const escapeRegExp = (text: string): string => text.replace(/[/.?*+()[\]{}|^$\\]/g, '\\$&');

/** One echo round trip through a running client's SOCKS port. */
async function echoVia(client: CliProcess, echo: Target, text: string): Promise<void> {
  const [, socks] = await client.waitFor(/SOCKS listening address=127\.0\.0\.1:(\d+)/, START_WAIT_MS);
  const socket = await socksConnect(Number(socks), echo.port);
  try {
    socket.write(text);
    assert.equal((await readBytes(socket, text.length)).toString(), text);
  } finally {
    socket.destroy();
  }
}

function assertNoSecrets(output: string, link: string): void {
  for (const secret of [TOKEN, encodeURIComponent(TOKEN), link]) assert.ok(!output.includes(secret), `no secret in the output:\n${output}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('share links through the real CLI', { timeout: 120_000 }, () => {
  let echo: Target;
  let cert: TestCert | null = null;
  const skipTls = opensslMissing();
  before(async () => {
    echo = await startEchoTarget();
    if (!skipTls) cert = await makeSelfSignedCert();
  });
  after(async () => {
    await echo?.close();
    await cert?.remove();
  });

  test('ws://: link → client --link → a stream; the logs show the relay URL and label, never the token', async () => {
    const processes: CliProcess[] = [];
    try {
      const { relay, url } = await startRelay(['--token', TOKEN]);
      processes.push(relay);
      const link = await makeLink(['--relay', url, '--token', TOKEN, '--name', 'for Bob']);
      assert.deepEqual(decodeShareLink(link), { relayUrl: url, token: TOKEN, fingerprint: null, host: null, sni: null, label: 'for Bob' });
      const client = await echoThroughClient(['--link', link], echo, processes);
      assert.match(client.output, new RegExp(`using a share link relay=${url.replace(/[/.]/g, '\\$&')} label="for Bob"`));
      assertNoSecrets(client.output, link);
    } finally {
      for (const proc of processes) await proc.stop();
    }
  });

  test('wss:// with the certificate pinned in the link; a wrong pin fails; --fingerprint and --token override the link', { skip: skipTls }, async () => {
    const processes: CliProcess[] = [];
    try {
      const { relay, url } = await startRelay(['--token', TOKEN, '--tls-cert', cert!.certFile, '--tls-key', cert!.keyFile]);
      processes.push(relay);
      assert.match(url, /^wss:/);
      const pinned = await makeLink(['--relay', url, '--token', TOKEN, '--fingerprint', cert!.fingerprint]);
      assert.match(pinned, /\?tls=1&fp=[0-9a-f]{64}$/);
      const client = await echoThroughClient(['--link', pinned], echo, processes);
      assertNoSecrets(client.output, pinned);

      // The pin in the link is enforced: a link pinning another certificate never gets a tunnel.
      const wrongPin = await makeLink(['--relay', url, '--token', 'wrong-token', '--fingerprint', WRONG_FP]);
      const refused = new CliProcess(['client', '--socks', '127.0.0.1:0', '--link', wrongPin]);
      processes.push(refused);
      await refused.waitFor(/--fingerprint: the relay's certificate has SHA-256 [0-9a-f]{64}, not the pinned 0{64}/, START_WAIT_MS);
      // Explicit flags win over the link's fingerprint and token.
      await echoThroughClient(['--link', wrongPin, '--fingerprint', cert!.fingerprint, '--token', TOKEN], echo, processes);
    } finally {
      for (const proc of processes) await proc.stop();
    }
  });

  test('--relay overrides the link\'s relay; a link file works as --link does', async () => {
    const processes: CliProcess[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'sockbridge-link-'));
    try {
      const { relay, url } = await startRelay(['--token', TOKEN]);
      processes.push(relay);
      const elsewhere = await makeLink(['--relay', 'ws://127.0.0.1:9/secret-path', '--token', TOKEN]);
      await echoThroughClient(['--link', elsewhere, '--relay', url], echo, processes);
      const file = join(dir, 'link');
      await writeFile(file, `${await makeLink(['--relay', url, '--token', TOKEN])}\n`, { mode: 0o600 });
      await echoThroughClient(['--link-file', file], echo, processes);
    } finally {
      for (const proc of processes) await proc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a link with two relays: client --link uses both, the first while it runs; killed, the second; not running, the second; --relay replaces both', async () => {
    const processes: CliProcess[] = [];
    try {
      const [a, b] = [await startRelay(['--token', TOKEN]), await startRelay(['--token', TOKEN])];
      processes.push(a.relay, b.relay);
      const link = await makeLink(['--relay', a.url, '--relay', b.url, '--token', TOKEN, '--name', 'two']);
      assert.ok(link.endsWith(`&also=${b.url}#two`), link);
      assert.deepEqual(decodeShareLink(link), { relayUrl: a.url, alsoRelayUrls: [b.url], token: TOKEN, fingerprint: null, host: null, sni: null, label: 'two' });
      const client = await echoThroughClient(['--link', link], echo, processes);
      assert.match(client.output, new RegExp(`SOCKS listening .*relay="${escapeRegExp(`${a.url} ${b.url}`)}"`));
      assert.match(client.output, new RegExp(`using a share link relay="${escapeRegExp(`${a.url} ${b.url}`)}" label=two`));
      assert.match(client.output, new RegExp(`tunnel up relay=${escapeRegExp(a.url)}`), 'the preferred relay first');
      assertNoSecrets(client.output, link);

      a.relay.signal('SIGKILL');
      await client.waitFor(new RegExp(`tunnel up relay=${escapeRegExp(b.url)}`), START_WAIT_MS);
      await echoVia(client, echo, 'after the first relay died');

      // The first relay of the link is not running at all: the client goes on to the second.
      const dead = `ws://127.0.0.1:${await freePort()}/secret-path`;
      const deadFirst = await makeLink(['--relay', dead, '--relay', b.url, '--token', TOKEN]);
      const second = await echoThroughClient(['--link', deadFirst], echo, processes);
      assert.match(second.output, new RegExp(`tunnel up relay=${escapeRegExp(b.url)}`));

      // Explicit --relay flags replace every relay of the link.
      const bothDead = await makeLink(['--relay', dead, '--relay', `ws://127.0.0.1:${await freePort()}/secret-path`, '--token', TOKEN]);
      const overridden = await echoThroughClient(['--link', bothDead, '--relay', b.url], echo, processes);
      assert.match(overridden.output, new RegExp(`SOCKS listening .*relay=${escapeRegExp(b.url)} `));
    } finally {
      for (const proc of processes) await proc.stop();
    }
  });

  test('relay --public-url prints a link per --token token on stdout, none for --users, and a printed link works', async () => {
    const processes: CliProcess[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'sockbridge-link-'));
    try {
      const users = join(dir, 'users.json');
      await writeFile(users, JSON.stringify({ users: [{ name: 'carol', tokenSha256: digestSecret(USER_TOKEN).toString('hex') }] }));
      const port = await freePort();
      const relay = new CliProcess(['relay', '--listen', `127.0.0.1:${port}`, '--path', '/secret-path', '--token', TOKEN, '--token', OTHER_TOKEN, '--users', users, '--public-url', `ws://127.0.0.1:${port}`, ...LOOPBACK_ALLOW_FLAGS]);
      processes.push(relay);
      await relay.waitFor(/share links printed to stdout.* links=2/, START_WAIT_MS);
      const links = [...relay.stdout.matchAll(LINK_LINE)].map(([, name, link]) => ({ name, ...decodeShareLink(link) }));
      const relayUrl = `ws://127.0.0.1:${port}/secret-path`;
      assert.deepEqual(links, [
        { name: 'token-1', relayUrl, token: TOKEN, fingerprint: null, host: null, sni: null, label: 'token-1' },
        { name: 'token-2', relayUrl, token: OTHER_TOKEN, fingerprint: null, host: null, sni: null, label: 'token-2' },
      ]);
      assert.equal(relay.stdout.trimEnd().split('\n').length, 2, `nothing else on stdout:\n${relay.stdout}`);
      assert.ok(!relay.output.includes(USER_TOKEN));
      assertNoSecrets(relay.stderr, [...relay.stdout.matchAll(LINK_LINE)][0][2]);
      assert.ok(!relay.stderr.includes(OTHER_TOKEN), relay.stderr);
      const [, , second] = [...relay.stdout.matchAll(LINK_LINE)][1];
      await echoThroughClient(['--link', second], echo, processes);

      // --users alone: nothing to print, and the relay says why; a path other than --path is worth a warning.
      const usersOnly = new CliProcess(['relay', '--listen', '127.0.0.1:0', '--users', users, '--public-url', 'wss://relay.example/other']);
      processes.push(usersOnly);
      await usersOnly.waitFor(/no share links, as --users holds only hashes/, START_WAIT_MS);
      assert.match(usersOnly.stderr, /warn .*--public-url names another path than the relay serves.* publicPath=\/other path=\/tunnel/);
      assert.equal(usersOnly.stdout, '');
    } finally {
      for (const proc of processes) await proc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('demo prints a link to its own relay', async () => {
    const demo = new CliProcess(['demo', '--socks', '127.0.0.1:0']);
    try {
      const [, url] = await demo.waitFor(/relay URL: +(\S+)/, START_WAIT_MS);
      const [, link] = await demo.waitFor(/share link: +(\S+)/, START_WAIT_MS);
      assert.deepEqual({ ...decodeShareLink(link), token: '' }, { relayUrl: url, token: '', fingerprint: null, host: null, sni: null, label: 'demo' });
    } finally {
      await demo.stop();
    }
  });

  test('bad links and flags: one line naming the flag, exit 2, no token echoed', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['client', '--link', `https://${TOKEN}@relay.example/`], /^sockbridge: --link: expected a sockbridge:\/\/ link/],
      [['client', '--link', 'sockbridge://secret-xyz@relay.example/t?fp=zz'], /^sockbridge: --link: fp= must be a SHA-256 fingerprint/],
      [['client', '--link', 'sockbridge://t@h/x', '--link-file', '/nonexistent'], /^sockbridge: --link-file: give --link or --link-file, not both/],
      [['client', '--link-file', '/nonexistent/link'], /^sockbridge: --link-file: cannot read "\/nonexistent\/link"/],
      [['link', '--token', TOKEN], /^sockbridge: --relay: the relay URL is required/],
      [['link', '--relay', 'ws://relay.example/t'], /^sockbridge: --token: a tunnel token is required/],
      [['link', '--relay', 'ws://relay.example/t', '--token', TOKEN, '--fingerprint', WRONG_FP], /^sockbridge: --fingerprint: only applies to a wss:\/\/ relay/],
      [['link', '--relay', 'wss://relay.example/t', '--token', TOKEN, '--name', 'a\u0007b'], /^sockbridge: --name: the label holds a control character/],
      [['link', '--relay', 'wss://a.example/t', '--relay', 'ws://b.example/t', '--token', TOKEN, '--fingerprint', WRONG_FP], /^sockbridge: --fingerprint: only applies to wss:\/\/ relays, and applies to every --relay/],
      [['link', '--relay', 'wss://a.example/t', '--relay', 'wss://a.example:443/t', '--token', TOKEN], /^sockbridge: --relay: the same relay URL is given twice/],
      [['client', '--link', 'sockbridge://secret-xyz@a.example/t?also=https://b.example/t'], /^sockbridge: --link: also= #1 must be a ws:\/\/ or wss:\/\/ URL, got https:/],
      [['client', '--link', 'sockbridge://t@a.example/t?also=wss://secret-xyz@b.example/t'], /^sockbridge: --link: also= #1 must not carry a user name or token/],
      [['relay', '--token', TOKEN, '--public-url', 'https://relay.example/t'], /^sockbridge: --public-url: must be a ws:\/\/ or wss:\/\/ URL/],
      [['relay', '--token', TOKEN, '--public-url', 'wss://relay.example/t?x=1'], /^sockbridge: --public-url: must not carry a query/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    cases.forEach(([args, pattern], index) => {
      const { code, stdout, stderr } = results[index];
      assert.equal(code, EXIT_USAGE, `${args.join(' ')}: ${stderr}`);
      assert.equal(stdout, '');
      assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
      assert.match(stderr, pattern);
      assert.ok(!stderr.includes('secret-xyz') && !stderr.includes(TOKEN), stderr);
    });
  });

  test('--help names the link flags', async () => {
    assert.match((await runCli(['--help'])).stdout, /link +print a sockbridge:\/\/ share link/);
    for (const flag of ['--relay', '--token', '--fingerprint', '--host', '--sni', '--name']) assert.ok((await runCli(['link', '--help'])).stdout.includes(flag), flag);
    const client = (await runCli(['client', '--help'])).stdout;
    for (const flag of ['--link LINK', '--link-file FILE']) assert.ok(client.includes(flag), flag);
    assert.ok((await runCli(['relay', '--help'])).stdout.includes('--public-url URL'));
  });
});
