/**
 * Routing rules as an application sees them: a --direct destination answers although the
 * relay refuses it, a --block destination is refused by the client itself (SOCKS5 0x02 via
 * the `socks` package, SOCKS4 CD 91) without the target ever seeing a connection (nor a BIND
 * for a blocked peer, nor a UDP datagram to a blocked destination), and a real client
 * process re-reads --rules on SIGHUP (a bad file keeps the old rules).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { SocksClient } from 'socks';
import { createLogger, type LogLevel } from '../../common/log.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { Route } from '../../client/outbound/route.js';
import { ruleFromFlag } from '../../client/outbound/rules.js';
import { readAll, readBytes, waitClose } from '../helpers/io/socket-io.js';
import { socksAssociate, startUdpEcho, UdpInbox, type UdpEcho } from '../helpers/io/udp-io.js';
import { waitFor } from '../helpers/io/waiting.js';
import { runCli } from '../helpers/processes/cli-process.js';
import { startClientProcess, STACK_TOKEN } from '../helpers/processes/cli-stack.js';
import { curl } from '../helpers/socks/curl.js';
import { RawPeer } from '../helpers/socks/raw-peer.js';
import { socksBind } from '../helpers/socks/socks-bind.js';
import { spyOnUdpRelays, type UdpRelaySpy } from '../helpers/socks/udp-relay-spy.js';
import { rawSocks5Connect, socksConnect } from '../helpers/socks/socks-dial.js';
import { SOCKS4_REJECTED, CMD_CONNECT, socks4Request } from '../helpers/socks/socks-encoder.js';
import { REP_NOT_ALLOWED } from '../helpers/socks/socks-replies.js';
import { startStalledTarget, type StalledTarget } from '../helpers/targets/stalled-target.js';
import { closedPort, startEchoTarget, startTarget, type Target } from '../helpers/targets/targets.js';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';

const LOG_LEVEL = (process.env.SOCKBRIDGE_TEST_LOG_LEVEL ?? 'silent') as LogLevel;
const REP_CONNECTION_REFUSED = 0x05;
const REP_HOST_UNREACHABLE = 0x04;
const DIRECT_DIAL_TIMEOUT_MS = 300;

/** Sends `text`, half-closes, and returns all the echo brought back before the far end closed. */
async function echoRoundTrip(socket: Socket, text: string): Promise<string> {
  const echoed = readAll(socket);
  socket.end(text);
  return (await echoed).toString();
}

/** A target that counts every connection it accepted, to prove a refusal happened before it. */
async function countingTarget(): Promise<Target & { accepted: () => number }> {
  let accepted = 0;
  const target = await startTarget((socket) => {
    accepted++;
    socket.pipe(socket);
  });
  return { ...target, accepted: () => accepted };
}

describe('--direct: the client dials itself', () => {
  let pair: TunnelPair;
  let direct: Target;
  let viaRelay: Target;
  let refused: number;
  let stalled: StalledTarget | { failed: string };
  let greeter: Target;

  before(async () => {
    direct = await startEchoTarget();
    viaRelay = await startEchoTarget();
    greeter = await startTarget((socket) => socket.write('hello\n'));
    refused = await closedPort();
    stalled = await startStalledTarget();
    const stalledPort = 'port' in stalled ? stalled.port : refused;
    // No loopback allow on the relay: its safe default refuses 127.0.0.0/8 with 0x02.
    const directTargets = [`127.0.0.1:${direct.port}`, `localhost:${direct.port}`, `127.0.0.1:${refused}`, `127.0.0.1:${stalledPort}`, `127.0.0.1:${greeter.port}`];
    pair = await startPair({
      relay: { rules: [] },
      client: { routes: directTargets.map((target) => ruleFromFlag(Route.Direct, target)), directDialTimeoutMs: DIRECT_DIAL_TIMEOUT_MS },
    });
  });
  after(async () => {
    await pair?.close();
    await direct?.close();
    await viaRelay?.close();
    await greeter?.close();
    if (stalled && 'close' in stalled) await stalled.close();
  });

  test('the relay refuses a loopback destination no rule sends direct', async () => {
    const { rep, socket } = await rawSocks5Connect(pair.socksPort, viaRelay.port);
    socket.destroy();
    assert.equal(rep, REP_NOT_ALLOWED, 'the relay\'s own policy answers 0x02');
  });

  test('a --direct IP destination answers, bytes and FIN both ways', async () => {
    const socket = await socksConnect(pair.socksPort, direct.port);
    try {
      assert.equal(await echoRoundTrip(socket, 'hello direct'), 'hello direct');
    } finally {
      socket.destroy();
    }
  });

  test('a --direct name is resolved by the direct dial, not by the relay', async () => {
    const socket = await socksConnect(pair.socksPort, direct.port, 'localhost');
    try {
      assert.equal(await echoRoundTrip(socket, 'by name'), 'by name');
    } finally {
      socket.destroy();
    }
  });

  test('a direct dial that fails answers as the relay would: refused port, 0x05', async () => {
    const { rep, socket } = await rawSocks5Connect(pair.socksPort, refused);
    socket.destroy();
    assert.equal(rep, REP_CONNECTION_REFUSED);
  });

  test('a direct dial that outlives its timeout answers as the relay would: 0x04', async (t) => {
    if ('failed' in stalled) return t.skip(`cannot build a never-answering loopback target: ${stalled.failed}`);
    const { rep, socket } = await rawSocks5Connect(pair.socksPort, stalled.port);
    socket.destroy();
    assert.equal(rep, REP_HOST_UNREACHABLE);
  });

  test('a reset crosses a direct connection both ways', async () => {
    const first = await socksConnect(pair.socksPort, greeter.port);
    const errors: (string | undefined)[] = [];
    first.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code));
    assert.equal((await readBytes(first, 6)).toString(), 'hello\n');
    await waitFor(() => greeter.sockets.size === 1, { what: 'the target to accept' });
    [...greeter.sockets][0].resetAndDestroy();
    await waitClose(first, 5_000);
    assert.deepEqual(errors, ['ECONNRESET']);

    const second = await socksConnect(pair.socksPort, greeter.port);
    assert.equal((await readBytes(second, 6)).toString(), 'hello\n');
    await waitFor(() => greeter.sockets.size === 1, { what: 'the target to accept' });
    second.resetAndDestroy();
    await waitFor(() => greeter.sockets.size === 0, { what: 'the target\'s socket to close after the app reset' });
  });

  test('decisions are counted by route', () => {
    const counts = pair.client.routeCounts();
    assert.equal(counts.direct, 'failed' in stalled ? 5 : 6);
    assert.equal(counts.relay, 1);
    assert.equal(counts.block, 0);
  });
});

describe('--block: refused by the client', () => {
  let pair: TunnelPair;
  let blocked: Target & { accepted: () => number };
  let open: Target;
  const logLines: string[] = [];

  before(async () => {
    blocked = await countingTarget();
    open = await startEchoTarget();
    // The relay allows loopback here, so a refusal can only come from the client.
    pair = await startPair({
      client: {
        routes: [ruleFromFlag(Route.Block, `127.0.0.1:${blocked.port}`)],
        logger: createLogger('client', 'debug', (line) => logLines.push(line)),
      },
    });
  });
  after(async () => {
    await pair?.close();
    await blocked?.close();
    await open?.close();
  });

  test('SOCKS5 through the socks package: 0x02 NotAllowed', async () => {
    await assert.rejects(socksConnect(pair.socksPort, blocked.port), /Socks5 proxy rejected connection - NotAllowed/);
    const { rep, socket } = await rawSocks5Connect(pair.socksPort, blocked.port);
    socket.destroy();
    assert.equal(rep, REP_NOT_ALLOWED);
  });

  test('SOCKS4: CD 91, then the connection closes', async () => {
    await assert.rejects(
      SocksClient.createConnection({ proxy: { host: '127.0.0.1', port: pair.socksPort, type: 4 }, command: 'connect', destination: { host: '127.0.0.1', port: blocked.port }, timeout: 5_000 }),
      /Socks4 Proxy rejected connection/,
    );
    const peer = await RawPeer.connect(pair.socksPort);
    try {
      peer.write(socks4Request(CMD_CONNECT, '127.0.0.1', blocked.port));
      const reply = await peer.read(8);
      assert.equal(reply[1], SOCKS4_REJECTED);
      await peer.waitEnd();
    } finally {
      peer.destroy();
    }
  });

  test('the blocked target never saw a connection; other destinations still go through the relay', async () => {
    const socket = await socksConnect(pair.socksPort, open.port);
    try {
      assert.equal(await echoRoundTrip(socket, 'via relay'), 'via relay');
    } finally {
      socket.destroy();
    }
    assert.equal(blocked.accepted(), 0);
    assert.equal(pair.client.routeCounts().block, 4);
  });

  test('each decision is logged at debug with the rule that made it', () => {
    const blockLines = logLines.filter((line) => line.includes(' debug ') && line.includes('route=block'));
    assert.ok(blockLines.length >= 4, logLines.join(''));
    assert.match(blockLines[0], new RegExp(`dest=127\\.0\\.0\\.1:${blocked.port} route=block rule="--block 127\\.0\\.0\\.1:${blocked.port}"`));
    assert.ok(logLines.some((line) => / debug .*route=relay rule=default/.test(line)), 'unmatched destinations log the default');
  });
});

describe('--block also holds for BIND and UDP ASSOCIATE, which always use the relay', () => {
  const BLOCKED_PEER = '127.0.0.3';
  const SILENCE_MS = 300;
  let pair: TunnelPair;
  let blockedEcho: UdpEcho;
  let openEcho: UdpEcho;
  let spy: UdpRelaySpy;
  const logLines: string[] = [];

  before(async () => {
    blockedEcho = await startUdpEcho('127.0.0.1');
    openEcho = await startUdpEcho('127.0.0.1');
    spy = spyOnUdpRelays();
    pair = await startPair({
      client: {
        routes: [ruleFromFlag(Route.Block, BLOCKED_PEER), ruleFromFlag(Route.Block, `127.0.0.1:${blockedEcho.port}`)],
        logger: createLogger('client', 'info', (line) => logLines.push(line)),
      },
    });
  });
  after(async () => {
    spy?.restore();
    await pair?.close();
    blockedEcho?.close();
    openEcho?.close();
  });

  test('a BIND naming a blocked peer gets 0x02; one naming another peer is bound', async () => {
    const refused = await socksBind(pair.socksPort, 5, { host: BLOCKED_PEER, port: 0 });
    try {
      await assert.rejects(refused.bound(), /NotAllowed/);
    } finally {
      refused.close();
    }
    assert.ok(logLines.some((line) => line.includes(`BIND for ${BLOCKED_PEER}:0 blocked by --block ${BLOCKED_PEER}`)), logLines.join(''));
    const allowed = await socksBind(pair.socksPort, 5, { host: '127.0.0.1', port: 0 });
    try {
      assert.ok((await allowed.bound()).port > 0);
    } finally {
      allowed.close();
    }
  });

  test('a BIND for any peer refuses a blocked one that connects: second reply 0x02', async () => {
    const bind = await socksBind(pair.socksPort, 5, { host: '0.0.0.0', port: 0 });
    let peer: Socket | null = null;
    try {
      const listening = await bind.bound();
      peer = connect({ host: '127.0.0.1', port: listening.port, localAddress: BLOCKED_PEER });
      peer.on('error', () => {});
      await assert.rejects(bind.established(), /NotAllowed/);
      assert.ok(logLines.some((line) => line.includes(`BIND peer ${BLOCKED_PEER}:`) && line.includes(`blocked by --block ${BLOCKED_PEER}`)), logLines.join(''));
    } finally {
      peer?.destroy();
      bind.close();
    }
  });

  test('a datagram to a blocked destination is dropped here, once logged; the association carries on', async () => {
    const app = await UdpInbox.bind('127.0.0.1');
    const association = await socksAssociate(pair.socksPort, { host: '0.0.0.0', port: 0 });
    try {
      const send = (port: number, text: string) =>
        app.send(SocksClient.createUDPFrame({ remoteHost: { host: '127.0.0.1', port }, data: Buffer.from(text) }), association.relay.port, association.relay.host);
      await send(blockedEcho.port, 'blocked 1');
      await send(blockedEcho.port, 'blocked 2');
      await app.expectSilence(SILENCE_MS);
      await send(openEcho.port, 'open');
      const answer = SocksClient.parseUDPFrame((await app.next()).data);
      assert.equal(answer.data.toString(), 'open');
      assert.equal(blockedEcho.count, 0, 'the blocked destination never saw a datagram');
      assert.equal(spy.latest().counters.droppedBlocked, 2);
      const logged = logLines.filter((line) => line.includes(`UDP datagram dropped: 127.0.0.1:${blockedEcho.port} blocked by --block 127.0.0.1:${blockedEcho.port}`));
      assert.equal(logged.length, 1, logLines.join(''));
    } finally {
      association.control.destroy();
      app.close();
    }
  });
});

describe('--rules FILE in a real client process', () => {
  let relay: Relay;
  let target: Target & { accepted: () => number };
  let dir: string;

  before(async () => {
    target = await countingTarget();
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [STACK_TOKEN], rules: [], logger: createLogger('relay', LOG_LEVEL) });
    dir = mkdtempSync(join(tmpdir(), 'sockbridge-rules-'));
  });
  after(async () => {
    await relay?.close();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('SIGHUP re-reads the file; a bad file keeps the old rules and names its line', async () => {
    const file = join(dir, 'rules.txt');
    writeFileSync(file, `# loopback is refused by the relay, so only a direct dial reaches it\ndirect 127.0.0.1:${target.port}\n`);
    const { proc, socksPort } = await startClientProcess(relay.url, ['--rules', file, '--log-level', 'debug']);
    try {
      await proc.waitFor(/rules loaded/);
      const first = await socksConnect(socksPort, target.port);
      assert.equal(await echoRoundTrip(first, 'one'), 'one');
      first.destroy();
      const pacBefore = await fetchPac(socksPort);
      assert.equal(await fetchPac(socksPort), pacBefore);

      writeFileSync(file, `direct 127.0.0.1:${target.port}\n\nblok 127.0.0.1\n`);
      proc.signal('SIGHUP');
      const [refusal] = await proc.waitFor(/rules not reloaded, keeping the previous rules.*/);
      assert.ok(refusal.includes(`${file}:3: \\"blok\\" is not one of relay, direct, block`), refusal);
      const second = await socksConnect(socksPort, target.port);
      assert.equal(await echoRoundTrip(second, 'two'), 'two', 'the old rules still route');
      second.destroy();

      writeFileSync(file, `block 127.0.0.1:${target.port}\n`);
      proc.signal('SIGHUP');
      await proc.waitFor(/rules reloaded .*rules=1/);
      await assert.rejects(socksConnect(socksPort, target.port), /NotAllowed/);
      await proc.waitFor(new RegExp(`route=block rule="${escape(file)}:1: block 127\\.0\\.0\\.1:${target.port}"`));
      // The PAC file follows the reload: the rule that was DIRECT (1) is now through the proxy (0).
      const pacAfter = await fetchPac(socksPort);
      assert.ok(pacBefore.includes(`,1,${target.port},${target.port},4,32,127,0,0,1]`), pacBefore);
      assert.ok(pacAfter.includes(`,0,${target.port},${target.port},4,32,127,0,0,1]`), pacAfter);
      assert.equal(target.accepted(), 2);

      proc.signal('SIGTERM');
      assert.equal((await proc.waitExit(15_000)).code, 0);
      assert.match(proc.output, /routing decisions relay=0 direct=2 block=1/);
    } finally {
      await proc.stop();
    }
  });

  test('a bad file at start stops the client, naming file and line', async () => {
    const file = join(dir, 'bad.txt');
    writeFileSync(file, '# fine\ndirect *.example.cn\nblock 300.1.2.3\n');
    const result = await runCli(['client', '--relay', relay.url, '--token', STACK_TOKEN, '--socks', '127.0.0.1:0', '--rules', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`^sockbridge: --rules: ${escape(file)}:3: .*300\\.1\\.2\\.3`, 'm'));
  });

  test('a bad --direct or --block flag is a usage error naming the flag', async () => {
    const result = await runCli(['client', '--relay', relay.url, '--token', STACK_TOKEN, '--direct', '*.example.cn', '--block', '10.0.0.0/40']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sockbridge: --block: "10\.0\.0\.0\/40"/m);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}


/** GET /proxy.pac from the client's port, as a browser fetches it. */
async function fetchPac(port: number): Promise<string> {
  const result = await curl(['-sS', `http://127.0.0.1:${port}/proxy.pac`]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}
