/** The client's settings: one object with defaults, and a check that names the bad setting. */
import { TUNNEL_PATH, type Address } from '../protocol/frame.js';
import { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS } from '../protocol/session.js';
import type { Logger } from '../common/log.js';
import { formatHostPort } from '../common/host-port.js';
import { checkPositive, ConfigError } from '../common/config-error.js';
import { checkKeepaliveConfig } from '../common/keepalive-config.js';
import type { Credentials } from '../common/secrets.js';
import { checkWindowConfig, WINDOW_DEFAULTS, type WindowConfig } from '../common/window-config.js';
import { FAST_OPEN_MODES, type FastOpenMode } from './fast-open.js';
import { DIRECT_DIAL_TIMEOUT_MS } from './outbound/direct-dial.js';
import type { RoutingRule } from './outbound/rules.js';
import { normalizeFingerprint } from '../common/relay-identity.js';
import { checkHeaders, checkHostFlag, checkSniFlag } from './upgrade-headers.js';
import { isLoopbackHost, MAX_TUNNELS } from './pool/constants.js';

/** --socks-user: the one user name and password SOCKS5 and HTTP proxy clients must present. */
export type SocksCredentials = Credentials;

export interface ClientConfig extends WindowConfig {
  /** ws:// or wss:// URL of the relay's tunnel endpoint: the first of relayUrls. */
  relayUrl: string;
  /** --relay, once or more: every relay's URL, the most preferred first (client/pool/). */
  relayUrls: readonly string[];
  /** --tunnels: how many WebSockets the client holds, spread over the relays. */
  tunnels: number;
  /** --tunnel-max-age: a tunnel older than this is drained and replaced; null: never. */
  tunnelMaxAgeMs: number | null;
  /** --status-listen: a loopback HTTP listener answering the tunnels' state as JSON; null for none. */
  statusListen: Address | null;
  token: string;
  /** Where the SOCKS listener binds. Loopback unless told otherwise. */
  socks: Address;
  /** When set, SOCKS5 clients must authenticate with these (RFC 1929) and no-auth is refused. */
  socksUser: SocksCredentials | null;
  /** A SOCKS handshake that has not completed by then is closed. */
  handshakeTimeoutMs: number;
  /** A UDP association with no datagram either way for this long is closed. */
  udpIdleTimeoutMs: number;
  /** How long a SOCKS request waits for the tunnel to come (back) up before failing with 0x01. */
  tunnelWaitMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
  /** --ca: PEM CA certificate(s) to trust for a wss:// relay instead of Node's bundle. */
  ca: string | Buffer | null;
  /** --fingerprint: the relay certificate's SHA-256 (hex, colons and case free); pins it. */
  fingerprint: string | null;
  /** --http-proxy: http://[user:pass@]host:port, reached with CONNECT. */
  httpProxy: string | null;
  /** --host: the upgrade request's Host header, for a CDN or fronting domain; null for the URL's host. */
  host: string | null;
  /** --sni: the TLS server name, also the name the certificate must carry; null for the URL's host. */
  sni: string | null;
  /** --header: extra upgrade request headers a CDN or reverse proxy needs (client/upgrade-headers.ts). */
  headers: Readonly<Record<string, string>>;
  /** --fast-open: when a CONNECT is answered before the relay has dialed (client/fast-open.ts). */
  fastOpen: FastOpenMode;
  /** --direct and --block in command-line order; they come before the --rules file's lines. */
  routes: readonly RoutingRule[];
  /** --rules: a file of routing rules, re-read on SIGHUP (client/outbound/rules-file.ts). */
  rulesFile: string | null;
  /** A --direct destination's dial fails with 0x04 (ETIMEDOUT) after this long. */
  directDialTimeoutMs: number;
  /** --dns-listen: where the DNS listener (UDP and TCP) binds; null for none. */
  dnsListen: Address | null;
  /** --dns-upstream: the DNS server the relay connects to (over TCP) for every query; a name is resolved by the relay. */
  dnsUpstream: Address;
  /** --dns-timeout: a query without an answer by then gets SERVFAIL. */
  dnsTimeoutMs: number;
  logger?: Logger;
}

export const CLIENT_DEFAULTS = {
  tunnels: 1,
  tunnelMaxAgeMs: null,
  statusListen: null,
  socks: { host: '127.0.0.1', port: 1080 },
  socksUser: null,
  handshakeTimeoutMs: 10_000,
  tunnelWaitMs: 10_000,
  udpIdleTimeoutMs: 300_000,
  reconnectMinMs: 250,
  reconnectMaxMs: 30_000,
  keepaliveIntervalMs: DEFAULT_KEEPALIVE_INTERVAL_MS,
  keepaliveTimeoutMs: DEFAULT_KEEPALIVE_TIMEOUT_MS,
  ca: null,
  fingerprint: null,
  httpProxy: null,
  host: null,
  sni: null,
  headers: {},
  fastOpen: 'auto',
  routes: [],
  rulesFile: null,
  directDialTimeoutMs: DIRECT_DIAL_TIMEOUT_MS,
  dnsListen: null,
  dnsUpstream: { host: '1.1.1.1', port: 53 },
  dnsTimeoutMs: 5_000,
  ...WINDOW_DEFAULTS,
} as const;

/** What startClient is given: the token and one relay (relayUrl) or several (relayUrls, preferred first); the rest has defaults. */
export type ClientSettings = Partial<ClientConfig> & { token: string } & ({ relayUrl: string } | { relayUrls: readonly string[] });

export function resolveClientConfig(partial: ClientSettings): ClientConfig {
  const relayUrls = partial.relayUrls ?? [partial.relayUrl as string];
  if (relayUrls.length === 0) throw new ConfigError('--relay', `at least one relay URL is required (ws://HOST:PORT${TUNNEL_PATH})`);
  const config: ClientConfig = { ...CLIENT_DEFAULTS, ...partial, relayUrl: relayUrls[0]!, relayUrls };
  for (const relayUrl of relayUrls) checkWssOnly(config, relayUrlOf(relayUrl));
  checkRelayTransport(config);
  checkUpgradeRequest(config);
  if (new Set(relayUrls).size !== relayUrls.length) throw new ConfigError('--relay', 'the same relay URL is given twice');
  checkPool(config);
  if (config.token.length === 0) throw new ConfigError('--token', 'a tunnel token is required (or set SOCKBRIDGE_TOKEN)');
  checkPositive('--handshake-timeout', config.handshakeTimeoutMs);
  checkPositive('--tunnel-wait', config.tunnelWaitMs);
  checkPositive('--udp-idle-timeout', config.udpIdleTimeoutMs);
  checkKeepaliveConfig(config);
  checkPositive('directDialTimeoutMs', config.directDialTimeoutMs);
  checkWindowConfig(config);
  checkDns(config);
  if (!FAST_OPEN_MODES.includes(config.fastOpen)) throw new ConfigError('--fast-open', `expected ${FAST_OPEN_MODES.join(', ')}, got "${String(config.fastOpen)}"`);
  if (config.reconnectMinMs <= 0 || config.reconnectMaxMs < config.reconnectMinMs) {
    throw new ConfigError('reconnectMinMs', 'need 0 < reconnectMinMs ≤ reconnectMaxMs');
  }
  return config;
}

function relayUrlOf(relayUrl: string): URL {
  let url: URL;
  try {
    url = new URL(relayUrl);
  } catch {
    throw new ConfigError('--relay', `"${relayUrl}" is not a URL (expected ws://HOST:PORT${TUNNEL_PATH})`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new ConfigError('--relay', `must be a ws:// or wss:// URL, got ${url.protocol}`);
  return url;
}

/** --tunnels, --tunnel-max-age, --status-listen (loopback only: it tells anyone who asks which relays this client uses). */
function checkPool(config: ClientConfig): void {
  if (!Number.isInteger(config.tunnels) || config.tunnels < 1 || config.tunnels > MAX_TUNNELS) {
    throw new ConfigError('--tunnels', `expected a whole number from 1 to ${MAX_TUNNELS}, got ${config.tunnels}`);
  }
  if (config.tunnelMaxAgeMs !== null) checkPositive('--tunnel-max-age', config.tunnelMaxAgeMs);
  if (config.statusListen !== null && !isLoopbackHost(config.statusListen.host)) {
    throw new ConfigError('--status-listen', `must be a loopback address (127.0.0.1, ::1 or localhost), got "${config.statusListen.host}": the status names the relays this client uses`);
  }
}

/** What only a wss:// relay can use, checked against each relay. */
function checkWssOnly(config: ClientConfig, relay: URL): void {
  if (relay.protocol === 'wss:') return;
  if (config.ca !== null) throw new ConfigError('--ca', 'only applies to a wss:// relay');
  if (config.fingerprint !== null) throw new ConfigError('--fingerprint', 'only applies to a wss:// relay');
  if (config.sni !== null) throw new ConfigError('--sni', 'only applies to a wss:// relay');
}

/** --fingerprint and --http-proxy; the fingerprint is stored normalized (lowercase hex, no colons). */
function checkRelayTransport(config: ClientConfig): void {
  if (config.fingerprint !== null) {
    const normalized = normalizeFingerprint(config.fingerprint);
    if (normalized === null) throw new ConfigError('--fingerprint', `expected a SHA-256 fingerprint (64 hex digits, colons allowed), got "${config.fingerprint}"`);
    config.fingerprint = normalized;
  }
  if (config.httpProxy !== null) {
    let proxy: URL;
    try {
      proxy = new URL(config.httpProxy);
    } catch {
      throw new ConfigError('--http-proxy', 'not a URL (expected http://[user:pass@]host:port)');
    }
    if (proxy.protocol !== 'http:' || proxy.hostname === '') throw new ConfigError('--http-proxy', `expected http://[user:pass@]host:port, got a ${proxy.protocol} URL`);
  }
}

/** --host, --sni and --header: what a CDN or reverse proxy in front of the relay is told. */
function checkUpgradeRequest(config: ClientConfig): void {
  if (config.host !== null) checkHostFlag(config.host);
  if (config.sni !== null) checkSniFlag(config.sni);
  checkHeaders(config.headers);
}

/** --dns-listen, --dns-upstream, --dns-timeout. */
function checkDns(config: ClientConfig): void {
  checkPositive('--dns-timeout', config.dnsTimeoutMs);
  const { dnsListen, dnsUpstream, socks } = config;
  if (dnsUpstream.host === '' || dnsUpstream.port === 0) throw new ConfigError('--dns-upstream', `expected HOST:PORT with a port from 1, got "${formatHostPort(dnsUpstream)}"`);
  if (dnsListen !== null && dnsListen.port !== 0 && dnsListen.port === socks.port && dnsListen.host === socks.host) {
    throw new ConfigError('--dns-listen', `${formatHostPort(dnsListen)} is the --socks address too: the DNS listener takes TCP on its port as well`);
  }
}
