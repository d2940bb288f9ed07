/**
 * Several relays and several tunnels (client/pool/): new streams spread over the tunnels by
 * their open streams; when a relay dies (SIGKILL of a real relay process) or its link freezes,
 * the streams on it end and new ones keep working on the other; once the preferred relay is
 * back, the tunnel moves back to it without losing a stream; a tunnel past --tunnel-max-age is
 * drained and replaced without losing a stream; --status-listen shows it all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { request } from 'node:http';
import { createLogger, type LogLevel } from '../../common/log.js';
import { startClient, type Client } from '../../client/client.js';
import type { ClientSettings } from '../../client/config.js';
import { startRelay, type Relay } from '../../server/relay.js';
import type { TunnelStatus } from '../../client/pool/tunnel-pool.js';
import { TEST_TOKEN } from '../helpers/tunnel/tunnel-pair.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { readBytes, waitClose } from '../helpers/io/socket-io.js';
import { socksConnect } from '../helpers/socks/socks-dial.js';
import { startFreezeProxy } from '../helpers/links/freeze-proxy.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { waitFor } from '../helpers/io/waiting.js';
import { EchoHeartbeat } from '../helpers/workloads/echo-heartbeat.js';
import { ConnectProber, longestFailureGapMs, type Attempt } from '../helpers/workloads/connect-prober.js';
import { freePort, relayStatus, startRelayProcess, STACK_TOKEN, type RelayProcess } from '../helpers/processes/cli-stack.js';
import { CliProcess, runCli } from '../helpers/processes/cli-process.js';

const LOG_LEVEL = (process.env.SOCKBRIDGE_TEST_LOG_LEVEL ?? 'silent') as LogLevel;
/** The target: new streams work again within this long after a relay dies, and none fails after. */
const RECOVERY_TARGET_MS = 5_000;
/** After that window, a new stream's connect and echo take no longer than this (loopback, a shared machine). */
const LATE_CONNECT_MS = 1_500;

function startTestRelay(port = 0): Promise<Relay> {
  return startRelay({ listen: { host: '127.0.0.1', port }, tokens: [TEST_TOKEN], rules: loopbackRules(), logger: createLogger('relay', LOG_LEVEL) });
}

function startPoolClient(settings: Omit<ClientSettings, 'token'>): Promise<Client> {
  return startClient({
    token: TEST_TOKEN,
    socks: { host: '127.0.0.1', port: 0 },
    logger: createLogger('client', LOG_LEVEL),
    reconnectMinMs: 100,
    reconnectMaxMs: 1_000,
    ...settings,
  } as ClientSettings);
}

async function echoStream(socksPort: number, echo: Target): Promise<Socket> {
  const socket = await socksConnect(socksPort, echo.port);
  socket.on('error', () => {}); // a stream on a lost tunnel is reset: the test checks that it closed
  await roundTrip(socket, 'hello\n');
  return socket;
}

async function roundTrip(socket: Socket, text: string): Promise<void> {
  socket.write(text);
  assert.equal((await readBytes(socket, text.length, 5_000)).toString(), text);
}

function openStreams(relay: Relay): number {
  let total = 0;
  for (const session of relay.sessions) total += session.streams.size;
  return total;
}

function statusJson(port: number): Promise<{ tunnels: TunnelStatus[]; raw: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5_000 }, (res) => {
      let raw = '';
      res.setEncoding('utf8').on('data', (text: string) => (raw += text));
      res.on('end', () => (res.statusCode === 200 ? resolve({ ...(JSON.parse(raw) as { tunnels: TunnelStatus[] }), raw }) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('status timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Every attempt that started `graceMs` after `eventAt` worked; some started after it at all. */
function assertRecovered(attempts: readonly Attempt[], eventAt: number, graceMs = RECOVERY_TARGET_MS): string {
  const late = attempts.filter((a) => a.startedAt >= eventAt + graceMs);
  assert.ok(late.length >= 10, `attempts after the recovery window: ${late.length}`);
  const lateFailures = late.filter((a) => !a.ok);
  assert.deepEqual(lateFailures, [], 'no new stream fails once the window has passed');
  const lateSlow = late.filter((a) => a.ms > LATE_CONNECT_MS);
  assert.deepEqual(lateSlow, [], `none waits over ${LATE_CONNECT_MS} ms once the window has passed`);
  const gap = longestFailureGapMs(attempts);
  assert.ok(gap < graceMs, `new streams failed for ${gap} ms`);
  const slowest = Math.max(...attempts.map((a) => a.ms));
  const why = [...new Set(attempts.filter((a) => !a.ok).map((a) => a.error))].join('; ');
  return `${attempts.length} new streams, ${attempts.filter((a) => !a.ok).length} failed (${why}), longest failure gap ${gap} ms, slowest ${slowest} ms`;
}

describe('a pool over two relays', () => {
  let echo: Target;
  before(async () => {
    echo = await startEchoTarget();
  });
  after(async () => {
    await echo.close();
  });

  it('spreads new streams over both relays by open streams, ties to the first, and shows them on --status-listen', { timeout: 30_000 }, async () => {
    const relays = [await startTestRelay(), await startTestRelay()];
    const sockets: Socket[] = [];
    let client: Client | null = null;
    try {
      client = await startPoolClient({ relayUrls: relays.map((r) => r.url), tunnels: 2, statusListen: { host: '127.0.0.1', port: 0 } });
      const pool = client.tunnel;
      await waitFor(() => pool.status().every((t) => t.state === 'up'), { what: 'both tunnels up' });
      assert.deepEqual(relays.map((r) => r.sessions.size), [1, 1], 'one tunnel to each relay');
      for (let i = 0; i < 6; i++) sockets.push(await echoStream(client.socksAddress.port, echo));
      assert.deepEqual(relays.map(openStreams), [3, 3], 'six streams, three on each relay');
      sockets.pop()!.destroy();
      await waitFor(() => openStreams(relays[1]!) === 2, { what: 'the last stream to close at the second relay' });
      sockets.push(await echoStream(client.socksAddress.port, echo));
      assert.deepEqual(relays.map(openStreams), [3, 3], 'the next stream went to the tunnel with fewer');
      sockets.push(await echoStream(client.socksAddress.port, echo));
      assert.deepEqual(relays.map(openStreams), [4, 3], 'a tie goes to the first relay');

      const { tunnels, raw } = await statusJson(client.status!.address.port);
      const byRelay = (url: string): unknown => tunnels.filter((t) => t.relay === url).map((t) => [t.state, t.openStreams]);
      assert.deepEqual([byRelay(relays[0]!.url), byRelay(relays[1]!.url)], [[['up', 4]], [['up', 3]]]);
      for (const t of tunnels) {
        assert.ok(t.bytesSent > 0 && t.bytesReceived > 0 && typeof t.ageSeconds === 'number', JSON.stringify(t));
        assert.ok(t.rttMs === null || t.rttMs >= 0);
      }
      assert.ok(!raw.includes(TEST_TOKEN), 'the status holds no token');
    } finally {
      for (const socket of sockets) socket.destroy();
      await client?.close();
      for (const relay of relays) await relay.close();
    }
  });

  for (const tunnels of [2, 1]) {
    it(`a frozen link, --tunnels ${tunnels}: its streams end, new streams go to the other relay within 5 s and none fails after`, { timeout: 40_000 }, async (t) => {
      const frozenRelay = await startTestRelay();
      const goodRelay = await startTestRelay();
      const proxy = await startFreezeProxy(frozenRelay.address.port);
      const sockets: Socket[] = [];
      let client: Client | null = null;
      let prober: ConnectProber | null = null;
      try {
        const frozenUrl = frozenRelay.url.replace(`:${frozenRelay.address.port}/`, `:${proxy.port}/`);
        // The keepalive declares the frozen link dead after 8 s; the pool must act well before.
        client = await startPoolClient({ relayUrls: [frozenUrl, goodRelay.url], tunnels, keepaliveIntervalMs: 6_000, keepaliveTimeoutMs: 8_000 });
        await waitFor(() => client!.tunnel.status().filter((s) => s.state === 'up').length === tunnels, { what: 'the tunnels up' });
        for (let i = 0; i < 4; i++) sockets.push(await echoStream(client.socksAddress.port, echo));
        const onFrozen = sockets.filter((_, i) => tunnels === 1 || i % 2 === 0);
        const onGood = sockets.filter((s) => !onFrozen.includes(s));
        assert.deepEqual([openStreams(frozenRelay), openStreams(goodRelay)], [onFrozen.length, onGood.length]);

        // A stream stuck on the frozen tunnel until the keepalive gives up (8 s) counts as failed.
        prober = new ConnectProber({ socksPort: client.socksAddress.port, echoPort: echo.port, intervalMs: 100, attemptTimeoutMs: 4_000 });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const frozeAt = Date.now();
        proxy.freeze();
        await Promise.all(onFrozen.map((s) => waitClose(s, 15_000)));
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, frozeAt + RECOVERY_TARGET_MS + 3_000 - Date.now())));
        const attempts = await prober.stop();
        prober = null;
        t.diagnostic(assertRecovered(attempts, frozeAt));
        for (const socket of onGood) await roundTrip(socket, 'still here\n');
        assert.ok(client.tunnel.status().some((s) => s.relay === goodRelay.url && s.state === 'up'));
      } finally {
        await prober?.stop();
        for (const socket of sockets) socket.destroy();
        await client?.close();
        proxy.thaw();
        await proxy.close();
        await frozenRelay.close();
        await goodRelay.close();
      }
    });
  }

  it('after a failover the tunnel moves back once the preferred relay is back; the stream on the later relay keeps working, no stream is lost', { timeout: 40_000 }, async () => {
    const preferred = await startTestRelay();
    const port = preferred.address.port;
    const later = await startTestRelay();
    let back: Relay | null = null;
    let client: Client | null = null;
    let prober: ConnectProber | null = null;
    let long: Socket | null = null;
    const logLines: string[] = [];
    try {
      client = await startPoolClient({ relayUrls: [preferred.url, later.url], tunnels: 1, logger: createLogger('client', 'info', (line) => logLines.push(line)) });
      const pool = client.tunnel;
      const upOn = (url: string) => pool.status().some((t) => t.state === 'up' && t.relay === url);
      await waitFor(() => upOn(preferred.url), { what: 'the tunnel up on the preferred relay' });
      await preferred.close();
      await waitFor(() => upOn(later.url), { what: 'the failover to the later relay' });
      long = await echoStream(client.socksAddress.port, echo);
      assert.equal(openStreams(later), 1);
      prober = new ConnectProber({ socksPort: client.socksAddress.port, echoPort: echo.port, intervalMs: 100 });
      // While the preferred relay stays down, an attempt to move back fails and nothing else changes.
      const connectionsAfterFailover = pool.connections;
      await waitFor(() => logLines.some((line) => line.includes('preferred relay not back yet')), { what: 'a failed attempt to move back', timeoutMs: 10_000 });
      assert.equal(pool.connections, connectionsAfterFailover, 'no tunnel came up or went meanwhile');
      assert.deepEqual(pool.status().filter((t) => t.state === 'up').map((t) => t.relay), [later.url]);

      back = await startTestRelay(port);
      await waitFor(() => back!.sessions.size === 1 && upOn(back!.url), { what: 'a tunnel on the preferred relay again', timeoutMs: 20_000 });
      const fresh = await echoStream(client.socksAddress.port, echo);
      fresh.destroy();
      assert.ok(pool.status().some((t) => t.relay === later.url && t.state === 'draining'), JSON.stringify(pool.status()));
      await roundTrip(long, 'still here\n');
      const attempts = await prober.stop();
      prober = null;
      assert.deepEqual(attempts.filter((a) => !a.ok), [], 'no new stream failed across the move');
      assert.ok(attempts.length >= 20, `attempts: ${attempts.length}`);
      long.destroy();
      await waitFor(() => later.sessions.size === 0, { what: 'the drained tunnel on the later relay to go', timeoutMs: 5_000 });
      assert.deepEqual(pool.status().map((t) => [t.relay, t.state]), [[back.url, 'up']]);
    } finally {
      await prober?.stop();
      long?.destroy();
      await client?.close();
      await back?.close();
      await later.close();
    }
  });

  it('--tunnel-max-age drains and replaces the tunnel; a long stream on the old one keeps working, no stream is lost', { timeout: 30_000 }, async () => {
    const relay = await startTestRelay();
    let client: Client | null = null;
    let prober: ConnectProber | null = null;
    let long: Socket | null = null;
    try {
      client = await startPoolClient({ relayUrl: relay.url, tunnels: 1, tunnelMaxAgeMs: 1_500 });
      await client.tunnel.getSession();
      long = await echoStream(client.socksAddress.port, echo);
      const heartbeat = new EchoHeartbeat(long, 50);
      prober = new ConnectProber({ socksPort: client.socksAddress.port, echoPort: echo.port, intervalMs: 100 });
      await waitFor(() => client!.tunnel.connections >= 3, { what: 'two replacements by age', timeoutMs: 10_000 });
      const attempts = await prober.stop();
      prober = null;
      const report = await heartbeat.stop();
      assert.deepEqual(report.failures, [], 'the long stream noticed nothing');
      assert.ok(report.roundTrips > 20, `round trips: ${report.roundTrips}`);
      assert.deepEqual(attempts.filter((a) => !a.ok), [], 'no new stream failed across the replacements');
      assert.ok(attempts.length >= 20);
      // The first tunnel stays while the long stream is on it; once that ends, it goes.
      assert.ok(relay.sessions.size >= 2, `the drained tunnel stays for its stream (${relay.sessions.size} tunnels)`);
      long.destroy();
      await waitFor(() => relay.sessions.size <= 2 && client!.tunnel.status().every((t) => t.state !== 'draining' || t.openStreams > 0), { what: 'the drained tunnel to go' });
      await waitFor(() => relay.sessions.size === 1, { what: 'one tunnel left', timeoutMs: 5_000 });
    } finally {
      await prober?.stop();
      long?.destroy();
      await client?.close();
      await relay.close();
    }
  });
});

describe('the pool as the sockbridge client command', () => {
  let echo: Target;
  const procs: (CliProcess | RelayProcess)[] = [];
  before(async () => {
    echo = await startEchoTarget();
  });
  after(async () => {
    for (const p of procs) await ('proc' in p ? p.proc : p).stop();
    await echo.close();
  });

  it('SIGKILL of one of two relays: its streams end, new streams succeed within 5 s and none fails after', { timeout: 60_000 }, async (t) => {
    const [a, b] = [await startRelayProcess(), await startRelayProcess()];
    procs.push(a, b);
    const socksPort = await freePort();
    const statusPort = await freePort();
    const urls = [a, b].map((r) => `ws://127.0.0.1:${r.port}/tunnel`);
    const client = new CliProcess(['client', '--relay', urls[0]!, '--relay', urls[1]!, '--tunnels', '2', '--token', STACK_TOKEN, '--socks', `127.0.0.1:${socksPort}`, '--status-listen', `127.0.0.1:${statusPort}`, '--log-level', 'info']);
    procs.push(client);
    await waitFor(async () => (await statusJson(statusPort)).tunnels.filter((t) => t.state === 'up').length === 2, { what: 'two tunnels up', timeoutMs: 15_000 });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) sockets.push(await echoStream(socksPort, echo));
      const streamsOn = async (r: RelayProcess): Promise<number> => (await relayStatus(r.port)).totals.streams;
      assert.deepEqual([await streamsOn(a), await streamsOn(b)], [2, 2]);
      const prober = new ConnectProber({ socksPort, echoPort: echo.port, intervalMs: 100 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const killedAt = Date.now();
      a.proc.signal('SIGKILL');
      const ended = await Promise.all(sockets.map((s) => waitClose(s, 3_000).then(() => true, () => false)));
      assert.equal(ended.filter(Boolean).length, 2, 'the two streams on the killed relay ended, the other two did not');
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + RECOVERY_TARGET_MS + 3_000 - Date.now())));
      const attempts = await prober.stop();
      t.diagnostic(assertRecovered(attempts, killedAt));
      for (const [i, socket] of sockets.entries()) if (!ended[i]) await roundTrip(socket, 'survivor\n');
      const { tunnels } = await statusJson(statusPort);
      assert.deepEqual(tunnels.map((t) => [t.relay, t.state]), [[urls[1], 'up'], [urls[1], 'up']], 'the lost tunnel was rebuilt on the live relay');
      assert.match(client.output, new RegExp(`tunnel down.*relay=${urls[0]!.replace(/[/.]/g, '\\$&')}`));
      assert.ok(!client.output.includes(STACK_TOKEN), 'no token in the log');
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });

  it('refuses a non-loopback --status-listen and a bad --tunnels with exit 2', { timeout: 20_000 }, async () => {
    const base = ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', 't', '--socks', '127.0.0.1:0'];
    const open = await runCli([...base, '--status-listen', '0.0.0.0:0']);
    assert.equal(open.code, 2);
    assert.match(open.stderr, /--status-listen: must be a loopback address/);
    const zero = await runCli([...base, '--tunnels', '0']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--tunnels/);
    const many = await runCli([...base, '--tunnels', '17']);
    assert.equal(many.code, 2);
    assert.match(many.stderr, /--tunnels: expected a whole number from 1 to 16/);
  });
});
