/** The relay's settings: one object with defaults, and a check that names the bad setting. */
import { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS } from '../protocol/session.js';
import type { Address } from '../protocol/frame.js';
import type { Logger } from '../common/log.js';

export interface RelayConfig {
  /** Where the HTTP/WebSocket listener binds. Loopback unless told otherwise. */
  listen: Address;
  /** Tunnel tokens; a client must present one of them. */
  tokens: string[];
  /** How long a dial to a target may take. */
  dialTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
  logger?: Logger;
}

export const RELAY_DEFAULTS = {
  listen: { host: '127.0.0.1', port: 8080 },
  dialTimeoutMs: 10_000,
  keepaliveIntervalMs: DEFAULT_KEEPALIVE_INTERVAL_MS,
  keepaliveTimeoutMs: DEFAULT_KEEPALIVE_TIMEOUT_MS,
} as const;

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

export function resolveRelayConfig(partial: Partial<RelayConfig> & { tokens: string[] }): RelayConfig {
  const config: RelayConfig = { ...RELAY_DEFAULTS, ...partial };
  if (config.tokens.length === 0) throw new ConfigError('--token', 'at least one tunnel token is required (or set SOCKBRIDGE_TOKEN)');
  if (config.tokens.some((token) => token.length === 0)) throw new ConfigError('--token', 'a token must not be empty');
  checkPositive('--dial-timeout', config.dialTimeoutMs);
  checkPositive('--keepalive-interval', config.keepaliveIntervalMs);
  checkPositive('--keepalive-timeout', config.keepaliveTimeoutMs);
  return config;
}

export function checkPositive(setting: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(setting, `must be a positive number, got ${value}`);
}
