/**
 * `--users FILE`: named tunnel users, each with the SHA-256 of a token, optional limits and
 * destination rules, plus rules for everyone. YAML or JSON (JSON is YAML); the format is in the README. Tokens are
 * stored only as hashes, so the file holds nothing a client could present.
 *
 * Validation fails on the first problem with a message naming the file, the entry and the
 * field: `--users users.json: users[1].tokenSha256: expected 64 hex digits`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../common/config-error.js';
import { parseTargetRule, RULE_COMMANDS, RuleSyntaxError, type RuleAction, type RuleCommand, type TargetRule } from '../policy/target-rule.js';
import { isCliTokenName } from './token-names.js';

export interface UserEntry {
  name: string;
  /** SHA-256 of the token, 32 bytes. */
  tokenSha256: Buffer;
  /** Tunnels this user may hold at once; null for the relay's --max-tunnels-per-token. */
  maxTunnels: number | null;
  /** Open streams per tunnel; null for the relay's --max-streams. */
  maxStreams: number | null;
  /** This user's rules, ahead of the file's global rules. */
  rules: TargetRule[];
}

export interface UsersFile {
  users: UserEntry[];
  /** Rules for every user (and for --token tunnels), after each user's own. */
  rules: TargetRule[];
}

/** A users file that cannot be used; its message names the file, the entry and the field. */
export class UsersFileError extends ConfigError {
  constructor(
    readonly file: string,
    readonly field: string,
    reason: string,
  ) {
    super(`--users ${file}`, field === '' ? reason : `${field}: ${reason}`);
    this.name = 'UsersFileError';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;
/** Names show up in logs, the status page and metrics: keep them plain. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const FILE_KEYS = ['users', 'rules'];
const USER_KEYS = ['name', 'tokenSha256', 'maxTunnels', 'maxStreams', 'rules'];
const RULE_KEYS = ['action', 'target', 'commands'];

/** Reads and checks `path`; throws UsersFileError. */
export function loadUsersFile(path: string): UsersFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsersFileError(path, '', `cannot read: ${(err as Error).message}`);
  }
  return parseUsersFile(text, path);
}

/** Parses and checks the text of a users file; `file` is only used in messages. */
export function parseUsersFile(text: string, file: string): UsersFile {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: false });
  } catch (err) {
    throw new UsersFileError(file, '', `not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const fail = (field: string, reason: string): never => {
    throw new UsersFileError(file, field, reason);
  };
  const top = objectWithKeys(doc, FILE_KEYS, '', fail);
  if (!Array.isArray(top.users)) return fail('users', 'expected an array of users');
  const users = (top.users as unknown[]).map((entry, index) => parseUser(entry, `users[${index}]`, file, fail));
  const names = new Set<string>();
  const hashes = new Set<string>();
  users.forEach((user, index) => {
    if (names.has(user.name)) fail(`users[${index}].name`, `"${user.name}" is used by an earlier user`);
    const hex = user.tokenSha256.toString('hex');
    if (hashes.has(hex)) fail(`users[${index}].tokenSha256`, `user "${user.name}" has the same token as an earlier user`);
    names.add(user.name);
    hashes.add(hex);
  });
  const rules = top.rules === undefined ? [] : parseRules(top.rules, 'rules', file, fail);
  return { users, rules };
}

type Fail = (field: string, reason: string) => never;

function parseUser(entry: unknown, at: string, file: string, fail: Fail): UserEntry {
  const user = objectWithKeys(entry, USER_KEYS, at, fail);
  const name = user.name;
  if (typeof name !== 'string' || !USER_NAME.test(name)) {
    return fail(`${at}.name`, 'expected a name of 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');
  }
  // A user must not pass for a --token tunnel.
  if (isCliTokenName(name)) fail(`${at}.name`, `"${name}" is reserved for --token tokens`);
  // Past the name, every message also says whose entry it is.
  const failNamed: Fail = (field, reason) => fail(field, `${reason} (user "${name}")`);
  const hash = user.tokenSha256;
  // Unquoted in YAML, a hash of digits only would be read as a number.
  if (typeof hash === 'number') return failNamed(`${at}.tokenSha256`, 'expected 64 hex digits in quotes (unquoted, YAML reads it as a number)');
  if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) return failNamed(`${at}.tokenSha256`, 'expected 64 hex digits, the SHA-256 of the token');
  return {
    name,
    tokenSha256: Buffer.from(hash, 'hex'),
    maxTunnels: optionalCount(user.maxTunnels, `${at}.maxTunnels`, failNamed),
    maxStreams: optionalCount(user.maxStreams, `${at}.maxStreams`, failNamed),
    rules: user.rules === undefined ? [] : parseRules(user.rules, `${at}.rules`, file, failNamed),
  };
}

function parseRules(value: unknown, at: string, file: string, fail: Fail): TargetRule[] {
  if (!Array.isArray(value)) return fail(at, 'expected an array of rules');
  return value.map((entry: unknown, index) => {
    const field = `${at}[${index}]`;
    const rule = objectWithKeys(entry, RULE_KEYS, field, fail);
    if (rule.action !== 'allow' && rule.action !== 'deny') return fail(`${field}.action`, 'expected "allow" or "deny"');
    if (typeof rule.target !== 'string') return fail(`${field}.target`, 'expected a target such as "10.0.0.0/8:443" or "*.example.com"');
    const commands = rule.commands === undefined ? null : parseCommands(rule.commands, `${field}.commands`, fail);
    try {
      return parseTargetRule(rule.action as RuleAction, rule.target, { commands, origin: `${file} ${field}` });
    } catch (err) {
      if (err instanceof RuleSyntaxError) return fail(`${field}.target`, err.message);
      throw err;
    }
  });
}

function parseCommands(value: unknown, at: string, fail: Fail): RuleCommand[] {
  const known = RULE_COMMANDS as readonly unknown[];
  if (!Array.isArray(value) || value.length === 0 || !value.every((command) => known.includes(command))) {
    return fail(at, `expected a non-empty array of ${RULE_COMMANDS.map((command) => `"${command}"`).join(', ')}`);
  }
  return [...new Set(value as RuleCommand[])];
}

function optionalCount(value: unknown, at: string, fail: Fail): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) return fail(at, 'expected a positive whole number');
  return value;
}

/** A plain object with no keys but `allowed`: a misspelt field is an error, not a silent default. */
function objectWithKeys(value: unknown, allowed: readonly string[], at: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(at, 'expected an object');
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(at === '' ? key : `${at}.${key}`, `unknown field (expected ${allowed.join(', ')})`);
  }
  return value as Record<string, unknown>;
}
