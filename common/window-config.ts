/** The receive-window settings both the relay and the client take: --window-budget and --max-stream-window. */
import { INITIAL_STREAM_WINDOW, MAX_STREAM_WINDOW_V2 } from '../protocol/frame.js';
import { DEFAULT_MAX_STREAM_WINDOW, DEFAULT_WINDOW_BUDGET } from '../protocol/session.js';
import { ConfigError } from './config-error.js';

export interface WindowConfig {
  /** Bytes the receive windows of one tunnel may grow by, together, beyond their initial windows. */
  windowBudget: number;
  /** The largest receive window one stream may reach. */
  maxStreamWindow: number;
}

export const WINDOW_DEFAULTS: WindowConfig = {
  windowBudget: DEFAULT_WINDOW_BUDGET,
  maxStreamWindow: DEFAULT_MAX_STREAM_WINDOW,
};

export function checkWindowConfig(config: WindowConfig): void {
  if (!Number.isInteger(config.windowBudget) || config.windowBudget < 0) {
    throw new ConfigError('--window-budget', `must be a whole number of bytes, got ${config.windowBudget}`);
  }
  if (!Number.isInteger(config.maxStreamWindow) || config.maxStreamWindow < INITIAL_STREAM_WINDOW || config.maxStreamWindow > MAX_STREAM_WINDOW_V2) {
    throw new ConfigError(
      '--max-stream-window',
      `must be a whole number of bytes from ${INITIAL_STREAM_WINDOW} (the initial window: no growth) to ${MAX_STREAM_WINDOW_V2}, got ${config.maxStreamWindow}`,
    );
  }
}
