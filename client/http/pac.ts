/**
 * The proxy auto-config file served at GET /proxy.pac: SOCKS5 to this listener for
 * everything (this port as an HTTP proxy as the fallback, for PAC clients without SOCKS),
 * DIRECT for loopback and for destinations the routing rules send direct. The rules keep
 * their meaning: first match wins, names as written (no lookup), IP rules only for IPs, so
 * a --block or relay rule ahead of a --direct one keeps its destination on the proxy.
 *
 * Like client/outbound/rules.ts the script indexes names and `*.domain` suffixes, so a long
 * rules file costs a few lookups per request; it uses no PAC helper functions (isInNet
 * resolves names and is IPv4-only), so every browser and the tests run the same code.
 */
import { formatHostPort } from '../../common/host-port.js';
import { parseTarget, type Target } from '../../common/target-syntax.js';
import type { Address } from '../../protocol/frame.js';
import { MAX_PORT } from '../../common/port-range.js';

export const PAC_PATH = '/proxy.pac';
/** The MIME type browsers expect for PAC files (Netscape's original name, still the only one). */
export const PAC_CONTENT_TYPE = 'application/x-ns-proxy-autoconfig';

/** A routing rule as the PAC file sees it: DIRECT, or through this proxy (the relay, or a block the client answers). */
export interface PacRule {
  target: Target;
  direct: boolean;
}

/** Loopback never goes through a proxy: the relay's loopback is not the application's. */
const LOOPBACK_RULES: readonly PacRule[] = ['localhost', '*.localhost', '127.0.0.0/8', '::1'].map((text) => ({ target: parseTarget(text), direct: true }));

/** What the script reads: entries are [order, direct 0/1, lowest port, highest port], CIDRs then [family, prefix, groups…]. */
interface PacTables {
  names: Record<string, number[][]>;
  suffixes: Record<string, number[][]>;
  cidrs: number[][];
  any: number[][];
}

/** Keys carry a prefix so that no name (`__proto__`, `constructor`) can be an object's own machinery. */
const KEY_PREFIX = 'k:';
const ALL_PORTS = [1, MAX_PORT];

/** The PAC file for a listener reached at `proxy`, with `rules` (in their order) after the loopback ones. */
export function buildPac(proxy: Address, rules: readonly PacRule[] = []): string {
  const hostPort = formatHostPort(proxy);
  return `// sockbridge: SOCKS5 through ${hostPort}, DIRECT for loopback and --direct destinations
var PROXY = ${JSON.stringify(`SOCKS5 ${hostPort}; PROXY ${hostPort}`)};
var RULES = ${JSON.stringify(tablesFor([...LOOPBACK_RULES, ...rules]))};
${PAC_FUNCTIONS}`;
}

/**
 * The PAC files served, built once per rules object and address the port was reached at
 * (a few: one per local address a 0.0.0.0 listener is reached on). With 50,000 rules a file
 * is about 2 MB, too much to rebuild per fetch; a reload (SIGHUP) brings a new rules object.
 */
export class PacFiles {
  private rules: readonly PacRule[] | null = null;
  private readonly byProxy = new Map<string, Buffer>();

  get(proxy: Address, rules: readonly PacRule[]): Buffer {
    if (rules !== this.rules) {
      this.rules = rules;
      this.byProxy.clear();
    }
    const key = formatHostPort(proxy);
    let pac = this.byProxy.get(key);
    if (pac === undefined) {
      pac = Buffer.from(buildPac(proxy, rules));
      this.byProxy.set(key, pac);
    }
    return pac;
  }
}

function tablesFor(rules: readonly PacRule[]): PacTables {
  const tables: PacTables = { names: {}, suffixes: {}, cidrs: [], any: [] };
  const add = (table: Record<string, number[][]>, key: string, entry: number[]): void => {
    (table[KEY_PREFIX + key] ??= []).push(entry);
  };
  rules.forEach(({ target, direct }, order) => {
    const entry = [order, direct ? 1 : 0, ...(target.ports ? [target.ports.low, target.ports.high] : ALL_PORTS)];
    const host = target.host;
    switch (host.kind) {
      case 'name': return add(tables.names, host.name, entry);
      case 'suffix': return add(tables.suffixes, host.domain, entry);
      case 'any': return void tables.any.push(entry);
      case 'cidr': {
        const [network, prefix] = host.cidr;
        const bytes = network.toByteArray();
        const groups = network.kind() === 'ipv4' ? bytes : bytes.filter((_, i) => i % 2 === 0).map((high, i) => (high << 8) | bytes[2 * i + 1]);
        return void tables.cidrs.push([...entry, network.kind() === 'ipv4' ? 4 : 6, prefix, ...groups]);
      }
    }
  });
  return tables;
}

/**
 * ES5, as PAC engines run it. hostGroups turns an address literal into its groups (4 bytes or
 * 8 16-bit words) so one prefix comparison serves both families; names never resolve.
 */
const PAC_FUNCTIONS = `var KEY_PREFIX = ${JSON.stringify(KEY_PREFIX)};
var DEFAULT_PORTS = { http: 80, ws: 80, https: 443, wss: 443, ftp: 21 };
function hostGroups(host, family) {
  if (family === 4) {
    var m = /^(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)$/.exec(host);
    return m ? [+m[1], +m[2], +m[3], +m[4]] : null;
  }
  if (host.indexOf(':') < 0 || !/^[0-9a-f:]+$/.test(host)) return null;
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
function inPrefix(groups, entry) {
  var width = entry[4] === 4 ? 8 : 16, bits = entry[5];
  for (var i = 0; bits > 0; i++, bits -= width) {
    var mask = bits >= width ? (1 << width) - 1 : ((1 << width) - 1) ^ ((1 << (width - bits)) - 1);
    if ((groups[i] & mask) !== (entry[6 + i] & mask)) return false;
  }
  return true;
}
function urlPort(url) {
  var m = /^([a-z][a-z0-9+.-]*):\\/\\/(?:\\[[^\\]]*\\]|[^\\/?#:]*)(?::(\\d+))?/i.exec(url);
  if (!m) return 0;
  return m[2] ? +m[2] : DEFAULT_PORTS[m[1].toLowerCase()] || 0;
}
function earlier(best, entry, port) {
  if (port < entry[2] || port > entry[3]) return best;
  return best === null || entry[0] < best[0] ? entry : best;
}
function firstIn(table, key, port, best) {
  var entries = Object.prototype.hasOwnProperty.call(table, KEY_PREFIX + key) ? table[KEY_PREFIX + key] : [];
  for (var i = 0; i < entries.length; i++) best = earlier(best, entries[i], port);
  return best;
}
function FindProxyForURL(url, host) {
  var name = host.toLowerCase().replace(/^\\[|\\]$/g, '').replace(/\\.$/, '');
  var port = urlPort(url), best = null, i;
  for (i = 0; i < RULES.any.length; i++) best = earlier(best, RULES.any[i], port);
  var v4 = hostGroups(name, 4), v6 = v4 ? null : hostGroups(name, 6);
  if (v4 !== null || v6 !== null) {
    for (i = 0; i < RULES.cidrs.length; i++) {
      var entry = RULES.cidrs[i];
      if ((entry[4] === 4 ? v4 : v6) !== null && inPrefix(entry[4] === 4 ? v4 : v6, entry)) best = earlier(best, entry, port);
    }
  } else {
    best = firstIn(RULES.names, name, port, best);
    for (var dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) best = firstIn(RULES.suffixes, name.substring(dot + 1), port, best);
  }
  return best !== null && best[1] === 1 ? 'DIRECT' : PROXY;
}
`;
