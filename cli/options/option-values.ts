/** Typed values from a raw string (command line, environment) or a config-file value, by option kind. */
import { parseHostPort } from '../../common/host-port.js';
import { parsePortRange } from '../../common/port-range.js';
import type { OptionSpec } from './option-table.js';

/** A value that cannot be used, with where it came from: `--max-streams`, `SOCKBRIDGE_TOKEN`, `relay.yaml: max-streams`. */
export type Check = (reason: string) => never;

/** Converts one raw value of `spec`; `raw` is a string from argv or env, or anything YAML gave. */
export function convertValue(spec: OptionSpec, raw: unknown, fail: Check): unknown {
  if (spec.kind === 'list') return listValue(raw, fail);
  if (spec.kind === 'switch') return switchValue(raw, fail);
  if (typeof raw === 'number' && isNumeric(spec)) return checkNumber(spec, raw, String(raw), fail);
  if (typeof raw !== 'string') return fail(`expected ${expected(spec)}, got ${describe(raw)}`);
  return scalarValue(spec, raw, fail);
}

function isNumeric(spec: OptionSpec): boolean {
  return spec.kind === 'seconds' || spec.kind === 'count';
}

function scalarValue(spec: OptionSpec, text: string, fail: Check): unknown {
  switch (spec.kind) {
    case 'seconds':
    case 'count':
      return checkNumber(spec, Number(text), text, fail);
    case 'host-port': {
      const parsed = parseHostPort(text);
      return typeof parsed === 'string' ? fail(parsed) : parsed;
    }
    case 'port-range':
      return parsePortRange(text) ?? fail(`"${text}" is not LOW-HIGH`);
    case 'enum':
      return (spec.choices ?? []).includes(text) ? text : fail(`"${text}" is not one of ${(spec.choices ?? []).join(', ')}`);
    default:
      return text;
  }
}

/** Seconds become milliseconds. */
function checkNumber(spec: OptionSpec, value: number, text: string, fail: Check): number {
  if (spec.kind === 'seconds') {
    if (!Number.isFinite(value) || value <= 0 || text.trim() === '') return fail(`"${text}" is not a positive number of seconds`);
    return Math.round(value * 1000);
  }
  if (!Number.isInteger(value) || value <= 0 || text.trim() === '') return fail(`"${text}" is not a positive whole number`);
  return value;
}

/** true from the command line; true or false in a config file; "true"/"false" as a default. */
function switchValue(raw: unknown, fail: Check): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return fail(`expected true or false, got ${describe(raw)}`);
}

function listValue(raw: unknown, fail: Check): string[] {
  const items = Array.isArray(raw) ? raw : [raw];
  for (const item of items) {
    if (typeof item !== 'string') return fail(`expected text or a list of text, got ${describe(item)} (quote it)`);
  }
  return items as string[];
}

/** What a config file must hold for `spec`, for messages. */
export function expected(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'seconds':
      return 'a positive number of seconds';
    case 'count':
      return 'a positive whole number';
    case 'enum':
      return `one of ${(spec.choices ?? []).join(', ')}`;
    case 'list':
      return 'text or a list of text';
    case 'switch':
      return 'true or false';
    default:
      return `text (${spec.arg}; quote it)`;
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
