/**
 * Stream churn against real `sockbridge relay` and `sockbridge client` processes: thousands of
 * short CONNECTs, applications that vanish mid-download, targets that reset, and a client
 * killed (SIGKILL) or frozen (SIGSTOP) mid-transfer. The relay is measured from outside, by
 * its open descriptors (/proc/PID/fd), its RSS (/proc/PID/status) and its V8 heap in use
 * (prom-client's default metrics on /metrics, as an operator would watch it), so nothing is
 * added to the product for the test. The 2000-stream leak check in data-path.test.ts is in-process;
 * this one is about what the relay process holds after the churn.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import {
  fdCount,
  heapUsedBytes,
  procAvailable,
  relayStatus,
  rssBytes,
  startClientProcess,
  startRelayProcess,
  waitStatus,
  type ClientProcess,
  type RelayProcess,
} from '../helpers/processes/cli-stack.js';
import { abortMidDownload, echoOneByte, readUntilTargetReset, runPool, startResetTarget, startSourceTarget } from '../helpers/workloads/churn-streams.js';
import { rawSocks5Connect } from '../helpers/socks/socks-dial.js';
import { readBytes } from '../helpers/io/socket-io.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { waitFor } from '../helpers/io/waiting.js';

const MiB = 1024 * 1024;
/** Both sides ping every 0.2 s and give up after 1 s of silence. */
const KEEPALIVE_FLAGS = ['--keepalive-interval', '0.2', '--keepalive-timeout', '1'];
const WARMUP_STREAMS = 500;
const SHORT_STREAMS = 10_000;
const ABORTED_STREAMS = 500;
const RESET_STREAMS = 500;
const CONCURRENCY = 100;
/** Descriptors the relay may hold above its warmed-up baseline (timers, a lazily opened file…), not one per stream. */
const FD_MARGIN = 10;
const ROUNDS = 2;
/**
 * Observed on a 2-core machine: 73-78 MiB after the warm-up, 131-147 MiB at the end, so
 * 55-75 MiB of growth in all, nearly all of it in the first round (V8's heap high-water and
 * in-flight download buffers); the second round added 0-17 MiB. A 64 MiB limit would be flaky.
 */
const RSS_GROWTH_LIMIT = 96 * MiB;
/** What a second, identical round may add: 5,500 streams leaking 6 KiB each would exceed it. */
const RSS_ROUND_GROWTH_LIMIT = 32 * MiB;
const DRAIN_WAIT_MS = 15_000;
/**
 * RSS keeps V8's high-water mark; the heap in use (nodejs_heap_size_used_bytes on /metrics)
 * falls back to what is live once V8 collects. Observed: 15 MiB after the warm-up, 12-15 MiB
 * after the churn at a collection, climbing about 0.7 MiB/s of garbage (pings, scrapes)
 * between collections some 15 s apart. 16 MiB is what 11,500 streams leaking 1.5 KiB each
 * would keep; the wait lets a collection happen if the first samples are full of garbage.
 */
const HEAP_GROWTH_LIMIT = 16 * MiB;
const HEAP_WAIT_MS = 30_000;
const HEAP_POLL_MS = 250;

/** Polls the relay's heap in use until it is at most `target` or `timeoutMs` pass; reports the first and the lowest sample. */
async function lowestHeapUntil(port: number, target: number, timeoutMs: number): Promise<{ first: number; lowest: number; waitedMs: number }> {
  const started = Date.now();
  const first = await heapUsedBytes(port);
  let lowest = first;
  while (lowest > target && Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, HEAP_POLL_MS));
    lowest = Math.min(lowest, await heapUsedBytes(port));
  }
  return { first, lowest, waitedMs: Date.now() - started };
}
/** Keepalive timeout (1 s) plus a generous allowance for a loaded 2-core machine. */
const DEAD_TUNNEL_WAIT_MS = 5_000;
const IN_FLIGHT = 20;

const skip = (await procAvailable()) ? false : 'no /proc: the relay is measured through /proc/PID/fd and /proc/PID/status';

describe('churn through relay and client processes', { skip, timeout: 150_000 }, () => {
  let relay: RelayProcess;
  let echo: Target;
  let source: Target;
  let reset: Target;
  const clients: ClientProcess[] = [];

  const startClient = async (): Promise<ClientProcess> => {
    const client = await startClientProcess(`ws://127.0.0.1:${relay.port}/tunnel`, KEEPALIVE_FLAGS);
    clients.push(client);
    return client;
  };

  /** `count` streams reading from the source target, flowing when this resolves (the caller destroys them). */
  const openDownloads = async (socksPort: number, count: number): Promise<Socket[]> => {
    const sockets: Socket[] = [];
    for (let i = 0; i < count; i++) {
      const { rep, socket } = await rawSocks5Connect(socksPort, source.port);
      sockets.push(socket);
      assert.equal(rep, 0x00, 'CONNECT to the source succeeded');
      await readBytes(socket, 1);
      socket.resume();
    }
    return sockets;
  };

  before(async () => {
    [echo, source, reset] = await Promise.all([startEchoTarget(), startSourceTarget(), startResetTarget()]);
    relay = await startRelayProcess(KEEPALIVE_FLAGS);
  });

  after(async () => {
    for (const client of clients) await client.proc.stop();
    await relay?.proc.stop();
    await Promise.all([echo?.close(), source?.close(), reset?.close()]);
  });

  test(`${SHORT_STREAMS} short streams, ${ABORTED_STREAMS} aborted by the app, ${RESET_STREAMS} reset by the target: no descriptor left, RSS bounded, heap back near its baseline`, async (t) => {
    const { socksPort } = await startClient();
    await waitStatus(relay.port, 'the tunnel', (s) => s.totals.tunnels === 1);

    await runPool(WARMUP_STREAMS, CONCURRENCY, () => echoOneByte(socksPort, echo.port));
    await waitStatus(relay.port, 'no open stream after the warm-up', (s) => s.totals.streams === 0, DRAIN_WAIT_MS);
    const fdBefore = await fdCount(relay.pid);
    const rssBefore = await rssBytes(relay.pid);
    const heapBefore = await heapUsedBytes(relay.port);

    // Two identical rounds: a leak grows with every round, a high-water mark (V8's heap, the
    // buffers of 100 concurrent downloads at up to 1 MiB of window each) does not.
    const rounds: Array<{ ms: number; rss: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = Date.now();
      await runPool(SHORT_STREAMS / ROUNDS, CONCURRENCY, () => echoOneByte(socksPort, echo.port));
      await runPool(ABORTED_STREAMS / ROUNDS, CONCURRENCY, () => abortMidDownload(socksPort, source.port));
      await runPool(RESET_STREAMS / ROUNDS, CONCURRENCY, () => readUntilTargetReset(socksPort, reset.port));
      rounds.push({ ms: Date.now() - started, rss: await rssBytes(relay.pid) });
    }

    const status = await waitStatus(relay.port, 'no open stream after the churn', (s) => s.totals.streams === 0, DRAIN_WAIT_MS);
    // The relay's side of every target connection must be gone too.
    await waitFor(() => echo.sockets.size + source.sockets.size + reset.sockets.size === 0, { what: 'targets to see every connection closed', timeoutMs: DRAIN_WAIT_MS });
    const fdAfter = await fdCount(relay.pid);
    const rssAfter = await rssBytes(relay.pid);
    const mib = (bytes: number): string => (bytes / MiB).toFixed(1);
    const heapAfter = await lowestHeapUntil(relay.port, heapBefore + HEAP_GROWTH_LIMIT, HEAP_WAIT_MS);
    t.diagnostic(`rounds took ${rounds.map((r) => r.ms).join(' + ')} ms`);
    t.diagnostic(`relay fds ${fdBefore} -> ${fdAfter}; RSS MiB ${mib(rssBefore)} -> ${rounds.map((r) => mib(r.rss)).join(' -> ')} -> ${mib(rssAfter)}`);
    t.diagnostic(`relay V8 heap used MiB ${mib(heapBefore)} after the warm-up, ${mib(heapAfter.first)} after the churn, lowest ${mib(heapAfter.lowest)} within ${heapAfter.waitedMs} ms`);

    const total = WARMUP_STREAMS + SHORT_STREAMS + ABORTED_STREAMS + RESET_STREAMS;
    assert.equal(status.totals.streamsOpened, total, 'the relay opened every stream (none lost, none doubled)');
    assert.equal(status.totals.tunnelsOpened, 1, 'all of it rode on one tunnel');
    assert.ok(fdAfter <= fdBefore + FD_MARGIN, `relay fds ${fdBefore} before, ${fdAfter} after (margin ${FD_MARGIN})`);
    assert.ok(rssAfter - rssBefore < RSS_GROWTH_LIMIT, `relay RSS grew by ${mib(rssAfter - rssBefore)} MiB in all`);
    const lastRound = rounds[ROUNDS - 1].rss - rounds[ROUNDS - 2].rss;
    assert.ok(lastRound < RSS_ROUND_GROWTH_LIMIT, `relay RSS grew by ${mib(lastRound)} MiB in the last round alone`);
    assert.ok(
      heapAfter.lowest <= heapBefore + HEAP_GROWTH_LIMIT,
      `relay heap in use ${mib(heapAfter.lowest)} MiB at its lowest in ${HEAP_WAIT_MS} ms after the churn, ${mib(heapBefore)} MiB after the warm-up`,
    );
  });

  test('a client killed with SIGKILL mid-transfer: the relay drops its tunnel and every descriptor it held', async (t) => {
    for (const old of clients.splice(0)) await old.proc.stop();
    await waitStatus(relay.port, 'earlier tunnels gone', (s) => s.totals.tunnels === 0, DEAD_TUNNEL_WAIT_MS);
    const fdIdle = await fdCount(relay.pid);

    const client = await startClient();
    await waitStatus(relay.port, 'the tunnel', (s) => s.totals.tunnels === 1);
    const sockets = await openDownloads(client.socksPort, IN_FLIGHT);
    try {
      await waitStatus(relay.port, 'the downloads open', (s) => s.totals.streams === IN_FLIGHT);
      const fdBusy = await fdCount(relay.pid);
      client.proc.signal('SIGKILL');
      const killedAt = Date.now();
      await waitStatus(relay.port, 'the dead tunnel dropped', (s) => s.totals.tunnels === 0 && s.totals.streams === 0, DEAD_TUNNEL_WAIT_MS);
      const droppedMs = Date.now() - killedAt;
      await waitFor(() => source.sockets.size === 0, { what: 'the relay to close its target connections', timeoutMs: DEAD_TUNNEL_WAIT_MS });
      const fdAfter = await fdCount(relay.pid);
      t.diagnostic(`relay fds idle ${fdIdle}, with ${IN_FLIGHT} downloads ${fdBusy}, after SIGKILL ${fdAfter}; tunnel dropped in ${droppedMs} ms`);
      assert.ok(fdAfter <= fdIdle + FD_MARGIN, `relay fds ${fdIdle} idle, ${fdAfter} after the kill`);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });

  test('a client frozen with SIGSTOP mid-transfer: the relay declares the tunnel dead within the keepalive bound', async (t) => {
    const fdIdle = await fdCount(relay.pid);
    const client = await startClient();
    await waitStatus(relay.port, 'the tunnel', (s) => s.totals.tunnels === 1);
    const sockets = await openDownloads(client.socksPort, IN_FLIGHT);
    try {
      client.proc.signal('SIGSTOP');
      const frozenAt = Date.now();
      // A frozen peer leaves its TCP connection open: only the relay's keepalive can notice.
      await waitStatus(relay.port, 'the silent tunnel dropped', (s) => s.totals.tunnels === 0 && s.totals.streams === 0, DEAD_TUNNEL_WAIT_MS);
      const droppedMs = Date.now() - frozenAt;
      await waitFor(() => source.sockets.size === 0, { what: 'the relay to close its target connections', timeoutMs: DEAD_TUNNEL_WAIT_MS });
      const fdAfter = await fdCount(relay.pid);
      t.diagnostic(`relay fds idle ${fdIdle}, after the frozen tunnel was dropped ${fdAfter}; dropped ${droppedMs} ms after SIGSTOP`);
      assert.ok(fdAfter <= fdIdle + FD_MARGIN, `relay fds ${fdIdle} idle, ${fdAfter} after the drop`);
      const status = await relayStatus(relay.port);
      assert.equal(status.tunnels.length, 0);
    } finally {
      client.proc.signal('SIGKILL'); // delivered to a stopped process too
      for (const socket of sockets) socket.destroy();
    }
  });
});
