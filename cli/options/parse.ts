/**
 * Command line, environment and config file → one typed value per option, each knowing
 * where it came from. Precedence: command line, then the config file, then the option's
 * environment variable (which stands in for the default), then the default.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../common/config-error.js';
import { UsageError } from '../args.js';
import { readConfigFile, type ConfigDocument } from './config-file.js';
import { closestName } from './did-you-mean.js';
import type { OptionSpec, OptionTable } from './option-table.js';
import { convertValue, type Check } from './option-values.js';
import { fileRules, type RuleEntry } from './rule-groups.js';

export type { RuleEntry };

interface Resolved {
  value: unknown;
  /** `--name`, `ENV_VAR`, `FILE: name` or `default`. */
  source: string;
}

/** The resolved options of one command. */
export class OptionValues {
  constructor(
    private readonly values: ReadonlyMap<string, Resolved>,
    private readonly groups: ReadonlyMap<string, RuleEntry[]>,
    /** --config FILE, or null. */
    readonly configFile: string | null,
    /** --help was given. */
    readonly help: boolean,
  ) {}

  /** The typed value (milliseconds for seconds, an Address for HOST:PORT…), undefined when unset. */
  get<T>(name: string): T | undefined {
    return this.values.get(name)?.value as T | undefined;
  }

  /** Where `name`'s value came from, for messages: `--token`, `relay.yaml: token`… */
  source(name: string): string {
    return this.values.get(name)?.source ?? `--${name}`;
  }

  /** The ordered entries of a rule group (`rules`: --allow/--deny). */
  rules(group: string): RuleEntry[] {
    return this.groups.get(group) ?? [];
  }

  /** Options set to different values here and in `other`. */
  changedFrom(other: OptionValues, names: Iterable<string>): string[] {
    return [...names].filter((name) => JSON.stringify(this.get(name)) !== JSON.stringify(other.get(name)));
  }

  /**
   * A ConfigError from a settings check names the flag (`--keepalive-interval: …`); when
   * the value came from the config file or the environment, say that instead.
   */
  named(err: unknown): unknown {
    if (!(err instanceof ConfigError) || !err.setting.startsWith('--')) return err;
    const source = this.source(err.setting.slice(2));
    return source === err.setting ? err : new UsageError(`${source}${err.message.slice(err.setting.length)}`);
  }

  /** A UsageError naming where `name` came from. */
  error(name: string, reason: string): UsageError {
    return new UsageError(`${this.source(name)}: ${reason}`);
  }
}

export interface OptionSources {
  argv: string[];
  env: NodeJS.ProcessEnv;
}

/** Parses `argv`, reads --config if given, and resolves every option of `table`. */
export function resolveOptions(table: OptionTable, { argv, env }: OptionSources): OptionValues {
  const { flags, order } = parseCommandLine(table, argv);
  const configFile = (flags.config as string | undefined) ?? null;
  const doc = configFile === null ? new Map<string, unknown>() : readConfigFile(configFile);
  if (configFile !== null) checkFileKeys(table, doc, configFile);
  const values = new Map<string, Resolved>();
  for (const spec of table.options) {
    if (spec.kind === 'rule') continue;
    const resolved = resolveOne(spec, flags[spec.name], doc, configFile, env);
    if (resolved !== null) values.set(spec.name, resolved);
  }
  const groups = new Map<string, RuleEntry[]>();
  for (const group of groupNames(table)) {
    const members = table.options.filter((spec) => spec.group === group).map((spec) => spec.name);
    const fromArgv = order.filter((entry) => members.includes(entry.action));
    groups.set(group, fromArgv.length > 0 ? fromArgv : fileRules(group, members, doc, configFile));
  }
  return new OptionValues(values, groups, configFile, flags.help === true);
}

function resolveOne(spec: OptionSpec, flag: unknown, doc: ConfigDocument, file: string | null, env: NodeJS.ProcessEnv): Resolved | null {
  const at = (source: string): Check => (reason) => {
    throw new UsageError(`${source}: ${reason}`);
  };
  if (flag !== undefined) return { value: convertValue(spec, flag, at(`--${spec.name}`)), source: `--${spec.name}` };
  if (doc.has(spec.name)) {
    const source = `${file}: ${spec.name}`;
    return { value: convertValue(spec, doc.get(spec.name), at(source)), source };
  }
  const fromEnv = spec.env === undefined ? undefined : env[spec.env];
  if (fromEnv !== undefined && spec.env !== undefined) {
    const raw = spec.kind === 'list' ? splitList(fromEnv) : fromEnv;
    if (!(Array.isArray(raw) && raw.length === 0)) return { value: convertValue(spec, raw, at(spec.env)), source: spec.env };
  }
  if (spec.default === undefined) return null;
  return { value: convertValue(spec, spec.default, at(`--${spec.name} default`)), source: `--${spec.name}` };
}

/** A list in an environment variable: comma-separated, blanks dropped. */
function splitList(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

function parseCommandLine(table: OptionTable, argv: string[]): { flags: Record<string, unknown>; order: RuleEntry[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } };
  for (const spec of table.options) {
    options[spec.name] = spec.kind === 'switch' ? { type: 'boolean' } : { type: 'string', multiple: spec.kind === 'list' || spec.kind === 'rule' };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false, tokens: true });
  } catch (err) {
    // parseArgs messages already name the flag: "Unknown option '--foo'".
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const ruleNames = new Set(table.options.filter((spec) => spec.kind === 'rule').map((spec) => spec.name));
  const order: RuleEntry[] = [];
  for (const token of parsed.tokens ?? []) {
    if (token.kind === 'option' && ruleNames.has(token.name) && token.value !== undefined) order.push({ action: token.name, value: token.value, source: `--${token.name}` });
  }
  return { flags: parsed.values as Record<string, unknown>, order };
}

function groupNames(table: OptionTable): string[] {
  return [...new Set(table.options.flatMap((spec) => (spec.group === undefined ? [] : [spec.group])))];
}

/** Every key must be an option (or a rule group): a misspelt one is an error, not a silent default. */
function checkFileKeys(table: OptionTable, doc: ConfigDocument, file: string): void {
  const known = [...table.options.map((spec) => spec.name), ...groupNames(table)];
  for (const key of doc.keys()) {
    if (known.includes(key)) continue;
    if (key === 'config') throw new UsageError(`${file}: config: a config file cannot name another`);
    const suggestion = closestName(key, known);
    const hint = suggestion === null ? `see sockbridge ${table.command} --help` : `did you mean ${suggestion}?`;
    throw new UsageError(`${file}: ${key}: unknown option (${hint})`);
  }
}
