/**
 * `sockbridge relay --workers 2`: the primary spreads tunnels over two worker processes;
 * whichever worker answers, /api/status, /api/events and /metrics show the whole relay; a
 * token's tunnel limit holds across workers; a worker killed with SIGKILL is restarted,
 * its clients reconnect, and the other worker's tunnels and streams carry on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '../../client/client.js';
import { STATUS_EVENT, type StatusSnapshot } from '../../server/status/snapshot.js';
import { getText, STACK_TOKEN } from '../helpers/processes/cli-stack.js';
import { startedWorkerPids, startTunnelClient, startWorkersRelay, waitWorkers, workersStatus, type WorkersRelay } from '../helpers/processes/workers-relay.js';
import { RawTunnel } from '../helpers/tunnel/relay-raw-tunnel.js';
import { socksConnect } from '../helpers/socks/socks-dial.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { ADMIN_TOKEN, bearer, metricValue } from '../helpers/status/status-http.js';
import { waitFor, withTimeout } from '../helpers/io/waiting.js';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/processes/cli-process.js';

const CLIENTS = 4;
const REQUESTS = 8;
const WAIT_MS = 15_000;

async function closeAll(clients: Client[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
}

/** Sends `text` and waits for it to come back through the tunnel. */
async function echoes(socket: Socket, text: string): Promise<void> {
  let got = '';
  const back = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      got += chunk.toString();
      if (got.length >= text.length) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`stream closed after ${JSON.stringify(got)}`)));
  });
  socket.write(text);
  await withTimeout(back, { what: `the echo of ${text}`, timeoutMs: WAIT_MS });
  assert.equal(got, text);
}

/** The first message of /api/events. */
async function firstEvent(relay: WorkersRelay): Promise<StatusSnapshot> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), WAIT_MS);
  try {
    const response = await fetch(`http://127.0.0.1:${relay.adminPort}/api/events`, { headers: { authorization: bearer(ADMIN_TOKEN) }, signal: controller.signal });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    for (let i = 0; i < 100 && !/\n\n/.test(text); i++) text += (await reader.read()).value ?? '';
    await reader.cancel();
    assert.match(text, new RegExp(`^event: ${STATUS_EVENT}$`, 'm'));
    return JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as StatusSnapshot;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

describe('relay --workers 2: one relay in its status and metrics', () => {
  let relay: WorkersRelay;
  const clients: Client[] = [];
  before(async () => {
    relay = await startWorkersRelay(2);
    for (let i = 0; i < CLIENTS; i++) clients.push(await startTunnelClient(relay.url));
  });
  after(async () => {
    await closeAll(clients);
    await relay?.proc.stop();
  });

  test('every request to /api/status lists every tunnel of both workers', async () => {
    const status = await waitWorkers(relay, `${CLIENTS} tunnels`, (s) => s.tunnels.length === CLIENTS);
    const workers = new Set(status.tunnels.map((tunnel) => tunnel.pid));
    assert.equal(workers.size, 2, `tunnels on both workers: ${JSON.stringify(status.tunnels)}`);
    const answeredBy = new Set<number>();
    for (let i = 0; i < REQUESTS; i++) {
      const again = await workersStatus(relay);
      assert.equal(again.totals.tunnels, CLIENTS);
      assert.equal(again.tunnels.length, CLIENTS);
      assert.equal(new Set(again.tunnels.map((tunnel) => tunnel.id)).size, CLIENTS, 'tunnel ids unique across workers');
      assert.deepEqual(again.workers?.map((worker) => worker.tunnels).reduce((a, b) => a + b), CLIENTS);
      for (const worker of again.workers ?? []) answeredBy.add(worker.pid);
    }
    assert.equal(answeredBy.size, 2);
  });

  test('/metrics counts the tunnels of both workers, whichever answers', async () => {
    for (let i = 0; i < REQUESTS; i++) {
      const text = await getText(relay.adminPort, '/metrics');
      assert.equal(metricValue(text, 'sockbridge_tunnels'), CLIENTS, text.slice(0, 500));
      assert.equal(metricValue(text, 'sockbridge_tunnels_opened_total'), CLIENTS);
    }
  });

  test('/api/events sends the whole relay too', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await firstEvent(relay)).tunnels.length, CLIENTS);
  });
});

describe('relay --workers 2 --max-tunnels-per-token 1', () => {
  let relay: WorkersRelay;
  const clients: Client[] = [];
  before(async () => {
    relay = await startWorkersRelay(2, ['--max-tunnels-per-token', '1', '--token', 'second-token-not-secret']);
  });
  after(async () => {
    await closeAll(clients);
    await relay?.proc.stop();
  });

  test('a second tunnel with the same token is refused, whichever worker it reaches', async () => {
    clients.push(await startTunnelClient(relay.url));
    for (let i = 0; i < REQUESTS; i++) {
      await assert.rejects(RawTunnel.open(relay.url, STACK_TOKEN), /tunnel upgrade answered 429/);
    }
    const other = await RawTunnel.open(relay.url, 'second-token-not-secret');
    other.terminate();
    const status = await waitWorkers(relay, 'the refusals counted', (s) => s.totals.errors['limit-tunnels-per-token'] === REQUESTS);
    assert.equal(status.totals.tunnels >= 1, true);
  });

  test('the slot comes back when the tunnel closes', async () => {
    await closeAll(clients.splice(0));
    const tunnel = await waitFor(() => RawTunnel.open(relay.url, STACK_TOKEN).catch(() => undefined), { what: 'a tunnel after the first closed', timeoutMs: WAIT_MS });
    tunnel.terminate();
  });
});

describe('relay --workers 2: a worker killed with SIGKILL', () => {
  let relay: WorkersRelay;
  let target: Target;
  const clients: Client[] = [];
  before(async () => {
    target = await startEchoTarget();
    relay = await startWorkersRelay(2);
    for (let i = 0; i < CLIENTS; i++) clients.push(await startTunnelClient(relay.url));
  });
  after(async () => {
    await closeAll(clients);
    await relay?.proc.stop();
    await target?.close();
  });

  test('is restarted; its clients reconnect; the other worker notices nothing', async () => {
    const before = await waitWorkers(relay, `${CLIENTS} tunnels`, (s) => s.tunnels.length === CLIENTS && new Set(s.tunnels.map((t) => t.pid)).size === 2);
    const pids = startedWorkerPids(relay);
    assert.equal(pids.length, 2);
    const [victim, survivor] = pids as [number, number];
    const survivorTunnels = before.tunnels.filter((tunnel) => tunnel.pid === survivor).map((tunnel) => tunnel.id);
    // One stream over each client, open across the kill.
    const streams = await Promise.all(clients.map((client) => socksConnect(client.socksAddress.port, target.port)));
    for (const socket of streams) socket.on('error', () => {}); // those on the killed worker are reset
    try {
      for (const [i, socket] of streams.entries()) await echoes(socket, `before ${i}`);
      process.kill(victim, 'SIGKILL');
      await relay.proc.waitFor(/worker exited unexpectedly, restarting .*signal=SIGKILL/, WAIT_MS);
      await waitFor(() => startedWorkerPids(relay).length === 3, { what: 'a new worker', timeoutMs: WAIT_MS });
      const after = await waitWorkers(relay, 'every client back', (s) => s.tunnels.length === CLIENTS && s.workers?.length === 2, WAIT_MS * 2);
      assert.ok(!after.tunnels.some((tunnel) => tunnel.pid === victim));
      // The survivor's tunnels are the same tunnels, and their streams still carry data.
      for (const id of survivorTunnels) assert.ok(after.tunnels.some((tunnel) => tunnel.id === id), `tunnel ${id} kept`);
      const survivingStreams = streams.filter((socket) => !socket.destroyed);
      assert.ok(survivingStreams.length >= survivorTunnels.length, 'streams on the other worker still open');
      for (const [i, socket] of survivingStreams.entries()) await echoes(socket, `after ${i}`);
      // Every client opens new streams again.
      for (const client of clients) {
        const socket = await socksConnect(client.socksAddress.port, target.port);
        await echoes(socket, 'new stream').finally(() => socket.destroy());
      }
    } finally {
      for (const socket of streams) socket.destroy();
    }
  });

  test('SIGTERM stops the primary and every worker', async () => {
    const pids = startedWorkerPids(relay);
    relay.proc.signal('SIGTERM');
    const exit = await relay.proc.waitExit(WAIT_MS);
    assert.equal(exit.code, 0, relay.proc.output);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} gone`);
  });
});

describe('relay --workers 2 --users FILE', () => {
  const ALICE = 'alice-token-not-secret';
  const BOB = 'bob-token-not-secret';
  const user = (name: string, token: string): object => ({ name, tokenSha256: createHash('sha256').update(token).digest('hex') });
  let dir: string;
  let relay: WorkersRelay;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sockbridge-workers-'));
    await writeFile(join(dir, 'users.json'), JSON.stringify({ users: [user('alice', ALICE)] }));
    relay = await startWorkersRelay(2, ['--users', join(dir, 'users.json')]);
  });
  after(async () => {
    await relay?.proc.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('SIGHUP to the primary reaches every worker', async () => {
    await assert.rejects(RawTunnel.open(relay.url, BOB), /tunnel upgrade answered 404/);
    await writeFile(join(dir, 'users.json'), JSON.stringify({ users: [user('alice', ALICE), user('bob', BOB)] }));
    relay.proc.signal('SIGHUP');
    await waitFor(() => [...relay.proc.output.matchAll(/users reloaded/g)].length === 2, { what: () => `both workers reloading:\n${relay.proc.output}`, timeoutMs: WAIT_MS });
    const tunnels = [];
    for (let i = 0; i < 4; i++) tunnels.push(await RawTunnel.open(relay.url, BOB));
    const status = await waitWorkers(relay, "bob's tunnels", (s) => s.tunnels.filter((t) => t.tokenName === 'bob').length === 4);
    for (const tunnel of tunnels) tunnel.terminate();
    assert.equal(new Set(status.tunnels.map((t) => t.pid)).size, 2, 'bob reached both workers');
  });
});

test('--workers takes a count or auto', async () => {
  const result = await runCli(['relay', '--token', 't', '--workers', '0']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--workers: "0" is not a count from 1 to 256 or "auto"/);
});
