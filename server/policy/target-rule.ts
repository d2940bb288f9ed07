/**
 * One pass/block rule, in the spirit of Dante's sockd.conf: a destination (CIDR, IP,
 * exact host name or `*.domain`), optionally a port or port range, and an action.
 * Syntax: `10.0.0.0/8`, `example.com:443`, `*.example.com`, `[2001:db8::/32]:1-1024`.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { MAX_PORT, isValidPortRange, parsePortRange, portRangeIncludes, type PortRange } from '../../common/port-range.js';

export type RuleAction = 'allow' | 'deny';

/** The SOCKS commands a rule may be limited to (a users file's `commands`). */
export const RULE_COMMANDS = ['connect', 'bind', 'udp'] as const;
export type RuleCommand = (typeof RULE_COMMANDS)[number];

/**
 * What a rule is asked about: the name the client asked for (null for an IP), the address
 * dialed (for BIND: the peer the request names, then the peer that connects), and the command.
 */
export interface DestinationQuery {
  name: string | null;
  ip: string;
  port: number;
  /** Absent: only rules without a `commands` list can match. */
  command?: RuleCommand;
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

type HostMatcher = (query: DestinationQuery) => boolean;

export interface TargetRule {
  action: RuleAction;
  /** The rule as written. */
  text: string;
  /** The commands the rule applies to; null for all. */
  commands: readonly RuleCommand[] | null;
  matches(query: DestinationQuery): boolean;
  /** How the rule is named in logs: `--allow 127.0.0.0/8`, `users.json users[0].rules[1]: allow 10.0.0.0/8 (connect)`. */
  describe(): string;
}

export interface RuleOptions {
  /** Limit the rule to these commands; absent or null for all. */
  commands?: readonly RuleCommand[] | null;
  /** Where the rule was written, for logs; absent for a command-line flag. */
  origin?: string;
}

export function parseTargetRule(action: RuleAction, text: string, options: RuleOptions = {}): TargetRule {
  const { host, ports } = splitPorts(text);
  const matchHost = hostMatcher(host, text);
  const commands = options.commands ?? null;
  const matchCommand = (query: DestinationQuery): boolean =>
    commands === null || (query.command !== undefined && commands.includes(query.command));
  const suffix = commands === null ? '' : ` (${commands.join(',')})`;
  const name = options.origin === undefined ? `--${action} ${text}` : `${options.origin}: ${action} ${text}`;
  return {
    action,
    text,
    commands,
    matches: (query) => matchCommand(query) && matchHost(query) && (ports === null || portRangeIncludes(ports, query.port)),
    describe: () => name + suffix,
  };
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

/** Names compare without case and without the root's trailing dot: `Example.COM.` is `example.com`. */
export function normalizeName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

function hostMatcher(host: string, text: string): HostMatcher {
  if (host === '') throw new RuleSyntaxError(text, 'no destination');
  if (host.includes('/')) return cidrMatcher(host, text);
  // net.isIP, not ipaddr.isValid: shorthand such as "10.1" must not quietly mean 10.0.0.1.
  const family = isIP(host);
  if (family !== 0) return cidrMatcher(`${host}/${family === 4 ? 32 : 128}`, text);
  const wildcard = host.startsWith('*.');
  const name = normalizeName(wildcard ? host.slice(2) : host);
  // A numeric last label is no host name but an IP in shorthand ("10.1"), which would confuse.
  if (!HOST_NAME.test(name) || /(^|\.)\d+$/.test(name)) {
    throw new RuleSyntaxError(text, `"${host}" is not a CIDR, an IP address, a host name or *.domain`);
  }
  return wildcard ? suffixMatcher(name) : (query) => query.name === name;
}

function cidrMatcher(cidr: string, text: string): HostMatcher {
  let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  if (isIP(cidr.split('/')[0]) === 0) throw new RuleSyntaxError(text, `"${cidr}" is not a valid CIDR`);
  try {
    range = ipaddr.parseCIDR(cidr);
  } catch {
    throw new RuleSyntaxError(text, `"${cidr}" is not a valid CIDR`);
  }
  return (query) => {
    const address = ipaddr.process(query.ip);
    return address.kind() === range[0].kind() && address.match(range);
  };
}

/** `*.example.com` matches every name below example.com, not example.com itself. */
function suffixMatcher(domain: string): HostMatcher {
  const suffix = `.${domain}`;
  return (query) => query.name !== null && query.name.endsWith(suffix);
}
