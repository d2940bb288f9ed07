import { createLogger } from '../common/log.js';
import { TUNNEL_PATH } from '../protocol/frame.js';
import { startClient } from '../client/client.js';
import { CLIENT_DEFAULTS, type SocksCredentials } from '../client/config.js';
import { FAST_OPEN_MODES, type FastOpenMode } from '../client/fast-open.js';
import { parseHeaderFlags } from '../client/upgrade-headers.js';
import type { Client } from '../client/client.js';
import { Route } from '../client/outbound/route.js';
import { RulesFileError } from '../client/outbound/rules-file.js';
import { ruleFromFlag, type RoutingRule } from '../client/outbound/rules.js';
import { RuleSyntaxError } from '../common/target-syntax.js';
import type { Logger } from '../common/log.js';
import { readFlagFile } from './tls-flags.js';
import { countFlag, DEFAULT_GRACE_MS, hostPortFlag, logLevelFlag, orderedValues, parseFlags, secondsFlag, tokensFrom, untilSignal, UsageError } from './args.js';

export const CLIENT_HELP = `Usage: sockbridge client --relay ws[s]://HOST:PORT${TUNNEL_PATH} --token TOKEN [options]

Opens a SOCKS4/4a/5 listener and carries every connection over WebSockets to the relay(s).

Options:
  --relay URL                 the relay's tunnel endpoint (ws:// or wss://); repeatable: several
                              relays, the most preferred first
  --tunnels N                 how many WebSockets to hold, spread over the healthy relays (default
                              1, at most 16); each new connection takes the healthy one with the
                              fewest open streams
  --tunnel-max-age SECONDS    drain a tunnel this old (no new streams; open ones finish) and
                              replace it (default: never; each tunnel's age is cut by up to 10 %)
  --status-listen HOST:PORT   answer GET with the tunnels' state as JSON (loopback only)
  --token TOKEN               the tunnel token (default: env SOCKBRIDGE_TOKEN)
  --socks HOST:PORT           SOCKS listener address (default 127.0.0.1:1080)
  --socks-user USER:PASS      require RFC 1929 username/password from SOCKS5 clients
  --handshake-timeout SECONDS close SOCKS handshakes slower than this (default 10)
  --tunnel-wait SECONDS       how long a request waits for a dropped tunnel to return (default 10)
  --grace SECONDS             on SIGTERM/SIGINT, how long open connections may finish (default 10;
                              a second signal stops at once)
  --udp-idle-timeout SECONDS  close a UDP association idle this long (default 300)
  --keepalive-interval SECONDS  ping period, jittered ±25% (default 15, at most 60, so pings stay
                                well below a CDN's 100 s idle cut-off)
  --keepalive-timeout SECONDS   silence after which the tunnel is dead (default 30; above 1.25 ×
                                the interval)
  --ca FILE                   trust this PEM CA for a wss:// relay (default: Node's CA bundle)
  --fingerprint SHA256        pin the relay's certificate by its SHA-256 (hex, colons optional);
                              with a pin the chain is not checked, so a self-signed cert works
  --http-proxy URL            reach the relay through an HTTP proxy with CONNECT:
                              http://[user:pass@]host:port
  --host NAME                 the upgrade request's Host header (default: the --relay URL's host),
                              e.g. the relay's name behind a CDN or a fronting domain
  --sni NAME                  the TLS server name for a wss:// relay (default: the URL's host); the
                              certificate must carry it, unless --fingerprint pins the certificate
  --header 'NAME: VALUE'      an extra upgrade request header a CDN or reverse proxy needs
                              (repeatable; not Host, Authorization or the handshake's own)
  --fast-open MODE            auto (default): answer a CONNECT at once for a destination the relay
                              dialed in the last 10 minutes, and send the first bytes with the
                              OPEN; always: answer every CONNECT at once; never: always wait for
                              the relay's dial (true error codes every time)
  --direct TARGET             dial TARGET from this machine instead of through the relay; --block
  --block TARGET              TARGET refuses it here (SOCKS5 0x02, SOCKS4 91). Repeatable, in
                              order, first match wins; anything unmatched goes through the relay.
                              TARGET as for the relay's --allow: CIDR, IP, host or *.domain,
                              optionally :PORT or :LOW-HIGH ([IPv6]:PORT). Names are matched as
                              the application gave them: no DNS lookup for a proxied name
  --rules FILE                more rules, one a line: "direct *.example.cn", "block
                              198.51.100.0/24", "relay *"; # starts a comment. Checked after
                              --direct/--block; re-read on SIGHUP (a bad file keeps the old rules)
  --dns-listen HOST:PORT      also answer DNS (UDP and TCP) here, every query sent through the
                              tunnel to --dns-upstream (off by default; e.g. 127.0.0.1:5353)
  --dns-upstream HOST:PORT    the DNS server the relay asks, over TCP (default 1.1.1.1:53;
                              a name is resolved by the relay)
  --dns-timeout SECONDS       answer SERVFAIL to a query with no answer by then (default 5)
  --window-budget BYTES       how far the tunnel's stream windows may grow, together, beyond their
                              initial 1 MiB each (default 67108864, 64 MiB)
  --max-stream-window BYTES   the largest window one stream may grow to (default 33554432, 32 MiB)
  --log-level LEVEL           debug, info, warn, error or silent (default info)
  -h, --help                  show this help
`;

export async function clientCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    relay: { type: 'string', multiple: true },
    tunnels: { type: 'string' },
    'tunnel-max-age': { type: 'string' },
    'status-listen': { type: 'string' },
    token: { type: 'string' },
    socks: { type: 'string' },
    'socks-user': { type: 'string' },
    'handshake-timeout': { type: 'string' },
    'tunnel-wait': { type: 'string' },
    'udp-idle-timeout': { type: 'string' },
    grace: { type: 'string' },
    'keepalive-interval': { type: 'string' },
    'keepalive-timeout': { type: 'string' },
    'log-level': { type: 'string' },
    ca: { type: 'string' },
    fingerprint: { type: 'string' },
    'http-proxy': { type: 'string' },
    host: { type: 'string' },
    sni: { type: 'string' },
    header: { type: 'string', multiple: true },
    'fast-open': { type: 'string' },
    'dns-listen': { type: 'string' },
    'dns-upstream': { type: 'string' },
    'dns-timeout': { type: 'string' },
    'window-budget': { type: 'string' },
    'max-stream-window': { type: 'string' },
    direct: { type: 'string', multiple: true },
    block: { type: 'string', multiple: true },
    rules: { type: 'string' },
  });
  if (flags.help) {
    process.stdout.write(CLIENT_HELP);
    return 0;
  }
  const relayUrls = (flags.relay as string[] | undefined) ?? [];
  if (relayUrls.length === 0 || relayUrls.some((url) => url === '')) throw new UsageError(`--relay: the relay URL is required, e.g. --relay ws://relay.example:8080${TUNNEL_PATH}`);
  const token = (flags.token as string | undefined) ?? tokensFrom(undefined)[0];
  if (!token) throw new UsageError('--token: a tunnel token is required (or set SOCKBRIDGE_TOKEN)');
  const graceMs = secondsFlag('--grace', flags.grace as string | undefined, DEFAULT_GRACE_MS);
  const logger = createLogger('client', logLevelFlag(flags['log-level'] as string | undefined));
  const client = await startClient({
    relayUrls,
    tunnels: countFlag('--tunnels', flags.tunnels as string | undefined, CLIENT_DEFAULTS.tunnels),
    tunnelMaxAgeMs: flags['tunnel-max-age'] === undefined ? null : secondsFlag('--tunnel-max-age', flags['tunnel-max-age'] as string, 0),
    statusListen: flags['status-listen'] === undefined ? null : hostPortFlag('--status-listen', flags['status-listen'] as string, CLIENT_DEFAULTS.socks),
    token,
    socks: hostPortFlag('--socks', flags.socks as string | undefined, CLIENT_DEFAULTS.socks),
    socksUser: credentialsFlag(flags['socks-user'] as string | undefined),
    handshakeTimeoutMs: secondsFlag('--handshake-timeout', flags['handshake-timeout'] as string | undefined, CLIENT_DEFAULTS.handshakeTimeoutMs),
    tunnelWaitMs: secondsFlag('--tunnel-wait', flags['tunnel-wait'] as string | undefined, CLIENT_DEFAULTS.tunnelWaitMs),
    udpIdleTimeoutMs: secondsFlag('--udp-idle-timeout', flags['udp-idle-timeout'] as string | undefined, CLIENT_DEFAULTS.udpIdleTimeoutMs),
    keepaliveIntervalMs: secondsFlag('--keepalive-interval', flags['keepalive-interval'] as string | undefined, CLIENT_DEFAULTS.keepaliveIntervalMs),
    keepaliveTimeoutMs: secondsFlag('--keepalive-timeout', flags['keepalive-timeout'] as string | undefined, CLIENT_DEFAULTS.keepaliveTimeoutMs),
    ca: flags.ca === undefined ? null : readFlagFile('--ca', flags.ca as string),
    fingerprint: (flags.fingerprint as string | undefined) ?? null,
    httpProxy: (flags['http-proxy'] as string | undefined) ?? null,
    host: (flags.host as string | undefined) ?? null,
    sni: (flags.sni as string | undefined) ?? null,
    headers: parseHeaderFlags((flags.header as string[] | undefined) ?? []),
    fastOpen: fastOpenFlag(flags['fast-open'] as string | undefined),
    dnsListen: flags['dns-listen'] === undefined ? null : hostPortFlag('--dns-listen', flags['dns-listen'] as string, CLIENT_DEFAULTS.socks),
    dnsUpstream: hostPortFlag('--dns-upstream', flags['dns-upstream'] as string | undefined, CLIENT_DEFAULTS.dnsUpstream),
    dnsTimeoutMs: secondsFlag('--dns-timeout', flags['dns-timeout'] as string | undefined, CLIENT_DEFAULTS.dnsTimeoutMs),
    windowBudget: countFlag('--window-budget', flags['window-budget'] as string | undefined, CLIENT_DEFAULTS.windowBudget),
    maxStreamWindow: countFlag('--max-stream-window', flags['max-stream-window'] as string | undefined, CLIENT_DEFAULTS.maxStreamWindow),
    routes: routesFrom(argv),
    rulesFile: (flags.rules as string | undefined) ?? null,
    logger,
  });
  const rulesFile = flags.rules as string | undefined;
  const reload = (): void => reloadRules(client, rulesFile as string, logger);
  // Installed before the line saying the rules are loaded, so a SIGHUP sent on seeing it is handled.
  if (rulesFile !== undefined) process.on('SIGHUP', reload);
  if (rulesFile !== undefined) logger.info('rules loaded', { file: rulesFile });
  const signal = await untilSignal();
  process.off('SIGHUP', reload);
  logger.info('stopping: no new SOCKS connections; open ones may finish', { signal, graceMs });
  await client.close(graceMs);
  return 0;
}

function credentialsFlag(value: string | undefined): SocksCredentials | null {
  if (value === undefined) return null;
  const colon = value.indexOf(':');
  if (colon <= 0) throw new UsageError('--socks-user: expected USER:PASS');
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

function fastOpenFlag(value: string | undefined): FastOpenMode {
  if (value === undefined) return CLIENT_DEFAULTS.fastOpen;
  if (!(FAST_OPEN_MODES as readonly string[]).includes(value)) throw new UsageError(`--fast-open: "${value}" is not one of ${FAST_OPEN_MODES.join(', ')}`);
  return value as FastOpenMode;
}

/** --direct and --block in the order given (first match wins, so order matters). */
function routesFrom(argv: string[]): RoutingRule[] {
  return orderedValues(argv, [Route.Direct, Route.Block]).map(({ name, value }) => {
    try {
      return ruleFromFlag(name as Route, value);
    } catch (err) {
      if (err instanceof RuleSyntaxError) throw new UsageError(`--${name}: ${err.message}`);
      throw err;
    }
  });
}

/** SIGHUP: a valid file replaces the rules for new connections; an invalid one is logged and the old rules stay. */
function reloadRules(client: Client, file: string, logger: Logger): void {
  try {
    const rules = client.reloadRules();
    logger.info('rules reloaded', { file, rules, ...client.routeCounts() });
  } catch (err) {
    // In a signal handler nothing may escape: whatever went wrong, the old rules keep routing.
    const message = err instanceof RulesFileError ? err.message : `--rules ${file}: ${(err as Error).message}`;
    logger.error('rules not reloaded, keeping the previous rules', { file, error: message });
  }
}
