import { createLogger, type Logger } from '../common/log.js';
import { RELAY_DEFAULTS } from '../server/config.js';
import { startRelay, type Relay } from '../server/relay.js';
import { loadUsersFile, UsersFileError } from '../server/tunnel/users-file.js';
import type { UdpReplyFilter } from '../server/dialers/udp.js';
import { relayTlsFlags } from './tls-flags.js';
import { MAX_FRAME_SIZE, MIN_FRAME_SIZE_LIMIT, TUNNEL_PATH } from '../protocol/frame.js';
import { parseTargetRule, RuleSyntaxError, type RuleAction, type TargetRule } from '../server/policy/target-rule.js';
import { DEFAULT_GRACE_MS, countFlag, hostPortFlag, orderedValues, portRangeFlag, logLevelFlag, parseFlags, secondsFlag, tokensFrom, untilSignal, UsageError } from './args.js';

export const RELAY_HELP = `Usage: sockbridge relay --token TOKEN [options]
       sockbridge relay --users FILE [options]

Serves the tunnel at ws://HOST:PORT${TUNNEL_PATH} (or --path) and a health check at /healthz
(wss:// and https:// with --tls-cert and --tls-key). With an admin token it also serves the
status page at /, its API at /api/status and /api/events, and Prometheus metrics at /metrics.
With --admin-listen, /healthz and these are served there instead; with --fallback, never on
the public port. Anything else gets a plain 404, or with --fallback the answer of an ordinary
website.

Options:
  --listen HOST:PORT          address to listen on (default 127.0.0.1:8080)
  --path PATH                 where the tunnel is served (default ${TUNNEL_PATH}); pick a random one,
                              e.g. --path /$(openssl rand -hex 16), and give clients the same URL
  --fallback URL              http:// or https:// origin: every request that is not an
                              authenticated tunnel upgrade on PATH is reverse-proxied to it and
                              its answer passed back unchanged (502 if it cannot be reached);
                              the status routes and /healthz are then served only on --admin-listen
  --admin-listen HOST:PORT    serve the status page, /api/status, /api/events, /metrics and
                              /healthz on this listener (plain HTTP; loopback or a private
                              interface) and none of them on --listen
  --token TOKEN               a tunnel token clients must present; repeat for several
                              (default: env SOCKBRIDGE_TOKEN, comma-separated)
  --users FILE                named users from a JSON file: SHA-256 of each token, limits and
                              rules per user (see the README); re-read on SIGHUP, open
                              tunnels keep running. May be combined with --token
  --dial-timeout SECONDS      how long a connect to a target may take (default 10)
  --keepalive-interval SECONDS  ping period, jittered ±25% (default 15, at most 60, so pings stay
                                well below a CDN's 100 s idle cut-off)
  --keepalive-timeout SECONDS   silence after which a tunnel is dead (default 30; above 1.25 ×
                                the interval)
  --public-address HOST       address announced in BIND replies (default: the relay's
                              local address toward the expected peer)
  --bind-ports LOW-HIGH       ports BIND may listen on (default: any free port)
  --bind-timeout SECONDS      how long a BIND waits for its connection (default 120)
  --grace SECONDS             on SIGTERM/SIGINT, how long open streams may finish (default 10;
                              a second signal stops at once)
  --max-streams N             streams one tunnel may hold open (default 16384)
  --max-binds N               BIND listeners per tunnel (default 64)
  --max-udp N                 UDP associations per tunnel (default 64)
  --udp-replies WHO           which sources may send into a UDP association: "contacted"
                              (default: only an address and port the client has sent to, as a
                              port-restricted NAT) or "any" (full cone, for peer-to-peer apps)
  --max-tunnels-per-token N   tunnels one token may hold at once (default 32)
  --handshake-timeout SECONDS how long a client may take to send its upgrade headers, and
                              then its HELLO (default 10)
  --idle-timeout SECONDS      a stream with no data either way for this long is reset
                              (default 3600; UDP datagrams count; a BIND waiting for its
                              peer is governed by --bind-timeout instead)
  --max-pending-bytes N       bytes one tunnel may hold received from the client but not yet
                              taken by target sockets; over it, the stream holding the most
                              is reset (default 67108864 = 64 MiB)
  --max-frame-size BYTES      the largest WebSocket message (frame) a client may send, ${MIN_FRAME_SIZE_LIMIT} to
                              ${MAX_FRAME_SIZE} (default ${MAX_FRAME_SIZE}); told to clients in HELLO, so they split
                              data to fit; a larger frame ends that tunnel with a go-away
  --window-budget BYTES       how far one tunnel's stream windows may grow, together, beyond their
                              initial 1 MiB each (default 67108864, 64 MiB; at most --max-pending-bytes)
  --max-stream-window BYTES   the largest window one stream may grow to (default 33554432, 32 MiB;
                              at most --max-pending-bytes)
  --allow TARGET              let the relay reach TARGET; --deny TARGET refuses it. Repeatable,
  --deny TARGET               in order, first match wins, ahead of the safe default that refuses
                              loopback, private, link-local, multicast and unspecified addresses.
                              TARGET: a CIDR, IP, host name or *.domain, optionally :PORT or
                              :LOW-HIGH ([IPv6]:PORT). Example: --allow 127.0.0.0/8 --allow ::1/128
  --admin-token TOKEN         turns on the status page, its API and /metrics, guarded by
                              this token (Bearer, or HTTP Basic with any user name and the
                              token as password); must differ from the tunnel tokens
                              (default: env SOCKBRIDGE_ADMIN_TOKEN; unset: those routes 404)
  --tls-cert FILE             PEM certificate (chain): serve wss:// and https:// instead of
  --tls-key FILE              ws:// and http://, with this PEM private key; both or neither
  --log-level LEVEL           debug, info, warn, error or silent (default info)
  -h, --help                  show this help
`;

export async function relayCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    listen: { type: 'string' },
    path: { type: 'string' },
    fallback: { type: 'string' },
    'admin-listen': { type: 'string' },
    token: { type: 'string', multiple: true },
    users: { type: 'string' },
    'dial-timeout': { type: 'string' },
    'keepalive-interval': { type: 'string' },
    'keepalive-timeout': { type: 'string' },
    'public-address': { type: 'string' },
    'bind-ports': { type: 'string' },
    'bind-timeout': { type: 'string' },
    'admin-token': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    grace: { type: 'string' },
    'max-streams': { type: 'string' },
    'max-binds': { type: 'string' },
    'max-udp': { type: 'string' },
    'udp-replies': { type: 'string' },
    'max-tunnels-per-token': { type: 'string' },
    'handshake-timeout': { type: 'string' },
    'idle-timeout': { type: 'string' },
    'max-pending-bytes': { type: 'string' },
    'max-frame-size': { type: 'string' },
    'window-budget': { type: 'string' },
    'max-stream-window': { type: 'string' },
    allow: { type: 'string', multiple: true },
    deny: { type: 'string', multiple: true },
    'log-level': { type: 'string' },
  });
  if (flags.help) {
    process.stdout.write(RELAY_HELP);
    return 0;
  }
  const tokens = tokensFrom(flags.token as string[] | undefined);
  const usersPath = flags.users as string | undefined;
  if (tokens.length === 0 && usersPath === undefined) throw new UsageError('--token: a tunnel token is required (or set SOCKBRIDGE_TOKEN, or give --users FILE)');
  // A bad file at startup is a UsersFileError (a ConfigError): one line naming the field, exit 2.
  const users = usersPath === undefined ? null : loadUsersFile(usersPath);
  const graceMs = secondsFlag('--grace', flags.grace as string | undefined, DEFAULT_GRACE_MS);
  const logger = createLogger('relay', logLevelFlag(flags['log-level'] as string | undefined));
  const relay = await startRelay({
    listen: hostPortFlag('--listen', flags.listen as string | undefined, RELAY_DEFAULTS.listen),
    path: (flags.path as string | undefined) ?? RELAY_DEFAULTS.path,
    fallback: (flags.fallback as string | undefined) ?? null,
    adminListen: flags['admin-listen'] === undefined ? null : hostPortFlag('--admin-listen', flags['admin-listen'] as string, RELAY_DEFAULTS.listen),
    tokens,
    users,
    dialTimeoutMs: secondsFlag('--dial-timeout', flags['dial-timeout'] as string | undefined, RELAY_DEFAULTS.dialTimeoutMs),
    keepaliveIntervalMs: secondsFlag('--keepalive-interval', flags['keepalive-interval'] as string | undefined, RELAY_DEFAULTS.keepaliveIntervalMs),
    keepaliveTimeoutMs: secondsFlag('--keepalive-timeout', flags['keepalive-timeout'] as string | undefined, RELAY_DEFAULTS.keepaliveTimeoutMs),
    publicAddress: (flags['public-address'] as string | undefined) ?? null,
    bindPorts: portRangeFlag('--bind-ports', flags['bind-ports'] as string | undefined),
    bindTimeoutMs: secondsFlag('--bind-timeout', flags['bind-timeout'] as string | undefined, RELAY_DEFAULTS.bindTimeoutMs),
    adminToken: adminTokenFrom(flags['admin-token'] as string | undefined),
    tls: relayTlsFlags(flags['tls-cert'] as string | undefined, flags['tls-key'] as string | undefined),
    rules: rulesFrom(argv),
    maxStreamsPerTunnel: countFlag('--max-streams', flags['max-streams'] as string | undefined, RELAY_DEFAULTS.maxStreamsPerTunnel),
    maxBindsPerTunnel: countFlag('--max-binds', flags['max-binds'] as string | undefined, RELAY_DEFAULTS.maxBindsPerTunnel),
    maxUdpPerTunnel: countFlag('--max-udp', flags['max-udp'] as string | undefined, RELAY_DEFAULTS.maxUdpPerTunnel),
    udpReplies: ((flags['udp-replies'] as string | undefined) ?? RELAY_DEFAULTS.udpReplies) as UdpReplyFilter,
    handshakeTimeoutMs: secondsFlag('--handshake-timeout', flags['handshake-timeout'] as string | undefined, RELAY_DEFAULTS.handshakeTimeoutMs),
    maxTunnelsPerToken: countFlag('--max-tunnels-per-token', flags['max-tunnels-per-token'] as string | undefined, RELAY_DEFAULTS.maxTunnelsPerToken),
    idleTimeoutMs: secondsFlag('--idle-timeout', flags['idle-timeout'] as string | undefined, RELAY_DEFAULTS.idleTimeoutMs),
    maxPendingBytes: countFlag('--max-pending-bytes', flags['max-pending-bytes'] as string | undefined, RELAY_DEFAULTS.maxPendingBytes),
    maxFrameSize: countFlag('--max-frame-size', flags['max-frame-size'] as string | undefined, RELAY_DEFAULTS.maxFrameSize),
    windowBudget: countFlag('--window-budget', flags['window-budget'] as string | undefined, RELAY_DEFAULTS.windowBudget),
    maxStreamWindow: countFlag('--max-stream-window', flags['max-stream-window'] as string | undefined, RELAY_DEFAULTS.maxStreamWindow),
    logger,
  });
  const reload = (): void => reloadUsers(relay, usersPath as string, logger);
  // The handler goes in before the line that says the users are loaded: a SIGHUP sent on
  // seeing that line must reload, not meet the default action and end the process.
  if (usersPath !== undefined) process.on('SIGHUP', reload);
  if (usersPath !== undefined) logger.info('users loaded', { file: usersPath, users: users?.users.length ?? 0 });
  const signal = await untilSignal();
  process.off('SIGHUP', reload);
  logger.info('stopping: no new tunnels or streams; open streams may finish', { signal, graceMs });
  await relay.close(graceMs);
  return 0;
}

/** SIGHUP: a valid file replaces the users for new tunnels; an invalid one is logged and the old users stay. */
function reloadUsers(relay: Relay, path: string, logger: Logger): void {
  try {
    const users = loadUsersFile(path);
    relay.setUsers(users);
    logger.info('users reloaded', { users: users.users.length });
  } catch (err) {
    // In a signal handler nothing may escape: whatever went wrong, the old users keep serving.
    const message = err instanceof UsersFileError ? err.message : `--users ${path}: ${(err as Error).message}`;
    logger.error('users not reloaded, keeping the previous users', { file: path, error: message });
  }
}

/** --allow and --deny in the order given. */
function rulesFrom(argv: string[]): TargetRule[] {
  return orderedValues(argv, ['allow', 'deny']).map(({ name, value }) => {
    try {
      return parseTargetRule(name as RuleAction, value);
    } catch (err) {
      if (err instanceof RuleSyntaxError) throw new UsageError(`--${name}: ${err.message}`);
      throw err;
    }
  });
}

/** --admin-token, else env SOCKBRIDGE_ADMIN_TOKEN; null when neither is set. */
function adminTokenFrom(flagValue: string | undefined): string | null {
  const value = flagValue ?? process.env.SOCKBRIDGE_ADMIN_TOKEN;
  if (value === undefined) return null;
  if (value.trim().length === 0) throw new UsageError('--admin-token: the admin token must not be empty');
  return value;
}
