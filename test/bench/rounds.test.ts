/**
 * Interleaved rounds (bench/rounds.ts): every route runs once per round, in turn, and each
 * route's rounds merge into one outcome: the first failure wins, bulk results keep every run
 * with the best counting, and CPU per GiB is weighted by the bytes of each round.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRounds, runInRounds } from '../../bench/rounds.js';
import type { RunOutcome } from '../../bench/runner.js';
import { mergeBulkResults, type BulkResult } from '../../bench/scenarios/bulk.js';
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
  test('every route runs once per round, in the order given', async () => {
    const order: string[] = [];
    const route = (name: string) => ({ name, run: async () => (order.push(name), ok(bulk(100, 200))) });
    const merged = await runInRounds(3, [route('direct'), route('tunnel'), route('naive')], (results) => mergeBulkResults(results as BulkResult[]));
    assert.deepEqual(order, ['direct', 'tunnel', 'naive', 'direct', 'tunnel', 'naive', 'direct', 'tunnel', 'naive']);
    assert.deepEqual([...merged.keys()], ['direct', 'tunnel', 'naive']);
    const tunnel = merged.get('tunnel')!;
    assert.ok(tunnel.ok);
    assert.equal((tunnel.result as BulkResult).uploads.length, 3);
    assert.equal(tunnel.seconds, 9);
    assert.deepEqual(tunnel.cpu, { relaySec: 3, clientSec: 3, wallSec: 6 });
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
});
