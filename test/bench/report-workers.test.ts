/** Figure 14 in the bench report: one row per --workers count, the per-stream rates and CPU in the notes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLANS } from '../../bench/plan.js';
import { buildReport, type PlanOutcome } from '../../bench/report.js';
import type { RunOutcome } from '../../bench/runner.js';
import type { ParallelResult } from '../../bench/scenarios/parallel.js';

function ok(meanMibps: number, cpu: ParallelResult['cpu']): RunOutcome {
  const result: ParallelResult = { streams: 8, meanMibps, finalMibps: meanMibps, perStreamMeanMibps: [meanMibps / 2, meanMibps / 2], cpu, seconds: 5 };
  return { ok: true, result, checkpoints: {}, peak: null, cpu: null, seconds: 7 };
}

test('figure 14: a row for 1 and for 2 workers against direct, and their ratio in the notes', () => {
  const plan = PLANS.find((p) => p.id === '14')!;
  const one = ok(400, { relaySec: 2, clientSec: 3 });
  const outcome: PlanOutcome = {
    plan,
    direct: ok(1000, null),
    tunnel: one,
    reference: null,
    byWorkers: [
      { workers: 1, outcome: one },
      { workers: 2, outcome: ok(500, { relaySec: 4, clientSec: 3 }) },
    ],
    skipped: null,
  };
  const report = buildReport([outcome]);
  assert.deepEqual(
    report.rows.map((row) => [row.figure, row.direct, row.tunnel, row.ratio, row.verdict]),
    [
      ['8 downloads at once, total, relay --workers 1', '1000 MiB/s', '400 MiB/s', '0.400×', 'report'],
      ['8 downloads at once, total, relay --workers 2', '1000 MiB/s', '500 MiB/s', '0.500×', 'report'],
    ],
  );
  assert.ok(report.notes.includes('#14 2 workers: each stream 250 / 250 MiB/s; over the 5.0 s: relay 4.00 s (80 % of a core), clients 3.00 s (60 % of a core)'), report.notes.join('\n'));
  assert.ok(report.notes.some((note) => note.startsWith('#14 2 workers / 1 worker: 1.25× the total')), report.notes.join('\n'));
  assert.equal(report.anyFailed, false);
});

test('figure 14: a failed 2-worker run is a failure of the bench', () => {
  const plan = PLANS.find((p) => p.id === '14')!;
  const one = ok(400, null);
  const failed: RunOutcome = { ok: false, reason: 'relay exited (code 1)', seconds: 1 };
  const report = buildReport([{ plan, direct: ok(1000, null), tunnel: one, reference: null, byWorkers: [{ workers: 1, outcome: one }, { workers: 2, outcome: failed }], skipped: null }]);
  assert.equal(report.anyFailed, true);
  assert.ok(report.notes.includes('#14 tunnel, 2 workers: FAILED: relay exited (code 1)'));
  assert.equal(report.rows[1]!.verdict, 'FAILED');
});
