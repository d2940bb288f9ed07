/**
 * Interleaved rounds. A figure compared across routes (figure 1: direct, the tunnel, the
 * forwarders, the naive tunnel, V2Ray) runs every route once per round, in turn, instead of
 * each route's repeats back to back: this machine speeds up and slows down by ±20 % over
 * tens of seconds, and in turn that weighs on every route alike rather than on whichever
 * ran in a slow stretch. A route's rounds then merge into one outcome.
 */
import type { RssPoint, RunOutcome } from './runner.js';

type Ok = Extract<RunOutcome, { ok: true }>;

/** Runs `routes` (by name) once each per round, in their order; `rounds` 1 runs each once. */
export async function runInRounds<K extends string>(
  rounds: number,
  routes: ReadonlyArray<{ name: K; run: () => Promise<RunOutcome> }>,
  mergeResults: (results: unknown[]) => unknown,
): Promise<Map<K, RunOutcome>> {
  const byRoute = new Map<K, RunOutcome[]>(routes.map((route) => [route.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const route of routes) byRoute.get(route.name)!.push(await route.run());
  }
  return new Map([...byRoute].map(([name, outcomes]) => [name, mergeRounds(outcomes, mergeResults)]));
}

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
