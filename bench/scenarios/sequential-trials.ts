/**
 * Runs one trial after another: `warmup` untimed ones, then up to `count` measured ones,
 * stopping early at `capMs`. Failures of measured trials are tallied; warm-up failures are not.
 */
import { performance } from 'node:perf_hooks';
import { ErrorTally } from './error-tally.js';

export interface TrialPlan {
  count: number;
  warmup: number;
  capMs: number;
}

export interface TrialOutcome<T> {
  /** What each measured trial that succeeded returned, in order. */
  results: T[];
  /** Measured trials started (fewer than `count` if the cap cut the run short). */
  attempted: number;
  errors: ErrorTally;
}

export async function runSequentialTrials<T>(plan: TrialPlan, trial: () => Promise<T>, onProgress: (attempted: number) => void): Promise<TrialOutcome<T>> {
  const results: T[] = [];
  const errors = new ErrorTally();
  const deadline = performance.now() + plan.capMs;
  let attempted = 0;
  for (let i = 0; i < plan.warmup + plan.count && performance.now() < deadline; i++) {
    const measured = i >= plan.warmup;
    if (measured) attempted++;
    try {
      const result = await trial();
      if (measured) results.push(result);
    } catch (err) {
      if (measured) errors.add(err);
    }
    if (measured) onProgress(attempted);
  }
  return { results, attempted, errors };
}
