/**
 * Real `sockbridge relay` and `sockbridge client` processes at --log-level warn (so no
 * "listening" line to parse): ports are picked free beforehand and readiness is polled
 * over /healthz, /api/status and the SOCKS port. Plus what /proc says about a process.
 */
import { request } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import type { StatusSnapshot } from '../../../server/status/snapshot.js';
import { CliProcess } from './cli-process.js';
import { LOOPBACK_ALLOW_FLAGS } from '../fixtures/loopback-rules.js';
import { connectTcp } from '../io/socket-io.js';
import { ADMIN_TOKEN, bearer } from '../status/status-http.js';
import { waitFor } from '../io/waiting.js';

export const STACK_TOKEN = 'cli-stack-token-not-secret';
const START_WAIT_MS = 15_000;

/** A port free on 127.0.0.1 right now (bound to 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * GET on the relay without keep-alive (agent: false sends "Connection: close"), so that
 * polling the status leaves no idle HTTP connection, and no descriptor, in the relay.
 */
export async function getJson<T>(port: number, path: string, token = ADMIN_TOKEN, timeoutMs = 5_000): Promise<T> {
  return JSON.parse(await getText(port, path, token, timeoutMs)) as T;
}

/** GET on the relay, as getJson, returning the body as text. */
export function getText(port: number, path: string, token = ADMIN_TOKEN, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { authorization: bearer(token) }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (text: string) => (body += text));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path} answered ${res.statusCode}`));
        else resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export function relayStatus(port: number): Promise<StatusSnapshot> {
  return getJson<StatusSnapshot>(port, '/api/status');
}

export interface RelayProcess {
  proc: CliProcess;
  port: number;
  pid: number;
}

/** A relay on plain ws:// with an admin token and loopback allowed; resolves once /healthz answers. */
export async function startRelayProcess(extra: string[] = []): Promise<RelayProcess> {
  const port = await freePort();
  const args = ['relay', '--listen', `127.0.0.1:${port}`, '--token', STACK_TOKEN, '--admin-token', ADMIN_TOKEN, ...LOOPBACK_ALLOW_FLAGS, '--log-level', 'warn', ...extra];
  const proc = new CliProcess(args);
  try {
    await waitFor(() => (proc.child.exitCode === null ? relayStatus(port).then(() => true) : Promise.reject(new Error(proc.output))), { what: 'the relay to answer', timeoutMs: START_WAIT_MS });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, port, pid: proc.child.pid! };
}

export interface ClientProcess {
  proc: CliProcess;
  socksPort: number;
}

/** A client process whose SOCKS listener accepts connections (the tunnel may still be coming up). */
export async function startClientProcess(relayUrl: string, extra: string[] = []): Promise<ClientProcess> {
  const socksPort = await freePort();
  const proc = new CliProcess(['client', '--relay', relayUrl, '--token', STACK_TOKEN, '--socks', `127.0.0.1:${socksPort}`, '--log-level', 'warn', ...extra]);
  try {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`client exited:\n${proc.output}`);
        const socket = await connectTcp(socksPort);
        socket.destroy();
        return true;
      },
      { what: 'the SOCKS listener', timeoutMs: START_WAIT_MS },
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, socksPort };
}

/** Waits until the relay's /api/status satisfies `check`; returns that snapshot. */
export function waitStatus(port: number, what: string, check: (status: StatusSnapshot) => boolean, timeoutMs = 10_000): Promise<StatusSnapshot> {
  return waitFor(async () => {
    const status = await relayStatus(port);
    return check(status) ? status : undefined;
  }, { what, timeoutMs });
}

/** The relay's V8 heap in use, in bytes: prom-client's nodejs_heap_size_used_bytes on /metrics. */
export async function heapUsedBytes(port: number): Promise<number> {
  const metrics = await getText(port, '/metrics');
  const match = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(metrics);
  if (!match) throw new Error('no nodejs_heap_size_used_bytes on /metrics');
  return Number(match[1]);
}

/** Open file descriptors of a process (Linux /proc). */
export async function fdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Resident set size of a process in bytes (VmRSS in /proc/PID/status). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** True when /proc exists (Linux): the fd and RSS checks need it. */
export async function procAvailable(): Promise<boolean> {
  return readdir(`/proc/${process.pid}/fd`).then(
    () => true,
    () => false,
  );
}
