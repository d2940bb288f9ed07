import { createLogger } from '../common/log.js';
import { TUNNEL_PATH } from '../protocol/frame.js';
import { startClient } from '../client/client.js';
import { CLIENT_DEFAULTS, type SocksCredentials } from '../client/config.js';
import { FAST_OPEN_MODES, type FastOpenMode } from '../client/fast-open.js';
import { readFlagFile } from './tls-flags.js';
import { countFlag, DEFAULT_GRACE_MS, hostPortFlag, logLevelFlag, parseFlags, secondsFlag, tokensFrom, untilSignal, UsageError } from './args.js';

export const CLIENT_HELP = `Usage: sockbridge client --relay ws[s]://HOST:PORT${TUNNEL_PATH} --token TOKEN [options]

Opens a SOCKS4/4a/5 listener and carries every connection over one WebSocket to the relay.

Options:
  --relay URL                 the relay's tunnel endpoint (ws:// or wss://)
  --token TOKEN               the tunnel token (default: env SOCKBRIDGE_TOKEN)
  --socks HOST:PORT           SOCKS listener address (default 127.0.0.1:1080)
  --socks-user USER:PASS      require RFC 1929 username/password from SOCKS5 clients
  --handshake-timeout SECONDS close SOCKS handshakes slower than this (default 10)
  --tunnel-wait SECONDS       how long a request waits for a dropped tunnel to return (default 10)
  --grace SECONDS             on SIGTERM/SIGINT, how long open connections may finish (default 10;
                              a second signal stops at once)
  --udp-idle-timeout SECONDS  close a UDP association idle this long (default 300)
  --keepalive-interval SECONDS  ping period (default 15)
  --keepalive-timeout SECONDS   silence after which the tunnel is dead (default 30)
  --ca FILE                   trust this PEM CA for a wss:// relay (default: Node's CA bundle)
  --fingerprint SHA256        pin the relay's certificate by its SHA-256 (hex, colons optional);
                              with a pin the chain is not checked, so a self-signed cert works
  --http-proxy URL            reach the relay through an HTTP proxy with CONNECT:
                              http://[user:pass@]host:port
  --fast-open MODE            auto (default): answer a CONNECT at once for a destination the relay
                              dialed in the last 10 minutes, and send the first bytes with the
                              OPEN; always: answer every CONNECT at once; never: always wait for
                              the relay's dial (true error codes every time)
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
    relay: { type: 'string' },
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
    'fast-open': { type: 'string' },
    'dns-listen': { type: 'string' },
    'dns-upstream': { type: 'string' },
    'dns-timeout': { type: 'string' },
    'window-budget': { type: 'string' },
    'max-stream-window': { type: 'string' },
  });
  if (flags.help) {
    process.stdout.write(CLIENT_HELP);
    return 0;
  }
  const relayUrl = flags.relay as string | undefined;
  if (!relayUrl) throw new UsageError(`--relay: the relay URL is required, e.g. --relay ws://relay.example:8080${TUNNEL_PATH}`);
  const token = (flags.token as string | undefined) ?? tokensFrom(undefined)[0];
  if (!token) throw new UsageError('--token: a tunnel token is required (or set SOCKBRIDGE_TOKEN)');
  const graceMs = secondsFlag('--grace', flags.grace as string | undefined, DEFAULT_GRACE_MS);
  const logger = createLogger('client', logLevelFlag(flags['log-level'] as string | undefined));
  const client = await startClient({
    relayUrl,
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
    fastOpen: fastOpenFlag(flags['fast-open'] as string | undefined),
    dnsListen: flags['dns-listen'] === undefined ? null : hostPortFlag('--dns-listen', flags['dns-listen'] as string, CLIENT_DEFAULTS.socks),
    dnsUpstream: hostPortFlag('--dns-upstream', flags['dns-upstream'] as string | undefined, CLIENT_DEFAULTS.dnsUpstream),
    dnsTimeoutMs: secondsFlag('--dns-timeout', flags['dns-timeout'] as string | undefined, CLIENT_DEFAULTS.dnsTimeoutMs),
    windowBudget: countFlag('--window-budget', flags['window-budget'] as string | undefined, CLIENT_DEFAULTS.windowBudget),
    maxStreamWindow: countFlag('--max-stream-window', flags['max-stream-window'] as string | undefined, CLIENT_DEFAULTS.maxStreamWindow),
    logger,
  });
  const signal = await untilSignal();
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
