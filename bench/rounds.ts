/**
 * Interleaved rounds. A figure compared across routes (figure 1: direct, the tunnel, the
 * forwarders, the naive tunnel, V2Ray) runs every route once per round, in turn, with all
 * their processes up from the first round to the last (run.ts), instead of each route's
 * repeats back to back: this machine speeds up and slows down by ±20 % over tens of
 * seconds, and in turn that weighs on every route alike rather than on whichever ran in a
 * slow stretch. A route's rounds then merge into one outcome, here.
 */
import type { RssPoint, RunOutcome } from './runner.js';

type Ok = Extract<RunOutcome, { ok: true }>;

/** One outcome for a route's rounds: the first failure if any failed, else the results merged, CPU and time summed. */
export function mergeRounds(outcomes: readonly RunOutcome[], mergeResults: (results: unknown[]) => unknown): RunOutcome {
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (failed || outcomes.length === 1) return failed ?? outcomes[0]!;
  const oks = outcomes as readonly Ok[];
  const last = oks[oks.length - 1]!;
  const cpus = oks.map((o) => o.cpu);
  return {
    ok: true,
    result: mergeResults(oks.map((o) => o.result)),
    checkpoints: last.checkpoints,
    peak: oks.map((o) => o.peak).reduce<RssPoint | null>((a, b) => (b !== null && (a === null || b.totalKiB > a.totalKiB) ? b : a), null),
    cpu: cpus.every((c) => c !== null)
      ? { relaySec: sum(cpus.map((c) => c!.relaySec)), clientSec: sum(cpus.map((c) => c!.clientSec)), wallSec: sum(cpus.map((c) => c!.wallSec)) }
      : null,
    seconds: sum(oks.map((o) => o.seconds)),
    ...(last.windows ? { windows: last.windows } : {}),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
