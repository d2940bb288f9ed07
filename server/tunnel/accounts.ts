/**
 * Who a tunnel belongs to and what it may do: --token tokens and the users of a users file,
 * each with its own destination policy and limits. Built once per users file; a reload
 * builds a new one, and tunnels keep the account they were opened with.
 */
import { DestinationPolicy } from '../policy/destination-policy.js';
import type { TargetRule } from '../policy/target-rule.js';
import { TokenChecker } from './auth.js';
import { cliTokenName, isCliTokenName } from './token-names.js';
import type { UsersFile } from './users-file.js';

export interface Account {
  /** `token-1`… for --token, else the user's name; shown in logs and status, never the token. */
  name: string;
  policy: DestinationPolicy;
  maxTunnels: number;
  maxStreams: number;
}

export interface AccountDefaults {
  /** --allow/--deny, ahead of everything in the users file. */
  rules: readonly TargetRule[];
  maxTunnels: number;
  maxStreams: number;
}

export class Accounts {
  private readonly checker: TokenChecker;
  private readonly byName = new Map<string, Account>();
  /** What every --token tunnel is decided by, whichever `token-N` it was. */
  private readonly tokenPolicy: DestinationPolicy;

  /** Rule order: command line, then the user's rules, then the file's global rules, then the safe default. */
  constructor(tokens: readonly string[], users: UsersFile | null, defaults: AccountDefaults) {
    const globalRules = users?.rules ?? [];
    const tokenPolicy = new DestinationPolicy([...defaults.rules, ...globalRules]);
    this.tokenPolicy = tokenPolicy;
    tokens.forEach((_, index) => {
      const name = cliTokenName(index);
      this.byName.set(name, { name, policy: tokenPolicy, maxTunnels: defaults.maxTunnels, maxStreams: defaults.maxStreams });
    });
    for (const user of users?.users ?? []) {
      this.byName.set(user.name, {
        name: user.name,
        policy: new DestinationPolicy([...defaults.rules, ...user.rules, ...globalRules]),
        maxTunnels: user.maxTunnels ?? defaults.maxTunnels,
        maxStreams: user.maxStreams ?? defaults.maxStreams,
      });
    }
    this.checker = new TokenChecker(
      tokens,
      (users?.users ?? []).map((user) => ({ name: user.name, digest: user.tokenSha256 })),
    );
  }

  /** The current rules of the account named `name`: --token tunnels share theirs; null for a user no longer there. */
  policyOf(name: string): DestinationPolicy | null {
    if (isCliTokenName(name)) return this.tokenPolicy;
    return this.byName.get(name)?.policy ?? null;
  }

  /** The account `presented` opens, or null; every token and hash is compared in constant time. */
  match(presented: string | null): Account | null {
    const name = this.checker.match(presented);
    return name === null ? null : (this.byName.get(name) ?? null);
  }
}
