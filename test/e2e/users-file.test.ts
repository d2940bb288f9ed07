/**
 * --users end to end, loopback only: each user's token opens a tunnel under the user's name
 * with the user's rules and limits; a wrong token gets the 404 of any unknown request; the relay process re-reads the
 * file on SIGHUP (a new user's token works, open tunnels keep echoing, an invalid file is
 * logged and the old users stay); a bad file at startup exits 2; tokens never reach the output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startClient, type Client } from '../../client/client.js';
import { createLogger, type LogLevel } from '../../common/log.js';
import { WS_SUBPROTOCOL } from '../../protocol/frame.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { parseUsersFile } from '../../server/tunnel/users-file.js';
import { CliProcess, runCli, SOCKBRIDGE_BIN } from '../helpers/processes/cli-process.js';
import { readBytes } from '../helpers/io/socket-io.js';
import { rawSocks5Connect, socksConnect } from '../helpers/socks/socks-dial.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { REP_GENERAL_FAILURE, REP_NOT_ALLOWED, REP_SUCCEEDED } from '../helpers/socks/socks-replies.js';

const ALICE_TOKEN = 'alice-secret-token-7f3a';
const BOB_TOKEN = 'bob-secret-token-91c2';
const CAROL_TOKEN = 'carol-secret-token-55de';
const WRONG_TOKEN = 'nobody-secret-token-0000';
const ADMIN_TOKEN = 'admin-secret-token-3b9e';
const ERIN_TOKEN = 'erin-secret-token-d41c';
const EXIT_USAGE = 2;
const WAIT_MS = 5_000;
/** A process start loads the whole program; on a loaded CI machine that can take seconds. */
const START_WAIT_MS = 15_000;
const LOG_LEVEL = (process.env.SOCKBRIDGE_TEST_LOG_LEVEL ?? 'silent') as LogLevel;

const sha = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
const LOOPBACK_CONNECT = { action: 'allow', target: '127.0.0.0/8', commands: ['connect'] };
const alice = { name: 'alice', tokenSha256: sha(ALICE_TOKEN), maxTunnels: 1, rules: [LOOPBACK_CONNECT] };
const bob = { name: 'bob', tokenSha256: sha(BOB_TOKEN) };
const carol = { name: 'carol', tokenSha256: sha(CAROL_TOKEN), rules: [LOOPBACK_CONNECT] };

/** The HTTP status a tunnel upgrade with `token` gets: 101 when accepted. */
function upgradeStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [WS_SUBPROTOCOL], { headers: { Authorization: `Bearer ${token}` } });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no answer to the upgrade'));
    }, WAIT_MS);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      clearTimeout(timer);
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => {});
  });
}

async function clientFor(relayUrl: string, token: string, started: Array<{ close(): Promise<void> }>): Promise<Client> {
  // Limits are seen as SOCKS replies only when the reply waits for the relay (no fast open).
  const client = await startClient({ relayUrl, token, socks: { host: '127.0.0.1', port: 0 }, fastOpen: 'never', logger: createLogger('client', LOG_LEVEL) });
  started.push(client);
  await client.tunnel.getSession();
  return client;
}

async function assertEchoes(socket: Socket, text: string): Promise<void> {
  socket.write(text);
  assert.equal((await readBytes(socket, Buffer.byteLength(text), WAIT_MS)).toString(), text);
}

interface UsersRelayRun {
  relay: CliProcess;
  url: string;
  /** Clients the body started; closed afterwards, newest first. */
  started: Array<{ close(): Promise<void> }>;
  /** Sockets the body opened; destroyed afterwards. */
  sockets: Socket[];
}

/** Runs `body` against a relay process serving `file`, then tears everything down; returns the process for its output. */
async function withUsersRelay(file: string, body: (run: UsersRelayRun) => Promise<void>): Promise<CliProcess> {
  const relay = new CliProcess(['relay', '--listen', '127.0.0.1:0', '--users', file, '--log-level', 'info']);
  const run: UsersRelayRun = { relay, url: '', started: [], sockets: [] };
  try {
    const [, address] = await relay.waitFor(/relay listening address=(\S+)/, START_WAIT_MS);
    run.url = `ws://${address}/tunnel`;
    await body(run);
  } finally {
    for (const socket of run.sockets) socket.destroy();
    for (const client of run.started.reverse()) await client.close();
    await relay.stop();
  }
  return relay;
}

describe('--users in process: names, rules and limits per user', () => {
  let relay: Relay;
  let echo: Target;
  const started: Array<{ close(): Promise<void> }> = [];
  before(async () => {
    echo = await startEchoTarget();
    relay = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [],
      users: parseUsersFile(JSON.stringify({ users: [alice, bob] }), 'users.json'),
      logger: createLogger('relay', LOG_LEVEL),
    });
  });
  after(async () => {
    for (const client of started.reverse()) await client.close();
    await relay?.close();
    await echo?.close();
  });

  test("alice's rule lets her reach a loopback echo; bob has no such rule and gets 0x02", async () => {
    const aliceClient = await clientFor(relay.url, ALICE_TOKEN, started);
    const socket = await socksConnect(aliceClient.socksAddress.port, echo.port);
    try {
      await assertEchoes(socket, 'hello alice\n');
    } finally {
      socket.destroy();
    }
    const bobClient = await clientFor(relay.url, BOB_TOKEN, started);
    const refused = await rawSocks5Connect(bobClient.socksAddress.port, echo.port);
    refused.socket.destroy();
    assert.equal(refused.rep, REP_NOT_ALLOWED);
    const names = relay.status.snapshot().tunnels.map((tunnel) => tunnel.tokenName).sort();
    assert.deepEqual(names, ['alice', 'bob'], 'the status shows user names');
  });

  test('a wrong token gets 404, as any unknown request', async () => {
    assert.equal(await upgradeStatus(relay.url, WRONG_TOKEN), 404);
    assert.equal(await upgradeStatus(relay.url, alice.tokenSha256), 404, 'the stored hash is not a token');
  });

  test("alice's maxTunnels 1: her second tunnel gets 429, bob's limit is the relay's", async () => {
    assert.equal(await upgradeStatus(relay.url, ALICE_TOKEN), 429);
    assert.equal(await upgradeStatus(relay.url, BOB_TOKEN), 101);
  });
});

describe('relay --users FILE as a process', () => {
  let dir: string;
  let echo: Target;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sockbridge-users-'));
    echo = await startEchoTarget();
  });
  after(async () => {
    await echo?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('SIGHUP adds a user while open tunnels keep echoing; an invalid file keeps the old users', async () => {
    const file = join(dir, 'users.json');
    await writeFile(file, JSON.stringify({ users: [alice, bob] }));
    const relay = await withUsersRelay(file, async ({ relay, url, started, sockets }) => {
      await relay.waitFor(/users loaded .*users=2/, WAIT_MS);
      const aliceClient = await clientFor(url, ALICE_TOKEN, started);
      const aliceSocket = await socksConnect(aliceClient.socksAddress.port, echo.port);
      sockets.push(aliceSocket);
      await assertEchoes(aliceSocket, 'before reload\n');
      const bobClient = await clientFor(url, BOB_TOKEN, started);
      const refused = await rawSocks5Connect(bobClient.socksAddress.port, echo.port);
      refused.socket.destroy();
      assert.equal(refused.rep, REP_NOT_ALLOWED);
      assert.equal(await upgradeStatus(url, CAROL_TOKEN), 404, 'carol is not a user yet');
      assert.equal(await upgradeStatus(url, ALICE_TOKEN), 429, "alice's maxTunnels");

      await writeFile(file, JSON.stringify({ users: [alice, bob, carol] }));
      relay.signal('SIGHUP');
      await relay.waitFor(/users reloaded users=3/, WAIT_MS);
      const carolClient = await clientFor(url, CAROL_TOKEN, started);
      const carolSocket = await socksConnect(carolClient.socksAddress.port, echo.port);
      sockets.push(carolSocket);
      await assertEchoes(carolSocket, 'carol after reload\n');
      await assertEchoes(aliceSocket, 'alice still here\n');

      await writeFile(file, JSON.stringify({ users: [alice, { name: 'dave', tokenSha256: 'abc' }] }));
      relay.signal('SIGHUP');
      await relay.waitFor(/error .*users not reloaded.*users\[1\]\.tokenSha256: expected 64 hex digits/, WAIT_MS);
      assert.equal(await upgradeStatus(url, CAROL_TOKEN), 101, 'the previous users stay');
      await assertEchoes(aliceSocket, 'alice after a bad reload\n');
      await assertEchoes(carolSocket, 'carol after a bad reload\n');
      assert.match(relay.output, /tunnel opened .*token=alice/);
    });
    for (const token of [ALICE_TOKEN, BOB_TOKEN, CAROL_TOKEN]) assert.ok(!relay.output.includes(token), 'no token in the relay output');
  });

  test("a user's maxStreams 2: her third concurrent stream gets 0x01 and is logged while another user's third stream works", async () => {
    const file = join(dir, 'max-streams.json');
    const erin = { name: 'erin', tokenSha256: sha(ERIN_TOKEN), maxStreams: 2, rules: [LOOPBACK_CONNECT] };
    await writeFile(file, JSON.stringify({ users: [erin, carol] }));
    await withUsersRelay(file, async ({ relay, url, started, sockets }) => {
      const erinClient = await clientFor(url, ERIN_TOKEN, started);
      const carolClient = await clientFor(url, CAROL_TOKEN, started);
      for (let i = 0; i < 2; i += 1) sockets.push(await socksConnect(erinClient.socksAddress.port, echo.port));
      const third = await rawSocks5Connect(erinClient.socksAddress.port, echo.port);
      sockets.push(third.socket);
      assert.equal(third.rep, REP_GENERAL_FAILURE, "erin's third stream is over her maxStreams");
      await relay.waitFor(/warn .*stream refused: tunnel limit reached .*limit=limit-streams-per-tunnel/, WAIT_MS);
      for (const [i, socket] of sockets.slice(0, 2).entries()) await assertEchoes(socket, `erin ${i} still open\n`);

      const carolSockets: Socket[] = [];
      for (let i = 0; i < 3; i += 1) carolSockets.push(await socksConnect(carolClient.socksAddress.port, echo.port));
      sockets.push(...carolSockets);
      for (const [i, socket] of carolSockets.entries()) await assertEchoes(socket, `carol ${i}\n`);
      assert.equal((relay.output.match(/stream refused: tunnel limit reached/g) ?? []).length, 1, 'only erin was refused');
    });
  });

  test("SIGHUP with a file where a user's token is the admin token: refused, logged naming the file, the old users stay; the same file at startup exits 2", async () => {
    const file = join(dir, 'admin-clash.json');
    const mallory = { name: 'mallory', tokenSha256: sha(ADMIN_TOKEN) };
    await writeFile(file, JSON.stringify({ users: [alice, bob] }));
    const relay = new CliProcess(['relay', '--listen', '127.0.0.1:0', '--users', file, '--admin-token', ADMIN_TOKEN, '--log-level', 'info']);
    try {
      const [, address] = await relay.waitFor(/relay listening address=(\S+)/, START_WAIT_MS);
      const url = `ws://${address}/tunnel`;
      await relay.waitFor(/users loaded .*users=2/, WAIT_MS);

      await writeFile(file, JSON.stringify({ users: [bob, mallory] }));
      relay.signal('SIGHUP');
      const [line] = await relay.waitFor(/error .*users not reloaded.*/, WAIT_MS);
      assert.ok(line.includes(`file=${file}`), line);
      assert.match(line, /must differ from every token in --users, but user \\?"mallory\\?" has it/);
      assert.equal(await upgradeStatus(url, ADMIN_TOKEN), 404, 'the admin token opens no tunnel');
      assert.equal(await upgradeStatus(url, ALICE_TOKEN), 101, 'the previous users stay: alice, whom the new file dropped, still gets in');
    } finally {
      await relay.stop();
    }
    assert.ok(!relay.output.includes(ADMIN_TOKEN), 'the admin token is never printed');

    const atStartup = await runCli(['relay', '--listen', '127.0.0.1:0', '--users', file, '--admin-token', ADMIN_TOKEN]);
    assert.equal(atStartup.code, EXIT_USAGE);
    assert.match(atStartup.stderr, /--admin-token: must differ from every token in --users, but user "mallory" has it/);
  });

  test('an invalid file at startup exits 2 naming the file, the entry and the field', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ users: [alice, { name: 'bob', tokenSha256: 'not-a-hash' }] }));
    const result = await runCli(['relay', '--listen', '127.0.0.1:0', '--users', file]);
    assert.equal(result.code, EXIT_USAGE);
    assert.match(result.stderr, new RegExp(`--users ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: users\\[1\\]\\.tokenSha256: expected 64 hex digits`));
  });

  test('hash-token prints the SHA-256 of the token read from stdin, as sha256sum would', { timeout: 20_000 }, async () => {
    for (const input of [ALICE_TOKEN, `${ALICE_TOKEN}\n`]) {
      const child = spawn(process.execPath, [SOCKBRIDGE_BIN, 'hash-token'], { stdio: ['pipe', 'pipe', 'pipe'] });
      try {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
        const code = new Promise<number | null>((resolve) => child.once('close', resolve));
        child.stdin.end(input);
        assert.equal(await code, 0);
        assert.equal(out, `${alice.tokenSha256}\n`);
      } finally {
        child.kill();
      }
    }
  });
});
