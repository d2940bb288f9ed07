/**
 * --config end to end with real processes: a relay from a YAML file and a client from a JSON
 * file carry a stream (the `socks` package dialing); the command line overrides the file; a
 * misspelt key exits 2 with a suggestion; SIGHUP adds a token and removes a rule while the
 * first tunnel keeps echoing; --token-file and --admin-token-file keep secrets off `ps`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProcess, runCli } from '../helpers/processes/cli-process.js';
import { getText } from '../helpers/processes/cli-stack.js';
import { readBytes } from '../helpers/io/socket-io.js';
import { rawSocks5Connect, socksConnect } from '../helpers/socks/socks-dial.js';
import { REP_NOT_ALLOWED } from '../helpers/socks/socks-replies.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';

const FIRST_TOKEN = 'config-first-token-4c1d';
const SECOND_TOKEN = 'config-second-token-9e07';
const ADMIN_TOKEN = 'config-admin-token-2b88';
const EXIT_USAGE = 2;
const START_WAIT_MS = 15_000;
const WAIT_MS = 10_000;

let dir: string;
let echo: Target;
let other: Target;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sockbridge-config-'));
  echo = await startEchoTarget();
  other = await startEchoTarget();
});

after(async () => {
  await echo.close();
  await other.close();
  await rm(dir, { recursive: true, force: true });
});

async function assertEchoes(socket: Socket, text: string): Promise<void> {
  socket.write(text);
  assert.equal((await readBytes(socket, Buffer.byteLength(text), WAIT_MS)).toString(), text);
}

/** The relay's tunnel URL and HTTP port, from its "relay listening" line. */
async function relayAddress(relay: CliProcess): Promise<{ url: string; port: number }> {
  const [, address] = await relay.waitFor(/relay listening address=(\S+)/, START_WAIT_MS);
  return { url: `ws://${address}/tunnel`, port: Number(address.split(':').pop()) };
}

async function socksPort(client: CliProcess): Promise<number> {
  const [, port] = await client.waitFor(/SOCKS listening address=127\.0\.0\.1:(\d+)/, START_WAIT_MS);
  await client.waitFor(/tunnel up/, START_WAIT_MS);
  return Number(port);
}

function relayYaml(rules: string, extra = ''): string {
  return `# the relay of config-file.test.ts
listen: 127.0.0.1:0
token-file: ${join(dir, 'tokens')}
log-level: info
max-streams: 64
rules:
${rules}${extra}`;
}

describe('sockbridge relay and client from config files', () => {
  test('a YAML relay and a JSON client carry a stream; SIGHUP adds a token and removes a rule without dropping the tunnel', async () => {
    await writeFile(join(dir, 'tokens'), `${FIRST_TOKEN}\n\n`);
    const relayFile = join(dir, 'relay.yaml');
    const bothRules = `  - allow: 127.0.0.1:${echo.port}\n  - allow: 127.0.0.1:${other.port}\n`;
    await writeFile(relayFile, relayYaml(bothRules));
    const relay = new CliProcess(['relay', '--config', relayFile]);
    const processes: CliProcess[] = [relay];
    const sockets: Socket[] = [];
    try {
      const { url } = await relayAddress(relay);
      const clientFile = join(dir, 'client.json');
      // fast-open never: a refused destination shows as its SOCKS reply, not a reset after a premature success.
      await writeFile(clientFile, JSON.stringify({ relay: url, token: FIRST_TOKEN, socks: '127.0.0.1:0', 'fast-open': 'never', 'log-level': 'info' }));
      const first = new CliProcess(['client', '--config', clientFile]);
      processes.push(first);
      const firstPort = await socksPort(first);
      const open = await socksConnect(firstPort, echo.port);
      sockets.push(open);
      await assertEchoes(open, 'through the config files\n');
      const before = await socksConnect(firstPort, other.port);
      sockets.push(before);
      await assertEchoes(before, 'the other target, allowed for now\n');

      // A token added in the file, the second rule removed, and a restart-only key changed.
      await writeFile(relayFile, relayYaml(`  - allow: 127.0.0.1:${echo.port}\n`, `token: [${SECOND_TOKEN}]\nhandshake-timeout: 7\n`));
      relay.signal('SIGHUP');
      await relay.waitFor(/settings reloaded .*tokens=2 rules=1/, WAIT_MS);
      await relay.waitFor(/warn .*handshake-timeout: changed in .*relay\.yaml; takes effect after a restart/, WAIT_MS);

      const tokenFile = join(dir, 'second-token');
      await writeFile(tokenFile, `${SECOND_TOKEN}\n`);
      const second = new CliProcess(['client', '--relay', url, '--token-file', tokenFile, '--socks', '127.0.0.1:0', '--fast-open', 'never', '--log-level', 'info']);
      processes.push(second);
      const secondSocket = await socksConnect(await socksPort(second), echo.port);
      sockets.push(secondSocket);
      await assertEchoes(secondSocket, 'the token added on SIGHUP\n');

      const refused = await rawSocks5Connect(firstPort, other.port);
      refused.socket.destroy();
      assert.equal(refused.rep, REP_NOT_ALLOWED, 'the removed rule no longer lets the first tunnel reach the other target');
      await relay.waitFor(/connect refused by policy .*default: loopback/, WAIT_MS);
      await assertEchoes(open, 'the first tunnel still carries its stream\n');

      // An invalid file on SIGHUP: logged, the running settings stay.
      await writeFile(relayFile, `${relayYaml(`  - allow: 127.0.0.1:${echo.port}\n`)}max-streamz: 5\n`);
      relay.signal('SIGHUP');
      await relay.waitFor(/error .*settings not reloaded, keeping the running settings .*max-streamz: unknown option \(did you mean max-streams\?\)/, WAIT_MS);
      await assertEchoes(secondSocket, 'the second token still works\n');
      await assertEchoes(open, 'and the first tunnel is still up\n');
      assert.equal((relay.output.match(/tunnel opened/g) ?? []).length, 2, 'no tunnel was dropped and reopened');
      assert.doesNotMatch(relay.output, /tunnel closed/);
    } finally {
      for (const socket of sockets) socket.destroy();
      for (const proc of processes.reverse()) await proc.stop();
    }
    for (const token of [FIRST_TOKEN, SECOND_TOKEN]) assert.ok(!relay.output.includes(token), 'no token in the relay output');
  });

  test("SIGHUP re-reads the client's file: its routes: change for new connections", async () => {
    await writeFile(join(dir, 'tokens'), `${FIRST_TOKEN}\n`);
    const relayFile = join(dir, 'routes-relay.yaml');
    await writeFile(relayFile, relayYaml(`  - allow: 127.0.0.1:${echo.port}\n`));
    const relay = new CliProcess(['relay', '--config', relayFile]);
    const processes: CliProcess[] = [relay];
    try {
      const { url } = await relayAddress(relay);
      const clientFile = join(dir, 'routes-client.yaml');
      const clientYaml = (routes: string): string => `relay: ${url}\ntoken-file: ${join(dir, 'tokens')}\nsocks: 127.0.0.1:0\nlog-level: info\n${routes}`;
      await writeFile(clientFile, clientYaml(`routes:\n  - block: 127.0.0.1:${echo.port}\n`));
      const client = new CliProcess(['client', '--config', clientFile]);
      processes.push(client);
      const port = await socksPort(client);
      const blocked = await rawSocks5Connect(port, echo.port);
      blocked.socket.destroy();
      assert.equal(blocked.rep, REP_NOT_ALLOWED, 'blocked by the file');
      await writeFile(clientFile, clientYaml('socks: 127.0.0.1:1081\n').replace('socks: 127.0.0.1:0\n', ''));
      client.signal('SIGHUP');
      await client.waitFor(/rules reloaded .*rules=0/, WAIT_MS);
      await client.waitFor(/warn .*socks: changed in .*routes-client\.yaml; takes effect after a restart/, WAIT_MS);
      const socket = await socksConnect(port, echo.port);
      try {
        await assertEchoes(socket, 'no longer blocked\n');
      } finally {
        socket.destroy();
      }
    } finally {
      for (const proc of processes.reverse()) await proc.stop();
    }
  });

  test('the command line overrides the file', async () => {
    await writeFile(join(dir, 'tokens'), `${FIRST_TOKEN}\n`);
    const relayFile = join(dir, 'override.yaml');
    // Port 1 is privileged and log-level silent would hide the "listening" line: both overridden.
    await writeFile(relayFile, `listen: 127.0.0.1:1\nlog-level: silent\ntoken-file: ${join(dir, 'tokens')}\n`);
    const relay = new CliProcess(['relay', '--config', relayFile, '--listen', '127.0.0.1:0', '--log-level', 'info']);
    try {
      const { url } = await relayAddress(relay);
      assert.doesNotMatch(url, /:1\/tunnel$/);
    } finally {
      await relay.stop();
    }
  });

  test('a misspelt key exits 2 with one line naming the file, the key and the option meant', async () => {
    const relayFile = join(dir, 'typo.yaml');
    await writeFile(relayFile, 'token: [t]\nmax-streamz: 100\n');
    const result = await runCli(['relay', '--config', relayFile]);
    assert.equal(result.code, EXIT_USAGE, result.stderr);
    assert.equal(result.stderr, `sockbridge: ${relayFile}: max-streamz: unknown option (did you mean max-streams?)\n`);
    const clientFile = join(dir, 'typo.json');
    await writeFile(clientFile, JSON.stringify({ relay: 'ws://127.0.0.1:1/tunnel', token: 't', 'tunnel-wiat': 3 }));
    const client = await runCli(['client', '--config', clientFile]);
    assert.equal(client.code, EXIT_USAGE, client.stderr);
    assert.equal(client.stderr, `sockbridge: ${clientFile}: tunnel-wiat: unknown option (did you mean tunnel-wait?)\n`);
    const badValue = join(dir, 'bad-value.yaml');
    await writeFile(badValue, 'token: [t]\nidle-timeout: soon\n');
    const bad = await runCli(['relay', '--config', badValue]);
    assert.equal(bad.code, EXIT_USAGE);
    assert.equal(bad.stderr, `sockbridge: ${badValue}: idle-timeout: "soon" is not a positive number of seconds\n`);
    // A check across settings (the relay's own) also names the file and key the value came from.
    await writeFile(badValue, 'token: [t]\nkeepalive-interval: 90\n');
    const tooLong = await runCli(['relay', '--config', badValue]);
    assert.equal(tooLong.code, EXIT_USAGE);
    assert.match(tooLong.stderr, new RegExp(`^sockbridge: ${badValue.replace(/[.]/g, '\\.')}: keepalive-interval: at most 60 s, got 90 s`));
  });

  test('--token-file and --admin-token-file: the tokens work and appear neither in ps nor in the output', async () => {
    const tokens = join(dir, 'tokens');
    const admin = join(dir, 'admin-token');
    await writeFile(tokens, `${FIRST_TOKEN}\r\n${SECOND_TOKEN}\n`);
    await writeFile(admin, `${ADMIN_TOKEN}\n`);
    const relay = new CliProcess(['relay', '--listen', '127.0.0.1:0', '--token-file', tokens, '--admin-token-file', admin, '--allow', `127.0.0.1:${echo.port}`, '--log-level', 'info']);
    const processes: CliProcess[] = [relay];
    try {
      const { url, port } = await relayAddress(relay);
      const status = JSON.parse(await getText(port, '/api/status', ADMIN_TOKEN)) as object;
      assert.equal(typeof status, 'object', 'the admin token from its file opens the status API');
      await assert.rejects(getText(port, '/api/status', FIRST_TOKEN), /answered 401/, 'a tunnel token is not the admin token');
      const cmdline = await readFile(`/proc/${relay.child.pid}/cmdline`, 'utf8');
      for (const secret of [FIRST_TOKEN, SECOND_TOKEN, ADMIN_TOKEN]) assert.ok(!cmdline.includes(secret), 'no secret on the command line');
      const client = new CliProcess(['client', '--relay', url, '--token-file', tokens, '--socks', '127.0.0.1:0']);
      processes.push(client);
      const socket = await socksConnect(await socksPort(client), echo.port);
      try {
        await assertEchoes(socket, 'the first line of the token file\n');
      } finally {
        socket.destroy();
      }
    } finally {
      for (const proc of processes.reverse()) await proc.stop();
    }
    for (const secret of [FIRST_TOKEN, SECOND_TOKEN, ADMIN_TOKEN]) assert.ok(!relay.output.includes(secret), 'no secret in the output');
  });
});
