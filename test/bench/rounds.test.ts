/**
 * Interleaved rounds (bench/rounds.ts): each route's rounds merge into one outcome: the first
 * failure wins, CPU and time add up, bulk results keep every run with the best counting and
 * CPU per GiB weighted by the bytes of each round, and latency is the percentiles of every
 * round's connects together.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRounds } from '../../bench/rounds.js';
import type { RunOutcome } from '../../bench/runner.js';
import { mergeBulkResults, type BulkResult } from '../../bench/scenarios/bulk.js';
import { mergeLatencyResults, type LatencyResult } from '../../bench/scenarios/latency.js';
import type { Transfer } from '../../bench/transfer.js';

const MIB = 2 ** 20;

function transfer(mbps: number, bytes = 512 * MIB): Transfer {
  return { bytes, ms: bytes / (mbps * 1000), mbps, capped: false };
}

function bulk(up: number, down: number, cpu?: { up: number; down: number }, bytes = 512 * MIB): BulkResult {
  const result: BulkResult = { uploads: [transfer(up, bytes)], downloads: [transfer(down, bytes)], upload: transfer(up, bytes), download: transfer(down, bytes) };
  return cpu ? { ...result, cpuPerGiB: { upload: { relaySec: cpu.up, clientSec: cpu.up }, download: { relaySec: cpu.down, clientSec: cpu.down } } } : result;
}

function ok(result: unknown, cpuSec = 1): RunOutcome {
  return { ok: true, result, checkpoints: {}, peak: { relayKiB: cpuSec, clientKiB: 0, totalKiB: cpuSec }, cpu: { relaySec: cpuSec, clientSec: cpuSec, wallSec: 2 }, seconds: 3 };
}

describe('bench rounds', () => {
  test('CPU and time add up over the rounds', () => {
    const merged = mergeRounds([ok(bulk(100, 200)), ok(bulk(110, 190)), ok(bulk(90, 210))], (results) => mergeBulkResults(results as BulkResult[]));
    assert.ok(merged.ok);
    assert.equal((merged.result as BulkResult).uploads.length, 3);
    assert.equal(merged.seconds, 9);
    assert.deepEqual(merged.cpu, { relaySec: 3, clientSec: 3, wallSec: 6 });
  });

  test('a failed round makes the route failed, with its reason', () => {
    const failed: RunOutcome = { ok: false, reason: 'relay exited with code 1', seconds: 1 };
    assert.deepEqual(mergeRounds([ok(bulk(1, 1)), failed, ok(bulk(1, 1))], () => assert.fail('no merge of a failed route')), failed);
  });

  test('bulk: the best run of all rounds counts; CPU per GiB is weighted by bytes; the peak is the highest', () => {
    const merged = mergeRounds([ok(bulk(500, 700, { up: 2, down: 1 }), 1), ok(bulk(650, 600, { up: 4, down: 3 }, 1536 * MIB), 5), ok(bulk(550, 720, { up: 2, down: 1 }), 2)], (results) =>
      mergeBulkResults(results as BulkResult[]),
    );
    assert.ok(merged.ok);
    const result = merged.result as BulkResult;
    assert.deepEqual(result.uploads.map((t) => t.mbps), [500, 650, 550]);
    assert.equal(result.upload.mbps, 650);
    assert.equal(result.download.mbps, 720);
    // (2 × 512 + 4 × 1536 + 2 × 512) / 2560 = 3.2 s per GiB up; (1 × 512 + 3 × 1536 + 1 × 512) / 2560 = 2.2 down.
    assert.ok(Math.abs(result.cpuPerGiB!.upload.clientSec - 3.2) < 1e-9);
    assert.ok(Math.abs(result.cpuPerGiB!.download.relaySec - 2.2) < 1e-9);
    assert.equal(merged.peak?.totalKiB, 5);
  });

  test('bulk: without a CPU reading in every round there is no CPU per GiB', () => {
    const result = mergeBulkResults([bulk(1, 1, { up: 1, down: 1 }), bulk(1, 1)]);
    assert.equal(result.cpuPerGiB, undefined);
  });

  test("latency: the percentiles of every round's connects together, counts summed", () => {
    const round = (samplesMs: number[], failures = 0, errors = ''): LatencyResult => ({
      attempted: samplesMs.length + failures,
      completed: samplesMs.length,
      failures,
      p50Ms: NaN,
      p90Ms: NaN,
      p99Ms: NaN,
      maxMs: NaN,
      errors,
      samplesMs,
    });
    const merged = mergeLatencyResults([round([1, 2, 3]), round([10, 11], 1, 'ECONNRESET ×1'), round([4, 5, 6, 7])]);
    assert.equal(merged.attempted, 10);
    assert.equal(merged.failures, 1);
    assert.equal(merged.samplesMs.length, 9);
    assert.equal(merged.p50Ms, 5);
    assert.equal(merged.maxMs, 11);
    assert.equal(merged.errors, 'ECONNRESET ×1');
  });
});
