/**
 * --workers N: a tunnel slot the primary grants after the worker's deadline. The worker has
 * refused the client by then; it must give the slot straight back (or the user stays locked
 * out on every worker until this one restarts), and refuse with 503 and a log line saying the
 * primary did not answer, not with the over-the-limit 429. A real primary (startPrimary)
 * forks a real worker (slot-stall-worker.ts) and they talk over node:cluster's IPC channel;
 * the client is a real WebSocket client.
 */
import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { createLogger } from '../../common/log.js';
import { WS_SUBPROTOCOL } from '../../protocol/frame.js';
import { startPrimary, type RelayPrimary } from '../../server/cluster/primary.js';
import { HttpStatus } from '../../server/http-status.js';
import { ErrorReason } from '../../server/status/error-reasons.js';
import { SlotFixtureMsg } from '../helpers/processes/slot-stall-worker.js';
import { withTimeout } from '../helpers/io/waiting.js';

const DEADLINE_MS = 100;
/** Well past the deadline: the primary's answer is in the pipe long before the loop runs again. */
const STALL_MS = 500;
const USER = 'alice';
const TOKEN = 'alice-token-not-secret';
const WAIT_MS = 10_000;
const SWITCHING_PROTOCOLS = 101;

interface Upgrade {
  status: number;
  ws: WebSocket;
}

/** One tunnel upgrade as the user: 101 when it became a tunnel, else the HTTP status the relay answered. */
function upgrade(port: number): Promise<Upgrade> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/tunnel`, [WS_SUBPROTOCOL], { headers: { Authorization: `Bearer ${TOKEN}` } });
  const answered = new Promise<Upgrade>((resolve, reject) => {
    ws.once('open', () => resolve({ status: SWITCHING_PROTOCOLS, ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, ws }));
    ws.once('error', reject);
  });
  return withTimeout(answered, { what: 'the answer to a tunnel upgrade', timeoutMs: WAIT_MS }).finally(() => ws.on('error', () => {}));
}

/** The next fixture message of type `t` from any worker. */
function fromWorker<T>(t: string): Promise<{ worker: Worker; message: T }> {
  const heard = new Promise<{ worker: Worker; message: T }>((resolve) => {
    const onMessage = (worker: Worker, message: { t?: unknown }): void => {
      if (message?.t !== t) return;
      cluster.off('message', onMessage);
      resolve({ worker, message: message as T });
    };
    cluster.on('message', onMessage);
  });
  return withTimeout(heard, { what: `the worker's ${t}`, timeoutMs: WAIT_MS });
}

describe('--workers: a tunnel slot granted after the worker gave up waiting', () => {
  let primary: RelayPrimary | null = null;
  let worker: Worker;
  let port: number;
  let workerLog = '';
  const sockets: WebSocket[] = [];

  before(async () => {
    const exec = fileURLToPath(new URL('../helpers/processes/slot-stall-worker.js', import.meta.url));
    cluster.setupPrimary({ exec, args: [String(DEADLINE_MS), String(STALL_MS), USER, TOKEN], silent: true });
    cluster.on('fork', (forked) => {
      forked.process.stdout?.resume();
      forked.process.stderr?.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));
    });
    const listening = fromWorker<{ port: number }>(SlotFixtureMsg.Listening);
    primary = startPrimary({ workers: 1, logger: createLogger('primary', 'silent') });
    ({ worker, message: { port } } = await listening);
  });

  after(async () => {
    for (const ws of sockets) ws.terminate();
    if (primary === null) return;
    await withTimeout(primary.stop(), { what: 'the worker to stop', timeoutMs: WAIT_MS }).catch((err: unknown) => {
      for (const left of Object.values(cluster.workers ?? {})) left?.process.kill('SIGKILL');
      throw err;
    });
  });

  test('the late grant is given back: the same user (maxTunnels 1) gets the next tunnel', async () => {
    const first = await upgrade(port);
    sockets.push(first.ws);
    assert.equal(first.status, HttpStatus.ServiceUnavailable, `the timed-out request: 503, not 429\n${workerLog}`);
    const second = await upgrade(port);
    sockets.push(second.ws);
    assert.equal(second.status, SWITCHING_PROTOCOLS, `the slot came back, so the next tunnel is accepted\n${workerLog}`);
  });

  test('the refusal is logged and counted as an unanswered primary, not as too many tunnels', async () => {
    const answer = fromWorker<{ errors: Record<string, number> }>(SlotFixtureMsg.Errors);
    worker.send({ t: SlotFixtureMsg.Errors });
    const { errors } = (await answer).message;
    assert.equal(errors[ErrorReason.TunnelsPerToken], undefined, JSON.stringify(errors));
    assert.equal(errors[ErrorReason.ClusterPrimaryUnanswered], 1, JSON.stringify(errors));
    assert.match(workerLog, new RegExp(`tunnel refused \\(503\\): the relay primary did not answer within ${DEADLINE_MS} ms token=${USER}`));
    assert.match(workerLog, /granted a tunnel slot after the deadline; given back token=alice/);
    assert.doesNotMatch(workerLog, /too many tunnels/);
  });
});
