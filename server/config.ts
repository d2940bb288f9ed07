/** The relay's settings: one object with defaults, and a check that names the bad setting. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS } from '../protocol/session.js';
import { INITIAL_STREAM_WINDOW, MAX_FRAME_SIZE, MIN_FRAME_SIZE_LIMIT, TUNNEL_PATH, type Address } from '../protocol/frame.js';
import type { Logger } from '../common/log.js';
import { MAX_PORT, isValidPortRange, type PortRange } from '../common/port-range.js';
import { UDP_REPLY_FILTERS, type UdpReplyFilter } from './dialers/udp.js';
import type { TargetRule } from './policy/target-rule.js';
import type { UsersFile } from './tunnel/users-file.js';
import { digestSecret } from '../common/secrets.js';
import { checkPositive, ConfigError } from '../common/config-error.js';
import { formatHostPort } from '../common/host-port.js';
import { checkKeepaliveConfig } from '../common/keepalive-config.js';
import { checkWindowConfig, WINDOW_DEFAULTS, type WindowConfig } from '../common/window-config.js';

export { checkPositive, ConfigError };

export interface RelayConfig extends WindowConfig {
  /** Where the HTTP/WebSocket listener binds. Loopback unless told otherwise. */
  listen: Address;
  /** The path where the tunnel is served; a long random one keeps scanners from finding it. */
  path: string;
  /**
   * http(s):// origin that gets every public request which is not an authenticated tunnel
   * upgrade on `path`, reverse-proxied; null: those get a plain 404. See fallback/.
   */
  fallback: string | null;
  /** A listener of its own for the status page, its API, /metrics and /healthz; null: none. */
  adminListen: Address | null;
  /** Tunnel tokens; a client must present one of them (or a token of `users`). */
  tokens: string[];
  /** Named users from --users FILE, already parsed; null for none. Replaced at run time by Relay.reconfigure. */
  users: UsersFile | null;
  /** How long a dial to a target may take. */
  dialTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
  /** Address announced in BIND replies, for a relay behind NAT or a load balancer. */
  publicAddress: string | null;
  /** Ports BIND may listen on; null for any. */
  bindPorts: PortRange | null;
  /** How long a BIND waits for its one incoming connection (the SOCKS4 note suggests 2 minutes). */
  bindTimeoutMs: number;
  /** Which sources may send into a UDP association: those the client sent to (default), or any. */
  udpReplies: UdpReplyFilter;
  /** Per-tunnel limits: open streams, BIND listeners, UDP associations. */
  maxStreamsPerTunnel: number;
  maxBindsPerTunnel: number;
  maxUdpPerTunnel: number;
  /** Tunnels one token may hold at once. */
  maxTunnelsPerToken: number;
  /** How long a client may take to send its HTTP upgrade headers, and then its HELLO. */
  handshakeTimeoutMs: number;
  /** A stream with no DATA either way for this long is reset (ResetCode.Limit, 'idle timeout'). */
  idleTimeoutMs: number;
  /** Bytes one tunnel may hold received from the client but not yet taken by target sockets. */
  maxPendingBytes: number;
  /** The largest frame (WebSocket message) a client may send; announced in HELLO so the client splits DATA to fit. */
  maxFrameSize: number;
  /** Operator rules (--allow/--deny), in order, ahead of the safe default that refuses private ranges. */
  rules: readonly TargetRule[];
  /** Guards the status page, its API and /metrics; null turns them off (404). Never a tunnel token. */
  adminToken: string | null;
  /** PEM certificate chain and key: serve https:// and wss:// instead of http:// and ws://. Null for plain. */
  tls: RelayTls | null;
  /** --wisp: serve the Wisp protocol to web pages at /wisp/TOKEN/ (server/wisp/). */
  wisp: boolean;
  /** --wisp-udp: Wisp UDP streams too (off: UDP through open relays is abused). */
  wispUdp: boolean;
  logger?: Logger;
}

/** --tls-cert and --tls-key, already read from their files. */
export interface RelayTls {
  cert: string | Buffer;
  key: string | Buffer;
}

export const RELAY_DEFAULTS = {
  listen: { host: '127.0.0.1', port: 8080 },
  path: TUNNEL_PATH,
  fallback: null,
  adminListen: null,
  dialTimeoutMs: 10_000,
  keepaliveIntervalMs: DEFAULT_KEEPALIVE_INTERVAL_MS,
  keepaliveTimeoutMs: DEFAULT_KEEPALIVE_TIMEOUT_MS,
  publicAddress: null,
  bindPorts: null,
  bindTimeoutMs: 120_000,
  udpReplies: 'contacted',
  rules: [],
  users: null,
  // 10,000 idle streams on one tunnel must work (bench #5); beyond 16,384 a client is likely leaking.
  maxStreamsPerTunnel: 16_384,
  maxBindsPerTunnel: 64,
  maxUdpPerTunnel: 64,
  maxTunnelsPerToken: 32,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 3_600_000,
  // 64 streams' full receive windows (1 MiB each) before one is shed.
  maxPendingBytes: 64 * 1024 * 1024,
  maxFrameSize: MAX_FRAME_SIZE,
  adminToken: null,
  tls: null,
  wisp: false,
  wispUdp: false,
  ...WINDOW_DEFAULTS,
} as const;

export function resolveRelayConfig(partial: Partial<RelayConfig> & { tokens: string[] }): RelayConfig {
  const config: RelayConfig = { ...RELAY_DEFAULTS, ...partial };
  if (config.tokens.length === 0 && config.users === null) {
    throw new ConfigError('--token', 'at least one tunnel token is required (or set SOCKBRIDGE_TOKEN, or give --users FILE)');
  }
  if (config.tokens.some((token) => token.length === 0)) throw new ConfigError('--token', 'a token must not be empty');
  if (config.adminToken !== null) {
    if (config.adminToken.length === 0) throw new ConfigError('--admin-token', 'must not be empty');
    if (config.tokens.includes(config.adminToken)) throw new ConfigError('--admin-token', 'must differ from every tunnel token');
    checkUsersAgainstAdminToken(config.users, config.adminToken);
  }
  checkTunnelPath(config.path);
  if (config.fallback !== null) checkFallback(config.fallback);
  if (config.adminListen !== null) checkAdminListen(config.adminListen, config.listen);
  checkPositive('--dial-timeout', config.dialTimeoutMs);
  checkKeepaliveConfig(config);
  checkPositive('--bind-timeout', config.bindTimeoutMs);
  if (!UDP_REPLY_FILTERS.includes(config.udpReplies)) {
    throw new ConfigError('--udp-replies', `expected ${UDP_REPLY_FILTERS.join(' or ')}, got "${String(config.udpReplies)}"`);
  }
  checkPositive('--max-streams', config.maxStreamsPerTunnel);
  checkPositive('--max-binds', config.maxBindsPerTunnel);
  checkPositive('--max-udp', config.maxUdpPerTunnel);
  checkPositive('--max-tunnels-per-token', config.maxTunnelsPerToken);
  checkPositive('--handshake-timeout', config.handshakeTimeoutMs);
  checkPositive('--idle-timeout', config.idleTimeoutMs);
  checkPositive('--max-pending-bytes', config.maxPendingBytes);
  if (!Number.isInteger(config.maxPendingBytes)) throw new ConfigError('--max-pending-bytes', `must be a whole number of bytes, got ${config.maxPendingBytes}`);
  checkFrameSize(config.maxFrameSize);
  checkWindowConfig(config);
  if (config.tls !== null) checkTls(config.tls);
  if (config.wispUdp && !config.wisp) throw new ConfigError('--wisp-udp', 'needs --wisp');
  const ports = config.bindPorts;
  if (ports && !isValidPortRange(ports)) {
    throw new ConfigError('--bind-ports', `expected LOW-HIGH within 1-${MAX_PORT}, got ${ports.low}-${ports.high}`);
  }
  return config;
}

/**
 * The window settings a relay's sessions use: --max-pending-bytes is what a tunnel may
 * actually hold for its target sockets, so neither one stream's window nor the tunnel's growth
 * may promise the client more than that.
 */
export function relayWindowConfig(config: RelayConfig): WindowConfig {
  return {
    windowBudget: Math.min(config.windowBudget, config.maxPendingBytes),
    maxStreamWindow: Math.max(INITIAL_STREAM_WINDOW, Math.min(config.maxStreamWindow, config.maxPendingBytes)),
  };
}

/**
 * A user whose token is the admin token could read every tunnel's status with it, so no user
 * may have it: checked at startup and on every reload of --users.
 */
export function checkUsersAgainstAdminToken(users: UsersFile | null, adminToken: string | null): void {
  if (users === null || adminToken === null) return;
  const adminDigest = digestSecret(adminToken);
  const user = users.users.find((entry) => entry.tokenSha256.equals(adminDigest));
  if (user) throw new ConfigError('--admin-token', `must differ from every token in --users, but user "${user.name}" has it`);
}

/** A path the relay's own URL parsing would rewrite (dot segments, a query) could never match. */
function checkTunnelPath(path: string): void {
  if (!path.startsWith('/')) throw new ConfigError('--path', `must start with "/", got "${path}"`);
  let parsed: URL | null = null;
  try {
    parsed = new URL(path, 'http://relay');
  } catch {
    // reported below
  }
  if (parsed === null || parsed.pathname !== path || path.startsWith('//')) {
    throw new ConfigError('--path', `must be a plain URL path (no query, fragment, spaces or dot segments), got "${path}"`);
  }
}

/** Wildcard hosts: a listener on one takes the port on every address. */
const ANY_HOST = new Set(['0.0.0.0', '::', '']);

/** The admin listener on the public address would either fail to bind or put the status page back on the public port. */
function checkAdminListen(admin: Address, listen: Address): void {
  const overlaps = admin.host === listen.host || ANY_HOST.has(admin.host) || ANY_HOST.has(listen.host);
  if (admin.port !== 0 && admin.port === listen.port && overlaps) {
    throw new ConfigError('--admin-listen', `must differ from --listen (${formatHostPort(listen)}): the admin routes need a listener of their own`);
  }
}

function checkFallback(fallback: string): void {
  let url: URL;
  try {
    url = new URL(fallback);
  } catch {
    throw new ConfigError('--fallback', `"${fallback}" is not a URL (expected http://HOST[:PORT] or https://HOST[:PORT])`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('--fallback', `must be an http:// or https:// URL, got "${fallback}"`);
  if (url.username !== '' || url.password !== '') throw new ConfigError('--fallback', 'must not carry a user name or password');
  if (url.search !== '' || url.hash !== '') throw new ConfigError('--fallback', `must not have a query or fragment, got "${fallback}"`);
}

function checkFrameSize(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < MIN_FRAME_SIZE_LIMIT || bytes > MAX_FRAME_SIZE) {
    throw new ConfigError('--max-frame-size', `must be a whole number of bytes from ${MIN_FRAME_SIZE_LIMIT} to ${MAX_FRAME_SIZE}, got ${bytes}`);
  }
}

/**
 * A cert and key node cannot use (not PEM, or not a pair) fail here, not at the first handshake.
 * node:crypto rather than tls.createSecureContext: an ES import of node:tls reads
 * tls.rootCertificates onto the heap, and with the relay's larger module graph that was
 * enough (measured) to tip V8 into a full GC every ~50 ms during bulk transfers.
 */
function checkTls(tls: RelayTls): void {
  let matches: boolean;
  try {
    matches = new X509Certificate(tls.cert).checkPrivateKey(createPrivateKey(tls.key));
  } catch (err) {
    throw new ConfigError('--tls-cert', `the certificate and --tls-key are not a usable pair: ${(err as Error).message}`);
  }
  if (!matches) throw new ConfigError('--tls-cert', 'the certificate and --tls-key are not a usable pair: the key does not belong to the certificate');
}
