/**
 * Every option of `sockbridge relay`, declared once (see option-table.ts).
 *
 * Adding an option is one entry here: name, kind, arg, help, and default/env/reloadable as
 * they apply. The parser, --help, the config-file keys and the README table follow; then read
 * the value in cli/relay-settings.ts (`values.get('NAME')`) and run `npm run readme:options`.
 */
import { formatHostPort } from '../../common/host-port.js';
import { LOG_LEVELS } from '../../common/log.js';
import { INITIAL_STREAM_WINDOW, MAX_FRAME_SIZE, MIN_FRAME_SIZE_LIMIT } from '../../protocol/frame.js';
import { RELAY_DEFAULTS } from '../../server/config.js';
import { UDP_REPLY_FILTERS } from '../../server/dialers/udp.js';
import { DEFAULT_GRACE_MS } from '../args.js';
import { mebibytes, secondsText, type OptionTable } from './option-table.js';

const D = RELAY_DEFAULTS;

export const RELAY_OPTIONS: OptionTable = {
  command: 'relay',
  options: [
    { name: 'listen', kind: 'host-port', arg: 'HOST:PORT', help: 'address to listen on', default: formatHostPort(D.listen) },
    { name: 'path', kind: 'string', arg: 'PATH', help: 'where the tunnel is served; pick a random one, e.g. --path /$(openssl rand -hex 16), and give clients the same URL', default: D.path },
    { name: 'fallback', kind: 'string', arg: 'URL', help: 'http:// or https:// origin: every request that is not an authenticated tunnel upgrade on PATH is reverse-proxied to it and its answer passed back unchanged (502 if it cannot be reached); the status routes and /healthz are then served only on --admin-listen' },
    { name: 'admin-listen', kind: 'host-port', arg: 'HOST:PORT', help: 'serve the status page, /api/status, /api/events, /metrics and /healthz on this listener (plain HTTP; loopback or a private interface) and none of them on --listen' },
    { name: 'token', kind: 'list', arg: 'TOKEN', help: 'a tunnel token clients must present; repeat for several (visible to ps: prefer --token-file)', env: 'SOCKBRIDGE_TOKEN', reloadable: true },
    { name: 'token-file', kind: 'string', arg: 'FILE', help: 'tunnel tokens, one a line (blank lines ignored), added to --token', reloadable: true },
    { name: 'public-url', kind: 'string', arg: 'URL', help: 'the URL clients reach the tunnel at (e.g. wss://relay.example/PATH; no path: --path): print a sockbridge:// share link for each --token token to stdout at start (none for --users: the relay holds only their hashes)' },
    { name: 'users', kind: 'string', arg: 'FILE', help: 'named users from a YAML or JSON file: SHA-256 of each token, limits and rules per user (see the README); may be combined with --token', reloadable: true },
    { name: 'dial-timeout', kind: 'seconds', arg: 'SECONDS', help: 'how long a connect to a target may take', default: secondsText(D.dialTimeoutMs), reloadable: true },
    { name: 'keepalive-interval', kind: 'seconds', arg: 'SECONDS', help: "ping period, jittered ±25%; at most 60, so pings stay well below a CDN's 100 s idle cut-off", default: secondsText(D.keepaliveIntervalMs) },
    { name: 'keepalive-timeout', kind: 'seconds', arg: 'SECONDS', help: 'silence after which a tunnel is dead; above 1.25 × the interval', default: secondsText(D.keepaliveTimeoutMs) },
    { name: 'public-address', kind: 'string', arg: 'HOST', help: "address announced in BIND replies (unset: the relay's local address toward the expected peer)", reloadable: true },
    { name: 'bind-ports', kind: 'port-range', arg: 'LOW-HIGH', help: 'ports BIND may listen on (unset: any free port)', reloadable: true },
    { name: 'bind-timeout', kind: 'seconds', arg: 'SECONDS', help: 'how long a BIND waits for its connection', default: secondsText(D.bindTimeoutMs), reloadable: true },
    { name: 'grace', kind: 'seconds', arg: 'SECONDS', help: 'on SIGTERM/SIGINT, how long open streams may finish (a second signal stops at once)', default: secondsText(DEFAULT_GRACE_MS) },
    { name: 'max-streams', kind: 'count', arg: 'N', help: 'streams one tunnel may hold open', default: String(D.maxStreamsPerTunnel), reloadable: true },
    { name: 'max-binds', kind: 'count', arg: 'N', help: 'BIND listeners per tunnel', default: String(D.maxBindsPerTunnel), reloadable: true },
    { name: 'max-udp', kind: 'count', arg: 'N', help: 'UDP associations per tunnel', default: String(D.maxUdpPerTunnel), reloadable: true },
    { name: 'udp-replies', kind: 'enum', arg: 'WHO', choices: UDP_REPLY_FILTERS, help: 'which sources may send into a UDP association: "contacted" (only an address and port the client has sent to, as a port-restricted NAT) or "any" (full cone, for peer-to-peer apps)', default: D.udpReplies, reloadable: true },
    { name: 'max-tunnels-per-token', kind: 'count', arg: 'N', help: 'tunnels one token may hold at once', default: String(D.maxTunnelsPerToken), reloadable: true },
    { name: 'handshake-timeout', kind: 'seconds', arg: 'SECONDS', help: 'how long a client may take to send its upgrade headers, and then its HELLO', default: secondsText(D.handshakeTimeoutMs) },
    { name: 'idle-timeout', kind: 'seconds', arg: 'SECONDS', help: 'a stream with no data either way for this long is reset (UDP datagrams count; a BIND waiting for its peer is governed by --bind-timeout instead)', default: secondsText(D.idleTimeoutMs), reloadable: true },
    { name: 'max-pending-bytes', kind: 'count', arg: 'N', help: 'bytes one tunnel may hold received from the client but not yet taken by target sockets; over it, the stream holding the most is reset', default: String(D.maxPendingBytes), defaultText: `${D.maxPendingBytes} = ${mebibytes(D.maxPendingBytes)}`, reloadable: true },
    { name: 'max-frame-size', kind: 'count', arg: 'BYTES', help: `the largest WebSocket message (frame) a client may send, ${MIN_FRAME_SIZE_LIMIT} to ${MAX_FRAME_SIZE}; told to clients in HELLO, so they split data to fit; a larger frame ends that tunnel with a go-away`, default: String(MAX_FRAME_SIZE) },
    { name: 'window-budget', kind: 'count', arg: 'BYTES', help: `how far one tunnel's stream windows may grow, together, beyond their initial ${mebibytes(INITIAL_STREAM_WINDOW)} each (at most --max-pending-bytes)`, default: String(D.windowBudget), defaultText: `${D.windowBudget} = ${mebibytes(D.windowBudget)}` },
    { name: 'max-stream-window', kind: 'count', arg: 'BYTES', help: 'the largest window one stream may grow to (at most --max-pending-bytes)', default: String(D.maxStreamWindow), defaultText: `${D.maxStreamWindow} = ${mebibytes(D.maxStreamWindow)}` },
    { name: 'allow', kind: 'rule', group: 'rules', arg: 'TARGET', help: 'let the relay reach TARGET. Repeatable with --deny, in order, first match wins, ahead of the safe default that refuses loopback, private, link-local, multicast, reserved and unspecified addresses (IPv6 that carries an IPv4 address, as NAT64 and 6to4 do, judged as that address). TARGET: a CIDR, IP, host name or *.domain, optionally :PORT or :LOW-HIGH ([IPv6]:PORT). Example: --allow 127.0.0.0/8 --allow ::1/128', reloadable: true },
    { name: 'deny', kind: 'rule', group: 'rules', arg: 'TARGET', help: 'refuse TARGET (as --allow, in the same ordered list)', reloadable: true },
    { name: 'admin-token', kind: 'string', arg: 'TOKEN', help: 'turns on the status page, its API and /metrics, guarded by this token (Bearer, or HTTP Basic with any user name and the token as password); must differ from the tunnel tokens (unset: those routes 404)', env: 'SOCKBRIDGE_ADMIN_TOKEN' },
    { name: 'admin-token-file', kind: 'string', arg: 'FILE', help: 'the admin token from the first line of FILE, instead of --admin-token' },
    { name: 'tls-cert', kind: 'string', arg: 'FILE', help: 'PEM certificate (chain): serve wss:// and https:// instead of ws:// and http://, with --tls-key; both or neither' },
    { name: 'tls-key', kind: 'string', arg: 'FILE', help: 'the PEM private key of --tls-cert' },
    { name: 'wisp', kind: 'switch', arg: '', help: 'also serve the Wisp protocol to web pages (libcurl.js, wisp-js, epoxy) at /wisp/TOKEN/, TOKEN a tunnel token, URL-encoded; the same rules, limits and status as tunnels apply' },
    { name: 'wisp-udp', kind: 'switch', arg: '', help: 'with --wisp: Wisp UDP streams too (off by default: UDP through open relays is abused)' },
    { name: 'workers', kind: 'string', arg: 'N', help: 'run N worker processes sharing the listeners, to use N cores (or "auto": one per CPU). The status routes and /metrics show the whole relay whichever worker answers; per-token limits hold across workers; a worker that crashes is restarted', default: '1' },
    { name: 'log-level', kind: 'enum', arg: 'LEVEL', choices: LOG_LEVELS, help: 'debug, info, warn, error or silent', default: 'info', env: 'SOCKBRIDGE_LOG_LEVEL' },
  ],
};
