/**
 * HAProxy (Debian's `haproxy`) as the one front of several relays, configured as the
 * README's "Several cores and several relays" section shows, run in the foreground from a
 * temporary directory.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './cli-stack.js';
import { startFrontProcess } from './front-process.js';

const INSTALL_TIMEOUT_MS = 300_000;
/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
const SBIN_HAPROXY = '/usr/sbin/haproxy';

function haproxyPath(): string | null {
  if (spawnSync('sh', ['-c', 'command -v haproxy'], { stdio: 'ignore' }).status === 0) return 'haproxy';
  return existsSync(SBIN_HAPROXY) ? SBIN_HAPROXY : null;
}

/**
 * Why the haproxy test must be skipped, or false when haproxy is there. Under CI=true a
 * missing haproxy is installed with apt-get first; if that fails there, the test fails
 * instead of skipping (the caller checks CI).
 */
export function haproxyMissing(): string | false {
  if (haproxyPath() !== null) return false;
  if (process.env.CI === 'true' || process.env.SOCKBRIDGE_INSTALL_HAPROXY === '1') {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('sh', ['-c', 'apt-get update && apt-get install -y haproxy'], { stdio: 'ignore', env, timeout: INSTALL_TIMEOUT_MS });
    if (haproxyPath() !== null) return false;
    return 'haproxy not installed (apt-get install -y haproxy failed here): haproxy test skipped';
  }
  return 'haproxy not installed: apt-get install -y haproxy';
}

export interface Backend {
  /** The relay's --listen port (tunnels). */
  port: number;
  /** Its --admin-listen port, where /healthz is checked. */
  adminPort: number;
}

export interface Haproxy {
  port: number;
  child: ChildProcess;
  readonly output: string;
  stop(): Promise<void>;
}

/** The README's configuration, with loopback addresses and a quick health check for the test. */
export function haproxyConfig(frontPort: number, backends: readonly Backend[]): string {
  const servers = backends.map((b, i) => `  server relay${i + 1} 127.0.0.1:${b.port} check port ${b.adminPort} inter 500ms fall 2 rise 2`).join('\n');
  return `
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-request 10s
  # once upgraded to a WebSocket, a tunnel may stay quiet between keepalives for this long
  timeout tunnel 1h
  retries 2
  option redispatch

frontend sockbridge
  bind 127.0.0.1:${frontPort}
  default_backend relays

backend relays
  balance leastconn
  # HTTP/1.1 with a Host: the relay answers a request without one 400
  option httpchk
  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host relay
  http-check expect status 200
${servers}
`;
}

/** Starts haproxy on a free 127.0.0.1 port; resolves once it accepts connections. */
export async function startHaproxy(backends: readonly Backend[]): Promise<Haproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'sockbridge-haproxy-'));
  const port = await freePort();
  const confFile = join(dir, 'haproxy.cfg');
  await writeFile(confFile, haproxyConfig(port, backends));
  // -db: stay in the foreground; -f: this file only.
  const front = await startFrontProcess('haproxy', haproxyPath() ?? 'haproxy', ['-db', '-f', confFile], port, dir);
  return {
    port,
    child: front.child,
    get output() {
      return front.output;
    },
    stop: () => front.stop(),
  };
}
