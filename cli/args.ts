/** Flag parsing shared by the subcommands: node's parseArgs plus errors that name the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseHostPort } from '../common/host-port.js';
import { isLogLevel, type LogLevel } from '../common/log.js';
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
