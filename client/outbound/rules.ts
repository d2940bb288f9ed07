/**
 * The client's routing rules: each sends a TARGET (common/target-syntax.ts) to the relay,
 * to a direct dial or to a local refusal; the first matching rule wins, and a destination
 * no rule matches goes through the relay. Names are matched as the application wrote them
 * (no DNS lookup, so nothing leaks); IP rules match only destinations given as IPs.
 *
 * Lists of tens of thousands of domains must cost the same per lookup as a short one, so
 * rules are indexed instead of scanned: names and `*.domain` suffixes in Maps (a lookup
 * walks the labels of the name), CIDRs in one Map per prefix length (a lookup tries each
 * length in use: at most 33 for IPv4, 129 for IPv6). Rule order is kept as a number, and
 * among the candidates found the lowest one wins.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { portRangeIncludes, type PortRange } from '../../common/port-range.js';
import { normalizeName, parseTarget, type Cidr, type Target } from '../../common/target-syntax.js';
import type { Address } from '../../protocol/frame.js';
import { Route } from './route.js';

export interface RoutingRule {
  route: Route;
  target: Target;
  /** How the rule is named in logs: `--direct *.example.cn`, `rules.txt:12: block 198.51.100.0/24`. */
  origin: string;
}

export interface RouteDecision {
  route: Route;
  /** The rule that decided; null when none matched and the default (the relay) applies. */
  rule: string | null;
}

interface Entry {
  order: number;
  ports: PortRange | null;
  rule: RoutingRule;
}

/** Entries under one key, in rule order. */
type Bucket = Entry[];

const DEFAULT_DECISION: RouteDecision = { route: Route.Relay, rule: null };
const IPV4_BITS = 32;

export function ruleFromFlag(route: Route, text: string): RoutingRule {
  return { route, target: parseTarget(text, { allowAny: true }), origin: `--${route} ${text}` };
}

export class RoutingTable {
  private readonly names = new Map<string, Bucket>();
  private readonly suffixes = new Map<string, Bucket>();
  /** Prefix length → masked network (as a number) → entries. */
  private readonly v4 = new Map<number, Map<number, Bucket>>();
  /** Prefix length → masked network (as hex) → entries. */
  private readonly v6 = new Map<number, Map<string, Bucket>>();
  private readonly any: Bucket = [];
  private probeCount = 0;

  constructor(readonly rules: readonly RoutingRule[]) {
    rules.forEach((rule, order) => this.add({ order, ports: rule.target.ports, rule }));
  }

  get size(): number {
    return this.rules.length;
  }

  /**
   * Buckets looked up and entries compared by decide() since the table was built: what the
   * index keeps to a few per lookup whatever the number of rules (tests read it; a scan
   * would count every rule).
   */
  get probes(): number {
    return this.probeCount;
  }

  decide(target: Address): RouteDecision {
    if (this.rules.length === 0) return DEFAULT_DECISION; // the usual case costs nothing
    let best = this.firstIn(this.any, target.port, null);
    if (isIP(target.host) === 0) best = this.byName(normalizeName(target.host), target.port, best);
    else best = this.byAddress(target.host, target.port, best);
    return best === null ? DEFAULT_DECISION : { route: best.rule.route, rule: best.rule.origin };
  }

  private add(entry: Entry): void {
    const host = entry.rule.target.host;
    switch (host.kind) {
      case 'any': this.any.push(entry); break;
      case 'name': push(this.names, host.name, entry); break;
      case 'suffix': push(this.suffixes, host.domain, entry); break;
      case 'cidr': this.addCidr(host.cidr, entry); break;
    }
  }

  private addCidr([network, prefix]: Cidr, entry: Entry): void {
    const bytes = network.toByteArray();
    if (network.kind() === 'ipv4') push(inner(this.v4, prefix), v4Key(bytes, prefix), entry);
    else push(inner(this.v6, prefix), v6Key(bytes, prefix), entry);
  }

  /** The exact name, then every parent domain for `*.domain` (which excludes the domain itself). */
  private byName(name: string, port: number, best: Entry | null): Entry | null {
    best = this.firstIn(this.names.get(name), port, best);
    for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) {
      best = this.firstIn(this.suffixes.get(name.slice(dot + 1)), port, best);
    }
    return best;
  }

  private byAddress(host: string, port: number, best: Entry | null): Entry | null {
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      address = ipaddr.process(host); // IPv4-mapped IPv6 is matched as IPv4
    } catch {
      return best; // e.g. a zone index ipaddr.js does not read: no IP rule can speak for it
    }
    const bytes = address.toByteArray();
    if (address.kind() === 'ipv4') {
      for (const [prefix, networks] of this.v4) best = this.firstIn(networks.get(v4Key(bytes, prefix)), port, best);
    } else {
      for (const [prefix, networks] of this.v6) best = this.firstIn(networks.get(v6Key(bytes, prefix)), port, best);
    }
    return best;
  }

  /** The first entry of `bucket` whose ports include `port`, if it comes before `best`; else `best`. */
  private firstIn(bucket: Bucket | undefined, port: number, best: Entry | null): Entry | null {
    this.probeCount++;
    if (bucket === undefined) return best;
    for (const entry of bucket) {
      this.probeCount++;
      if (best !== null && entry.order > best.order) return best; // buckets are in rule order
      if (entry.ports === null || portRangeIncludes(entry.ports, port)) return entry;
    }
    return best;
  }
}

function push<K>(map: Map<K, Bucket>, key: K, entry: Entry): void {
  const bucket = map.get(key);
  if (bucket) bucket.push(entry);
  else map.set(key, [entry]);
}

function inner<K>(map: Map<number, Map<K, Bucket>>, prefix: number): Map<K, Bucket> {
  let networks = map.get(prefix);
  if (!networks) map.set(prefix, (networks = new Map()));
  return networks;
}

/** The top `prefix` bits of an IPv4 address as a number (JS shifts by 32 are no-ops, hence the test). */
function v4Key(bytes: number[], prefix: number): number {
  const value = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  return prefix === 0 ? 0 : value >>> (IPV4_BITS - prefix);
}

/** The top `prefix` bits of an IPv6 address, as hex of whole bytes with the last one masked. */
function v6Key(bytes: number[], prefix: number): string {
  let key = '';
  for (let bit = 0; bit < prefix; bit += 8) {
    const keep = Math.min(8, prefix - bit);
    const byte = bytes[bit / 8] & ((0xff << (8 - keep)) & 0xff);
    key += byte.toString(16).padStart(2, '0');
  }
  return key;
}
