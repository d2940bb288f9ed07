/**
 * Where the relay may connect: the operator's rules in order, first match wins, then a
 * safe default that keeps the relay out of its own network (loopback, private, link-local
 * — including the cloud metadata address 169.254.169.254 —, unique-local, multicast…).
 * Decisions are made on the address actually dialed, after the relay resolved the name.
 */
import ipaddr from 'ipaddr.js';
import { normalizeName, type DestinationQuery, type TargetRule } from './target-rule.js';

export interface Decision {
  allowed: boolean;
  /** The rule that decided, for the log line: `--deny 10.0.0.0/8`, `default: private`. */
  rule: string;
}

/** ipaddr.js range names the safe default refuses. */
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
]);

export class DestinationPolicy {
  constructor(private readonly rules: readonly TargetRule[]) {}

  decide(query: DestinationQuery): Decision {
    const normalized = { ...query, name: query.name === null ? null : normalizeName(query.name) };
    for (const rule of this.rules) {
      if (rule.matches(normalized)) return { allowed: rule.action === 'allow', rule: rule.describe() };
    }
    return defaultDecision(query.ip);
  }
}

function defaultDecision(ip: string): Decision {
  let range: string;
  try {
    range = ipaddr.process(ip).range();
  } catch {
    return { allowed: false, rule: 'default: not an IP address' };
  }
  return DEFAULT_DENIED_RANGES.has(range) ? { allowed: false, rule: `default: ${range}` } : { allowed: true, rule: 'default: public' };
}
