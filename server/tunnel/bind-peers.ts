/**
 * Who may connect to a BIND listener. Two checks, as Dante makes with its `bind` and
 * `bindreply` rules (ours are both command `bind`): the request, when it names a concrete
 * peer, and the peer that actually connects, before the relay accepts it into the tunnel.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Address } from '../../protocol/frame.js';
import { isUnspecified } from '../dialers/bind.js';
import type { DestinationPolicy } from '../policy/destination-policy.js';
import { ErrorReason } from '../status/error-reasons.js';

export interface BindRequestCheck {
  /** Addresses a peer may come from; null for any (DST.ADDR all zeros). */
  expected: ReadonlySet<string> | null;
  /** The rule that refused the request, or null when it may listen. */
  refusedBy: string | null;
}

/** A refused peer's `reason` is the name its refusal is counted under. */
export type PeerVerdict =
  | { allowed: true }
  | { allowed: false; reason: typeof ErrorReason.UnexpectedPeer }
  | { allowed: false; reason: typeof ErrorReason.PolicyRefused; rule: string };

/**
 * The SOCKS4 note: the incoming peer must be DSTIP. For SOCKS5 we apply the same check
 * to DST.ADDR unless it is all zeros (RFC 1928 leaves it open; Dante checks too). The rules
 * judge each address DST.ADDR stands for, with DST.PORT; those they refuse are not
 * expected. A name that does not resolve admits nobody; one whose every address is refused
 * refuses the request.
 */
export async function checkBindRequest(target: Address, policy: DestinationPolicy): Promise<BindRequestCheck> {
  if (isUnspecified(target.host)) return { expected: null, refusedBy: null };
  const name = isIP(target.host) === 0 ? target.host : null;
  const addresses = name === null ? [target.host] : await resolveAll(name);
  const decisions = addresses.map((ip) => ({ ip, decision: policy.decide({ name, ip, port: target.port, command: 'bind' }) }));
  const allowed = decisions.filter(({ decision }) => decision.allowed).map(({ ip }) => unmapIPv4(ip));
  const refusedBy = decisions.length > 0 && allowed.length === 0 ? decisions[0].decision.rule : null;
  return { expected: new Set(allowed), refusedBy };
}

/** The peer must be expected, and the rules must allow its address and port. */
export function checkBindPeer(peer: Address, expected: ReadonlySet<string> | null, policy: DestinationPolicy): PeerVerdict {
  const ip = unmapIPv4(peer.host);
  if (expected !== null && !expected.has(ip)) return { allowed: false, reason: ErrorReason.UnexpectedPeer };
  const decision = policy.decide({ name: null, ip, port: peer.port, command: 'bind' });
  return decision.allowed ? { allowed: true } : { allowed: false, reason: ErrorReason.PolicyRefused, rule: decision.rule };
}

async function resolveAll(name: string): Promise<string[]> {
  try {
    return (await lookup(name, { all: true })).map((entry) => entry.address);
  } catch {
    return [];
  }
}

function unmapIPv4(host: string): string {
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
}
