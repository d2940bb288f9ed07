/**
 * Every option of `sockbridge client`, declared once (see option-table.ts).
 *
 * Adding an option is one entry here: name, kind, arg, help, and default/env/reloadable as
 * they apply. The parser, --help, the config-file keys and the README table follow; then read
 * the value in cli/client-settings.ts (`values.get('NAME')`) and run `npm run readme:options`.
 */
import { CLIENT_DEFAULTS } from '../../client/config.js';
import { FAST_OPEN_MODES } from '../../client/fast-open.js';
import { MAX_AGE_JITTER, MAX_TUNNELS } from '../../client/pool/constants.js';
import { formatHostPort } from '../../common/host-port.js';
import { LOG_LEVELS } from '../../common/log.js';
import { INITIAL_STREAM_WINDOW, TUNNEL_PATH } from '../../protocol/frame.js';
import { DEFAULT_GRACE_MS } from '../args.js';
import { mebibytes, secondsText, type OptionTable } from './option-table.js';

const D = CLIENT_DEFAULTS;

export const CLIENT_OPTIONS: OptionTable = {
  command: 'client',
  options: [
    { name: 'link', kind: 'string', arg: 'LINK', help: 'a sockbridge:// share link ("sockbridge link"): the relays (in its order), token, fingerprint, host and sni it carries are defaults the other options override' },
    { name: 'link-file', kind: 'string', arg: 'FILE', help: 'the same, read from FILE (keeps the secret link out of ps)' },
    { name: 'relay', kind: 'list', arg: 'URL', help: `the relay's tunnel endpoint, ws://HOST:PORT${TUNNEL_PATH} or wss://; repeatable: several relays, the most preferred first` },
    { name: 'tunnels', kind: 'count', arg: 'N', help: `how many WebSockets to hold, spread over the healthy relays (at most ${MAX_TUNNELS}); each new connection takes the healthy one with the fewest open streams`, default: String(D.tunnels) },
    { name: 'tunnel-max-age', kind: 'seconds', arg: 'SECONDS', help: `drain a tunnel this old (no new streams; open ones finish) and replace it (unset: never; each tunnel's age is cut by up to ${MAX_AGE_JITTER * 100} %)` },
    { name: 'status-listen', kind: 'host-port', arg: 'HOST:PORT', help: "answer GET with the tunnels' state as JSON (loopback only)" },
    { name: 'token', kind: 'string', arg: 'TOKEN', help: 'the tunnel token (visible to ps: prefer --token-file)', env: 'SOCKBRIDGE_TOKEN' },
    { name: 'token-file', kind: 'string', arg: 'FILE', help: 'the tunnel token from the first line of FILE, instead of --token' },
    { name: 'socks', kind: 'host-port', arg: 'HOST:PORT', help: 'the SOCKS and HTTP proxy port', default: formatHostPort(D.socks) },
    { name: 'socks-user', kind: 'string', arg: 'USER:PASS', help: 'require RFC 1929 username/password from SOCKS5 clients and the same as Basic Proxy-Authorization from HTTP clients (else 407); SOCKS4, which has no password, is then refused' },
    { name: 'handshake-timeout', kind: 'seconds', arg: 'SECONDS', help: 'close a SOCKS handshake, or an HTTP request line and headers, slower than this (HTTP gets 408)', default: secondsText(D.handshakeTimeoutMs) },
    { name: 'tunnel-wait', kind: 'seconds', arg: 'SECONDS', help: 'how long a request waits for a dropped tunnel to return', default: secondsText(D.tunnelWaitMs) },
    { name: 'grace', kind: 'seconds', arg: 'SECONDS', help: 'on SIGTERM/SIGINT, how long open connections may finish (a second signal stops at once)', default: secondsText(DEFAULT_GRACE_MS) },
    { name: 'udp-idle-timeout', kind: 'seconds', arg: 'SECONDS', help: 'close a UDP association idle this long', default: secondsText(D.udpIdleTimeoutMs) },
    { name: 'keepalive-interval', kind: 'seconds', arg: 'SECONDS', help: "ping period, jittered ±25%; at most 60, so pings stay well below a CDN's 100 s idle cut-off", default: secondsText(D.keepaliveIntervalMs) },
    { name: 'keepalive-timeout', kind: 'seconds', arg: 'SECONDS', help: 'silence after which the tunnel is dead; above 1.25 × the interval', default: secondsText(D.keepaliveTimeoutMs) },
    { name: 'ca', kind: 'string', arg: 'FILE', help: "trust this PEM CA for a wss:// relay (unset: Node's CA bundle)" },
    { name: 'fingerprint', kind: 'string', arg: 'SHA256', help: "pin the relay's certificate by its SHA-256 (hex, colons optional); with a pin the chain is not checked, so a self-signed cert works" },
    { name: 'http-proxy', kind: 'string', arg: 'URL', help: 'reach the relay through an HTTP proxy with CONNECT: http://[user:pass@]host:port' },
    { name: 'host', kind: 'string', arg: 'NAME', help: "the upgrade request's Host header (unset: the --relay URL's host), e.g. the relay's name behind a CDN or a fronting domain" },
    { name: 'sni', kind: 'string', arg: 'NAME', help: "the TLS server name for a wss:// relay (unset: the URL's host); the certificate must carry it, unless --fingerprint pins the certificate" },
    { name: 'header', kind: 'list', arg: "'NAME: VALUE'", help: "an extra upgrade request header a CDN or reverse proxy needs (repeatable; not Host, Authorization or the handshake's own)" },
    { name: 'fast-open', kind: 'enum', arg: 'MODE', choices: FAST_OPEN_MODES, help: "auto: answer a CONNECT at once for a destination the relay dialed in the last 10 minutes, and send the first bytes with the OPEN; always: answer every CONNECT at once; never: always wait for the relay's dial (true error codes every time)", default: D.fastOpen },
    { name: 'direct', kind: 'rule', group: 'routes', arg: 'TARGET', help: 'dial TARGET from this machine instead of through the relay. Repeatable with --block, in order, first match wins; anything unmatched goes through the relay. TARGET as for the relay\'s --allow: CIDR, IP, host or *.domain, optionally :PORT or :LOW-HIGH ([IPv6]:PORT). Names are matched as the application gave them: no DNS lookup for a proxied name', reloadable: true },
    { name: 'block', kind: 'rule', group: 'routes', arg: 'TARGET', help: 'refuse TARGET here (SOCKS5 0x02, SOCKS4 91), a BIND naming it and UDP datagrams to it as well; in the same ordered list as --direct', reloadable: true },
    { name: 'rules', kind: 'string', arg: 'FILE', help: 'more rules, one a line: "direct *.example.cn", "block 198.51.100.0/24", "relay *"; # starts a comment. Checked after --direct/--block; a bad file on SIGHUP keeps the old rules', reloadable: true },
    { name: 'dns-listen', kind: 'host-port', arg: 'HOST:PORT', help: 'also answer DNS (UDP and TCP) here, every query sent through the tunnel to --dns-upstream (unset: off; e.g. 127.0.0.1:5353)' },
    { name: 'dns-upstream', kind: 'host-port', arg: 'HOST:PORT', help: 'the DNS server the relay asks, over TCP (a name is resolved by the relay)', default: formatHostPort(D.dnsUpstream) },
    { name: 'dns-timeout', kind: 'seconds', arg: 'SECONDS', help: 'answer SERVFAIL to a query with no answer by then', default: secondsText(D.dnsTimeoutMs) },
    { name: 'window-budget', kind: 'count', arg: 'BYTES', help: `how far the tunnel's stream windows may grow, together, beyond their initial ${mebibytes(INITIAL_STREAM_WINDOW)} each`, default: String(D.windowBudget), defaultText: `${D.windowBudget} = ${mebibytes(D.windowBudget)}` },
    { name: 'max-stream-window', kind: 'count', arg: 'BYTES', help: 'the largest window one stream may grow to', default: String(D.maxStreamWindow), defaultText: `${D.maxStreamWindow} = ${mebibytes(D.maxStreamWindow)}` },
    { name: 'log-level', kind: 'enum', arg: 'LEVEL', choices: LOG_LEVELS, help: 'debug, info, warn, error or silent', default: 'info', env: 'SOCKBRIDGE_LOG_LEVEL' },
  ],
};
