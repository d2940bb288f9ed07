/**
 * --workers N|auto: the relay as N worker processes sharing its listeners (node:cluster),
 * so that it uses N cores. This process then becomes the primary (server/cluster/primary.ts)
 * and serves no tunnel itself; each worker runs relayCommand again with the same arguments.
 */
import { availableParallelism } from 'node:os';
import type { Logger } from '../common/log.js';
import { resolveRelayConfig, type RelayConfig } from '../server/config.js';
import { startPrimary } from '../server/cluster/primary.js';
import { untilSignal, UsageError } from './args.js';

/** Enough for any machine; a typo such as 400 is refused rather than forking 400 processes. */
const MAX_WORKERS = 256;

/** --workers: a count from 1, or "auto" for the number of CPUs; default 1 (no workers: a single process). */
export function workersFlag(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value === 'auto') return availableParallelism();
  const count = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(count >= 1 && count <= MAX_WORKERS)) throw new UsageError(`--workers: "${value}" is not a count from 1 to ${MAX_WORKERS} or "auto"`);
  return count;
}

/**
 * The primary: checks the settings once (a bad one fails here, with exit 2, rather than in
 * every worker over and over), forks the workers and passes SIGHUP and the stop on to them.
 */
export async function runRelayPrimary(options: Partial<RelayConfig> & { tokens: string[] }, workers: number, logger: Logger): Promise<number> {
  resolveRelayConfig(options);
  const primary = startPrimary({ workers, logger });
  // Always handled (systemctl reload): each worker re-reads its files, or says it has none.
  const reload = (): void => primary.reload();
  process.on('SIGHUP', reload);
  const outcome = await Promise.race([untilSignal().then((signal) => ({ signal })), primary.failed.then((code) => ({ code }))]);
  if ('code' in outcome) return outcome.code;
  logger.info('stopping: every worker stops taking tunnels; open streams may finish', { signal: outcome.signal });
  await primary.stop();
  process.off('SIGHUP', reload);
  return 0;
}
