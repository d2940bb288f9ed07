/**
 * The TARGET syntax the relay's --allow/--deny and the client's --direct/--block share:
 * a CIDR, an IP, an exact host name or `*.domain`, optionally `:PORT` or `:LOW-HIGH`
 * (IPv6 in brackets to carry a port): `10.0.0.0/8`, `example.com:443`, `*.example.com`,
 * `[2001:db8::/32]:1-1024`. Parsing only; each side builds its own matcher.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { MAX_PORT, isValidPortRange, parsePortRange, type PortRange } from './port-range.js';

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export type TargetHost =
  /** An IP is a CIDR of its full length. */
  | { kind: 'cidr'; cidr: Cidr }
  /** Exactly this name (normalized). */
  | { kind: 'name'; name: string }
  /** `*.domain`: every name below `domain`, not `domain` itself. */
  | { kind: 'suffix'; domain: string }
  /** `*`, where a caller allows it: every destination. */
  | { kind: 'any' };

export interface Target {
  host: TargetHost;
  /** null: every port. */
  ports: PortRange | null;
}

export interface TargetSyntax {
  /** Accept a lone `*` (optionally with ports) for every destination. */
  allowAny?: boolean;
}

export class RuleSyntaxError extends Error {
  constructor(
    readonly text: string,
    reason: string,
  ) {
    super(`"${text}": ${reason}`);
    this.name = 'RuleSyntaxError';
  }
}

export function parseTarget(text: string, syntax: TargetSyntax = {}): Target {
  const { host, ports } = splitPorts(text);
  if (host === '*' && syntax.allowAny) return { host: { kind: 'any' }, ports };
  return { host: parseHost(host, text), ports };
}

/** Names compare without case and without the root's trailing dot: `Example.COM.` is `example.com`. */
export function normalizeName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

/** True when `ip` (IPv4-mapped IPv6 counts as IPv4) lies in `cidr`. */
export function cidrIncludes(cidr: Cidr, ip: string): boolean {
  const address = ipaddr.process(ip);
  return address.kind() === cidr[0].kind() && address.match(cidr);
}

/** Separates `HOST[:PORTS]`; IPv6 needs brackets to carry ports. */
function splitPorts(text: string): { host: string; ports: PortRange | null } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw new RuleSyntaxError(text, 'missing "]"');
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new RuleSyntaxError(text, 'expected ":PORT" after "]"');
    const host = text.slice(1, close);
    if (isIP(host.split('/')[0]) !== 6) throw new RuleSyntaxError(text, 'only an IPv6 address or CIDR goes in brackets');
    return { host, ports: rest === '' ? null : parsePorts(rest.slice(1), text) };
  }
  const colons = text.split(':').length - 1;
  if (colons !== 1) return { host: text, ports: null }; // none, or a bare IPv6 address/CIDR
  const colon = text.indexOf(':');
  return { host: text.slice(0, colon), ports: parsePorts(text.slice(colon + 1), text) };
}

function parsePorts(spec: string, text: string): PortRange {
  const ports = parsePortRange(spec, { allowSinglePort: true });
  if (ports === null) throw new RuleSyntaxError(text, `"${spec}" is not a port or LOW-HIGH range`);
  if (!isValidPortRange(ports)) throw new RuleSyntaxError(text, `port range ${spec} is not within 1-${MAX_PORT} and ordered`);
  return ports;
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

function parseHost(host: string, text: string): TargetHost {
  if (host === '') throw new RuleSyntaxError(text, 'no destination');
  if (host.includes('/')) return { kind: 'cidr', cidr: parseCidr(host, text) };
  // net.isIP, not ipaddr.isValid: shorthand such as "10.1" must not quietly mean 10.0.0.1.
  const family = isIP(host);
  if (family !== 0) return { kind: 'cidr', cidr: parseCidr(`${host}/${family === 4 ? 32 : 128}`, text) };
  const wildcard = host.startsWith('*.');
  const name = normalizeName(wildcard ? host.slice(2) : host);
  // A numeric last label is no host name but an IP in shorthand ("10.1"), which would confuse.
  if (!HOST_NAME.test(name) || /(^|\.)\d+$/.test(name)) {
    throw new RuleSyntaxError(text, `"${host}" is not a CIDR, an IP address, a host name or *.domain`);
  }
  return wildcard ? { kind: 'suffix', domain: name } : { kind: 'name', name };
}

function parseCidr(cidr: string, text: string): Cidr {
  if (isIP(cidr.split('/')[0]) === 0) throw new RuleSyntaxError(text, `"${cidr}" is not a valid CIDR`);
  try {
    return ipaddr.parseCIDR(cidr);
  } catch {
    throw new RuleSyntaxError(text, `"${cidr}" is not a valid CIDR`);
  }
}
