/**
 * Where the relay may connect: the operator's rules in order, first match wins, then a
 * safe default that keeps the relay out of its own network (loopback, private, link-local
 * — including the cloud metadata address 169.254.169.254 —, unique-local, multicast…).
 * Decisions are made on the address actually dialed, after the relay resolved the name; an
 * IPv6 address that carries an IPv4 one (NAT64, 6to4…: embedded-ipv4.ts) is judged as both.
 */
import ipaddr from 'ipaddr.js';
import { embeddedIPv4, type EmbeddedIPv4 } from './embedded-ipv4.js';
import { normalizeName, type DestinationQuery, type TargetRule } from './target-rule.js';

export interface Decision {
  allowed: boolean;
  /**
   * The rule that decided, for the log line: `--deny 10.0.0.0/8`, `default: private`, or for an
   * IPv6 form carrying an IPv4 address `default: private (via NAT64 64:ff9b::/96)`.
   */
  rule: string;
}

/**
 * ipaddr.js range names the safe default refuses. The IPv6 forms in EMBEDDING_FORMS are
 * judged by the IPv4 address they carry before their own range is looked at.
 */
const DEFAULT_DENIED_RANGES: ReadonlySet<string> = new Set([
  'loopback',
  'private',
  'linkLocal',
  'uniqueLocal',
  'unspecified',
  'multicast',
  'broadcast',
  'carrierGradeNat',
  'reserved',
  // RFC 4380 §4: a Teredo address holds its server's IPv4 address and its client's obfuscated,
  // and is reached through a relay the relay does not choose: nothing to judge, so refused.
  'teredo',
  // What is left of ipaddr.js's rfc6052 once 64:ff9b::/96 is judged by its IPv4 address: the
  // local-use 64:ff9b:1::/48 (RFC 8215), where the IPv4 address sits at a length the network chose.
  'rfc6052',
  // RFC 3879: site-local fec0::/10, deprecated but still routed inside some networks.
  'deprecatedSiteLocal',
  // RFC 6666: the discard-only prefix 100::/64.
  'discard',
]);

const PUBLIC_RULE = 'default: public';
const NOT_AN_IP_RULE = 'default: not an IP address';

export class DestinationPolicy {
  constructor(private readonly rules: readonly TargetRule[]) {}

  decide(query: DestinationQuery): Decision {
    const normalized = { ...query, name: query.name === null ? null : normalizeName(query.name) };
    const address = parseAddress(query.ip);
    const embedded = address === null ? null : embeddedIPv4(address);
    // An IPv4 rule covers the IPv6 forms that reach its address, as cidrIncludes makes it
    // cover IPv4-mapped: `--deny 8.8.8.8` must not be bypassed through 64:ff9b::808:808.
    const asked = embedded === null ? [normalized] : [normalized, { ...normalized, ip: embedded.address.toString() }];
    for (const rule of this.rules) {
      if (asked.some((each) => rule.matches(each))) return { allowed: rule.action === 'allow', rule: rule.describe() };
    }
    return address === null ? { allowed: false, rule: NOT_AN_IP_RULE } : defaultDecision(address, embedded);
  }
}

function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    return ipaddr.process(ip);
  } catch {
    return null;
  }
}

function defaultDecision(address: ipaddr.IPv4 | ipaddr.IPv6, embedded: EmbeddedIPv4 | null): Decision {
  const range: string = (embedded?.address ?? address).range();
  if (!DEFAULT_DENIED_RANGES.has(range)) return { allowed: true, rule: PUBLIC_RULE };
  return { allowed: false, rule: embedded === null ? `default: ${range}` : `default: ${range} (via ${embedded.form.name})` };
}
