/** The keepalive flags, checked alike on the client and the relay. */
import { maxPingGapMs } from '../protocol/keepalive.js';
import { MAX_KEEPALIVE_INTERVAL_MS } from '../protocol/session-options.js';
import { checkPositive, ConfigError } from './config-error.js';

export interface KeepaliveConfig {
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
}

const seconds = (ms: number): string => `${ms / 1000} s`;

/**
 * The interval is capped so that idle pings stay well below a CDN's idle cut-off, and the
 * timeout must exceed the longest jittered gap between pings, or an idle but healthy link
 * would be declared dead between two of them.
 */
export function checkKeepaliveConfig(config: KeepaliveConfig): void {
  checkPositive('--keepalive-interval', config.keepaliveIntervalMs);
  checkPositive('--keepalive-timeout', config.keepaliveTimeoutMs);
  if (config.keepaliveIntervalMs > MAX_KEEPALIVE_INTERVAL_MS) {
    throw new ConfigError(
      '--keepalive-interval',
      `at most ${seconds(MAX_KEEPALIVE_INTERVAL_MS)}, got ${seconds(config.keepaliveIntervalMs)} (jittered pings must stay well below the 100 s idle cut-off of common CDNs)`,
    );
  }
  const longestGap = maxPingGapMs(config.keepaliveIntervalMs);
  if (config.keepaliveTimeoutMs <= longestGap) {
    throw new ConfigError(
      '--keepalive-timeout',
      `must be above 1.25 × --keepalive-interval (${seconds(longestGap)}, the longest gap between jittered pings), got ${seconds(config.keepaliveTimeoutMs)} with --keepalive-interval ${seconds(config.keepaliveIntervalMs)}`,
    );
  }
}
