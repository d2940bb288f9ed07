/** Flag parsing shared by the subcommands: node's parseArgs plus errors that name the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseHostPort } from '../common/host-port.js';
import { isLogLevel, type LogLevel } from '../common/log.js';
import { parsePortRange, type PortRange } from '../common/port-range.js';
import type { Address } from '../protocol/frame.js';

/** A wrong flag or value: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Options = ParseArgsConfig['options'];

export function parseFlags<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // parseArgs messages already name the flag: "Unknown option '--foo'".
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}

export function hostPortFlag(flag: string, value: string | undefined, fallback: Address): Address {
  if (value === undefined) return fallback;
  const parsed = parseHostPort(value);
  if (typeof parsed === 'string') throw new UsageError(`${flag}: ${parsed}`);
  return parsed;
}

/** Durations are given in seconds on the command line and used in milliseconds. */
export function secondsFlag(flag: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`${flag}: "${value}" is not a positive number of seconds`);
  return Math.round(seconds * 1000);
}

export function logLevelFlag(value: string | undefined): LogLevel {
  const level = value ?? process.env.SOCKBRIDGE_LOG_LEVEL ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level: "${level}" is not one of debug, info, warn, error, silent`);
  return level;
}

/** --token may repeat; SOCKBRIDGE_TOKEN may hold several, comma-separated. */
export function tokensFrom(flagValues: string[] | undefined): string[] {
  if (flagValues && flagValues.length > 0) return flagValues;
  const fromEnv = process.env.SOCKBRIDGE_TOKEN;
  return fromEnv ? fromEnv.split(',').map((token) => token.trim()).filter((token) => token.length > 0) : [];
}

/**
 * Resolves once SIGINT or SIGTERM arrives. A second signal during the graceful stop that
 * follows ends the process at once.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      const again = (): never => process.exit(0);
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      resolve(signal);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}

/** How long a stopping process lets open streams finish. */
export const DEFAULT_GRACE_MS = 10_000;

/** LOW-HIGH, e.g. 40000-40100. */
export function portRangeFlag(flag: string, value: string | undefined): PortRange | null {
  if (value === undefined) return null;
  const ports = parsePortRange(value);
  if (ports === null) throw new UsageError(`${flag}: "${value}" is not LOW-HIGH`);
  return ports;
}

/**
 * The values of repeatable string flags in command-line order, across flags:
 * `--allow A --deny B --allow C` → allow A, deny B, allow C (first match wins, so order matters).
 * Run after parseFlags, which has already rejected unknown flags.
 */
export function orderedValues(argv: string[], names: readonly string[]): Array<{ name: string; value: string }> {
  const options = Object.fromEntries(names.map((name) => [name, { type: 'string' as const, multiple: true }]));
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const ordered: Array<{ name: string; value: string }> = [];
  for (const token of tokens ?? []) {
    if (token.kind === 'option' && names.includes(token.name) && token.value !== undefined) ordered.push({ name: token.name, value: token.value });
  }
  return ordered;
}

/** A positive whole number, e.g. a limit. */
export function countFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const count = Number(value);
  if (!Number.isInteger(count) || count <= 0) throw new UsageError(`${flag}: "${value}" is not a positive whole number`);
  return count;
}
