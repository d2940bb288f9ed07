/**
 * A real `sockbridge relay --workers N` process with its status routes on --admin-listen,
 * logging at info so the primary's "worker started pid=…" lines can be read; plus in-process
 * clients (the real client code) whose tunnels the primary spreads over the workers.
 */
import { startClient, type Client } from '../../../client/client.js';
import { createLogger } from '../../../common/log.js';
import type { StatusSnapshot } from '../../../server/status/snapshot.js';
import { CliProcess } from './cli-process.js';
import { freePort, getJson, STACK_TOKEN } from './cli-stack.js';
import { LOOPBACK_ALLOW_FLAGS } from '../fixtures/loopback-rules.js';
import { ADMIN_TOKEN } from '../status/status-http.js';
import { waitFor } from '../io/waiting.js';

const START_WAIT_MS = 20_000;

export interface WorkersRelay {
  proc: CliProcess;
  port: number;
  adminPort: number;
  url: string;
}

export async function startWorkersRelay(workers: number, extra: string[] = []): Promise<WorkersRelay> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const args = ['relay', '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--token', STACK_TOKEN, '--admin-token', ADMIN_TOKEN];
  const proc = new CliProcess([...args, ...LOOPBACK_ALLOW_FLAGS, '--workers', String(workers), '--log-level', 'info', ...extra]);
  const relay = { proc, port, adminPort, url: `ws://127.0.0.1:${port}/tunnel` };
  try {
    await waitWorkers(relay, 'every worker to answer', (status) => status.workers?.length === workers, START_WAIT_MS);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return relay;
}

/** /api/status on the admin listener: whichever worker takes the connection answers. */
export function workersStatus(relay: WorkersRelay): Promise<StatusSnapshot> {
  return getJson<StatusSnapshot>(relay.adminPort, '/api/status');
}

export function waitWorkers(relay: WorkersRelay, what: string, check: (status: StatusSnapshot) => boolean, timeoutMs = 10_000): Promise<StatusSnapshot> {
  return waitFor(
    async () => {
      if (relay.proc.child.exitCode !== null) throw new Error(`relay exited:\n${relay.proc.output}`);
      const status = await workersStatus(relay).catch(() => undefined);
      return status !== undefined && check(status) ? status : undefined;
    },
    { what: () => `${what}:\n${relay.proc.output.slice(-2_000)}`, timeoutMs },
  );
}

/** The primary's log: pid of every worker it started, in order. */
export function startedWorkerPids(relay: WorkersRelay): number[] {
  return [...relay.proc.output.matchAll(/worker started pid=(\d+)/g)].map((match) => Number(match[1]));
}

/** A client in this process with its tunnel up. */
export async function startTunnelClient(relayUrl: string, token = STACK_TOKEN): Promise<Client> {
  const client = await startClient({ relayUrl, token, socks: { host: '127.0.0.1', port: 0 }, logger: createLogger('client', 'silent') });
  await client.tunnel.getSession();
  return client;
}
