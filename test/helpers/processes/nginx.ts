/**
 * nginx as a TLS-terminating reverse proxy in front of a plain ws:// relay, run in the
 * foreground from a temporary prefix (config, pid, logs and temp paths all inside it).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './cli-stack.js';
import { startFrontProcess } from './front-process.js';

const INSTALL_TIMEOUT_MS = 300_000;

function hasNginx(): boolean {
  return spawnSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' }).status === 0;
}

/**
 * Why nginx tests must be skipped, or false when nginx is there. Under CI=true or
 * SOCKBRIDGE_INSTALL_NGINX=1 a missing nginx is installed with apt-get first (synchronously:
 * nothing else runs in this process yet).
 */
export function nginxMissing(): string | false {
  if (hasNginx()) return false;
  if (process.env.CI === 'true' || process.env.SOCKBRIDGE_INSTALL_NGINX === '1') {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('sh', ['-c', 'apt-get update && apt-get install -y nginx'], { stdio: 'ignore', env, timeout: INSTALL_TIMEOUT_MS });
    if (hasNginx()) return false;
    return 'nginx not installed (apt-get install -y nginx failed here): nginx tests skipped';
  }
  return 'nginx not installed: apt-get install -y nginx';
}

export interface NginxOptions {
  /** The relay's plain ws:// port on 127.0.0.1. */
  upstreamPort: number;
  certFile: string;
  keyFile: string;
  /**
   * As the README's CDN section sets nginx up: /tunnel is served only for this Host (other
   * names get 421 from a default server), and the relay is told the Host and the SNI nginx saw
   * (Host, X-Forwarded-Sni); other request headers pass through as nginx always passes them.
   */
  serverName?: string;
}

export interface Nginx {
  port: number;
  prefix: string;
  child: ChildProcess;
  /** Everything nginx printed on stderr (its error log goes there too). */
  readonly output: string;
  stop(): Promise<void>;
}

/** The configuration the README's "Behind nginx" section shows, with every path in `prefix`. */
export function nginxConfig(prefix: string, port: number, options: NginxOptions): string {
  // A root master would hand requests to workers running as "nobody", who cannot write to the
  // 0700 temporary prefix; as any other user the directive is meaningless, so leave it out.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `
${user}
daemon off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log ${join(prefix, 'access.log')};
  client_body_temp_path ${join(prefix, 'client_body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${options.serverName ?? 'localhost'};
    ssl_certificate ${options.certFile};
    ssl_certificate_key ${options.keyFile};
    location /tunnel {
      proxy_pass http://127.0.0.1:${options.upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";${options.serverName === undefined ? '' : FRONTED_HEADERS}
      proxy_read_timeout 120s;
      proxy_buffering off;
    }
  }${options.serverName === undefined ? '' : defaultServer(port, options)}
}
`;
}

/** Without these nginx sends the relay its own upstream address as Host, and no SNI at all. */
const FRONTED_HEADERS = `
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Sni $ssl_server_name;`;

/** Any other Host: 421 Misdirected Request (RFC 9110 §15.5.20), as a CDN answers a name it does not serve. */
function defaultServer(port: number, options: NginxOptions): string {
  return `
  server {
    listen 127.0.0.1:${port} ssl default_server;
    server_name _;
    ssl_certificate ${options.certFile};
    ssl_certificate_key ${options.keyFile};
    return 421;
  }`;
}

/** Starts nginx on a free 127.0.0.1 port; resolves once it accepts connections. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const prefix = await mkdtemp(join(tmpdir(), 'sockbridge-nginx-'));
  const port = await freePort();
  const confFile = join(prefix, 'nginx.conf');
  await writeFile(confFile, nginxConfig(prefix, port, options));
  // -e: the early error log, before the config is read, must not be /var/log/nginx.
  const front = await startFrontProcess('nginx', 'nginx', ['-p', prefix, '-c', confFile, '-e', 'stderr'], port, prefix);
  return {
    port,
    prefix,
    child: front.child,
    get output() {
      return front.output;
    },
    stop: () => front.stop(),
  };
}
