/**
 * The proxy auto-config file served at GET /proxy.pac: SOCKS5 to this listener for
 * everything (an HTTP proxy as the fallback for clients without SOCKS in PAC), DIRECT for
 * loopback and for the --direct rules. The PAC script uses no PAC helper functions
 * (isInNet resolves names and is IPv4-only), so every browser and the tests run the same code.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatHostPort } from '../../common/host-port.js';
import type { Address } from '../../protocol/frame.js';

export const PAC_PATH = '/proxy.pac';
/** The MIME type browsers expect for PAC files (Netscape's original name, still the only one). */
export const PAC_CONTENT_TYPE = 'application/x-ns-proxy-autoconfig';

/** A destination the PAC file sends DIRECT: a name, every name below a domain (as `*.domain`), or an address range; optionally only some ports. */
export type PacDirectRule =
  | { kind: 'name'; name: string; ports?: { low: number; high: number } }
  | { kind: 'domain'; domain: string; ports?: { low: number; high: number } }
  | { kind: 'cidr'; address: string; prefixLength: number; ports?: { low: number; high: number } };

/** Loopback never goes through a proxy: the proxy's own loopback is not the application's. */
export const LOOPBACK_DIRECT_RULES: readonly PacDirectRule[] = [
  { kind: 'name', name: 'localhost' },
  { kind: 'domain', domain: 'localhost' },
  { kind: 'cidr', address: '127.0.0.0', prefixLength: 8 },
  { kind: 'cidr', address: '::1', prefixLength: 128 },
];

/** The PAC file for a listener reached at `proxy`, with `direct` rules after the loopback ones. */
export function buildPac(proxy: Address, direct: readonly PacDirectRule[] = []): string {
  const hostPort = formatHostPort(proxy);
  const rules = [...LOOPBACK_DIRECT_RULES, ...direct].map(encodeRule);
  return `// sockbridge: SOCKS5 through ${hostPort}, DIRECT for loopback and --direct destinations
var PROXY = ${JSON.stringify(`SOCKS5 ${hostPort}; PROXY ${hostPort}`)};
var DIRECT_RULES = ${JSON.stringify(rules)};
${PAC_FUNCTIONS}`;
}

/** A rule as the PAC script reads it: n name, d domain suffix, v4/v6 [groups…, prefix length], p [low, high]. */
function encodeRule(rule: PacDirectRule): Record<string, unknown> {
  const ports = rule.ports ? { p: [rule.ports.low, rule.ports.high] } : {};
  if (rule.kind === 'name') return { n: rule.name.toLowerCase(), ...ports };
  if (rule.kind === 'domain') return { d: `.${rule.domain.toLowerCase().replace(/^\.+/, '')}`, ...ports };
  if (isIPv4(rule.address)) return { v4: [...rule.address.split('.').map(Number), rule.prefixLength], ...ports };
  if (isIPv6(rule.address)) return { v6: [...expandIPv6(rule.address), rule.prefixLength], ...ports };
  throw new Error(`not an IP address: ${rule.address}`);
}

/** The eight 16-bit groups of an IPv6 address (:: expanded, an embedded IPv4 tail converted). */
function expandIPv6(address: string): number[] {
  let text = address;
  const v4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail.slice(1).map(Number);
    text = `${text.slice(0, v4Tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined): number[] => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const before = parse(head);
  const after = parse(tail);
  return tail === undefined ? before : [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/**
 * ES5, as PAC engines run it. hostGroups turns an address literal into its groups (4 bytes or
 * 8 16-bit words) so one prefix comparison serves both families; names never resolve.
 */
const PAC_FUNCTIONS = `
var DEFAULT_PORTS = { http: 80, ws: 80, https: 443, wss: 443, ftp: 21 };
function hostGroups(host, family) {
  if (family === 4) {
    var m = /^(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)$/.exec(host);
    return m ? [+m[1], +m[2], +m[3], +m[4]] : null;
  }
  if (host.indexOf(':') < 0 || !/^[0-9a-f:.]+$/.test(host)) return null;
  var halves = host.split('::');
  if (halves.length > 2) return null;
  var words = function (part) { return part === '' ? [] : part.split(':'); };
  var head = words(halves[0]), tail = halves.length === 2 ? words(halves[1]) : [];
  var groups = [], i;
  for (i = 0; i < head.length; i++) groups.push(parseInt(head[i], 16));
  for (i = head.length + tail.length; halves.length === 2 && i < 8; i++) groups.push(0);
  for (i = 0; i < tail.length; i++) groups.push(parseInt(tail[i], 16));
  return groups.length === 8 ? groups : null;
}
function inPrefix(groups, rule, width) {
  var bits = rule[rule.length - 1];
  for (var i = 0; bits > 0; i++, bits -= width) {
    var mask = bits >= width ? (1 << width) - 1 : ((1 << width) - 1) ^ ((1 << (width - bits)) - 1);
    if ((groups[i] & mask) !== (rule[i] & mask)) return false;
  }
  return true;
}
function urlPort(url) {
  var m = /^([a-z][a-z0-9+.-]*):\\/\\/(?:\\[[^\\]]*\\]|[^\\/?#:]*)(?::(\\d+))?/i.exec(url);
  if (!m) return 0;
  return m[2] ? +m[2] : DEFAULT_PORTS[m[1].toLowerCase()] || 0;
}
function matches(rule, host, port) {
  if (rule.p && (port < rule.p[0] || port > rule.p[1])) return false;
  if (rule.n) return host === rule.n;
  if (rule.d) return host.length > rule.d.length && host.substring(host.length - rule.d.length) === rule.d;
  var v4 = hostGroups(host, 4), v6 = v4 ? null : hostGroups(host, 6);
  if (rule.v4) return v4 !== null && inPrefix(v4, rule.v4, 8);
  return v6 !== null && inPrefix(v6, rule.v6, 16);
}
function FindProxyForURL(url, host) {
  var name = host.toLowerCase().replace(/^\\[|\\]$/g, '').replace(/\\.$/, '');
  var port = urlPort(url);
  for (var i = 0; i < DIRECT_RULES.length; i++) {
    if (matches(DIRECT_RULES[i], name, port)) return 'DIRECT';
  }
  return PROXY;
}
`;
