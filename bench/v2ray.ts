/**
 * The bench's peer route: V2Ray (v2fly, MIT) as users run it against censorship, a SOCKS5
 * inbound on the client, VLESS over one WebSocket to the server, mux.cool on (every stream
 * of the client shares that WebSocket, as sockbridge's do), and the server's freedom
 * outbound dialing the targets. VLESS with "encryption": "none" is the plain-ws:// match of
 * sockbridge's route: no cipher beyond what TLS would add. Its SOCKS inbound replies before
 * the server has dialed, as sockbridge's fast open does for a remembered destination.
 *
 * The binary is `v2ray` on PATH (Debian: apt-get install v2ray), or BENCH_V2RAY=/path;
 * without one the route is left out and the report says how to get it. Both V2Ray 4
 * (`v2ray -config F`) and 5 (`v2ray run -c F`) take this v4-style JSON.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTcp } from './net-io.js';
import { startCommand, type Managed } from './processes.js';
import { TARGET_HOST } from './route.js';
import type { HostPort } from './socks5.js';
import type { StackMiddle } from './stack.js';

const START_TIMEOUT_MS = 10_000;
const VERSION_TIMEOUT_MS = 5_000;
const STARTED_LINE = /V2Ray [\d.]+ started/;
const TUNNEL_PATH = '/tunnel';
/** mux.cool's streams per WebSocket; the bench's routes open at most a few at once. */
const MUX_CONCURRENCY = 8;

export interface V2rayBinary {
  path: string;
  /** "4.34.0" */
  version: string;
}

export interface V2rayRoute {
  socks: HostPort;
  stop(): Promise<void>;
}

/** What to install when V2Ray is missing: the report's note names it. */
export const V2RAY_MISSING = 'v2ray is not installed (Debian: apt-get install v2ray, or BENCH_V2RAY=/path/to/v2ray)';

/** The V2Ray binary and its version, or null when there is none to run. */
export async function findV2ray(): Promise<V2rayBinary | null> {
  const path = process.env.BENCH_V2RAY || 'v2ray';
  // V2Ray 4 takes `-version`; given `version` it would start with its default config. V2Ray 5 takes `version`.
  for (const args of [['-version'], ['version']]) {
    const output = await new Promise<string | null>((resolve) =>
      execFile(path, args, { timeout: VERSION_TIMEOUT_MS }, (err, stdout) => resolve(err ? null : stdout)),
    );
    const version = output && /V2Ray ([\d.]+)/.exec(output)?.[1];
    if (version) return { path, version };
  }
  return null;
}

/**
 * Starts a V2Ray server and client on loopback; `between` may put something (the link
 * emulator) between the client and the server's port.
 */
export async function startV2rayMux(binary: V2rayBinary, between?: (serverPort: number) => Promise<StackMiddle>): Promise<V2rayRoute> {
  const dir = await mkdtemp(join(tmpdir(), 'sockbridge-bench-v2ray-'));
  const id = randomUUID();
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const serverPort = await freeLoopbackPort();
    started.push(await startV2ray('v2ray server', binary, join(dir, 'server.json'), serverConfig(serverPort, id)));
    const middle = between ? await between(serverPort) : null;
    if (middle) started.push(middle);
    const socksPort = await freeLoopbackPort();
    started.push(await startV2ray('v2ray client', binary, join(dir, 'client.json'), clientConfig(socksPort, middle?.port ?? serverPort, id)));
    // "started" comes once the inbound is set up; a connect proves it listens.
    (await connectTcp(TARGET_HOST, socksPort, START_TIMEOUT_MS)).destroy();
    return { socks: { host: TARGET_HOST, port: socksPort }, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function startV2ray(name: string, binary: V2rayBinary, file: string, config: object): Promise<Managed> {
  await writeFile(file, JSON.stringify(config, null, 2));
  const major = Number(binary.version.split('.')[0]);
  const proc = startCommand(name, binary.path, major >= 5 ? ['run', '-c', file] : ['-config', file]);
  try {
    await proc.waitForLine(STARTED_LINE, START_TIMEOUT_MS);
    return proc;
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

/** Warnings only (its "started" line is one); no access log, which would cost it a write per connection. */
const LOG = { loglevel: 'warning', access: 'none' };
const WEBSOCKET = { network: 'ws', wsSettings: { path: TUNNEL_PATH } };

function serverConfig(port: number, id: string): object {
  return {
    log: LOG,
    inbounds: [{ listen: TARGET_HOST, port, protocol: 'vless', settings: { clients: [{ id }], decryption: 'none' }, streamSettings: WEBSOCKET }],
    outbounds: [{ protocol: 'freedom' }],
  };
}

function clientConfig(socksPort: number, serverPort: number, id: string): object {
  return {
    log: LOG,
    inbounds: [{ listen: TARGET_HOST, port: socksPort, protocol: 'socks', settings: { auth: 'noauth', udp: false } }],
    outbounds: [
      {
        protocol: 'vless',
        settings: { vnext: [{ address: TARGET_HOST, port: serverPort, users: [{ id, encryption: 'none' }] }] },
        streamSettings: WEBSOCKET,
        mux: { enabled: true, concurrency: MUX_CONCURRENCY },
      },
    ],
  };
}

/** A port nobody listens on now: V2Ray takes its ports from the config and cannot report one it chose. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, TARGET_HOST, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
