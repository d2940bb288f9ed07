/**
 * One pass/block rule, in the spirit of Dante's sockd.conf: a destination (CIDR, IP,
 * exact host name or `*.domain`), optionally a port or port range, and an action.
 * The TARGET syntax is common/target-syntax.ts, shared with the client's routing rules.
 */
import { portRangeIncludes } from '../../common/port-range.js';
import { cidrIncludes, parseTarget, type TargetHost } from '../../common/target-syntax.js';

export { normalizeName, RuleSyntaxError } from '../../common/target-syntax.js';

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
  const { host, ports } = parseTarget(text);
  const matchHost = hostMatcher(host);
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

function hostMatcher(host: TargetHost): HostMatcher {
  switch (host.kind) {
    case 'cidr': return (query) => cidrIncludes(host.cidr, query.ip);
    case 'name': return (query) => query.name === host.name;
    case 'suffix': return suffixMatcher(host.domain);
    default: throw new Error(`no matcher for ${host.kind}`); // parseTarget yields 'any' only when asked
  }
}

/** `*.example.com` matches every name below example.com, not example.com itself. */
function suffixMatcher(domain: string): HostMatcher {
  const suffix = `.${domain}`;
  return (query) => query.name !== null && query.name.endsWith(suffix);
}
