/** The primary's pure parts: merging workers' snapshots, and per-token tunnel slots across workers. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeSnapshots } from '../../server/cluster/merge-snapshot.js';
import { TunnelSlots } from '../../server/cluster/tunnel-slots.js';
import type { StatusSnapshot, TunnelStatus } from '../../server/status/snapshot.js';

function tunnel(id: string): TunnelStatus {
  return { id, remote: '127.0.0.1:5000', tokenName: 'token-1', kind: 'tunnel', connectedAt: 1, rttMs: null, streams: 1, bytesUp: 10, bytesDown: 20, rateUp: 1, rateDown: 2 };
}

function snapshot(tunnels: TunnelStatus[], errors: Record<string, number>, throughput: { t: number; up: number; down: number }[]): StatusSnapshot {
  return {
    version: '1.0.0',
    now: 0,
    startedAt: 5,
    uptimeMs: 0,
    totals: { tunnels: tunnels.length, tunnelsOpened: tunnels.length + 1, streams: tunnels.length, streamsOpened: 3, bytesUp: 10, bytesDown: 20, rateUp: 1, rateDown: 2, errors },
    tunnels,
    streams: tunnels.map((t) => ({ id: `${t.id}/1`, tunnel: t.id, streamId: 1, kind: 'CONNECT', tunnelKind: t.kind, destination: 'example.com:80', resolved: null, state: 'open', ageMs: 1, bytesUp: 1, bytesDown: 1, rateUp: 0, rateDown: 0 })),
    throughput,
  };
}

describe('mergeSnapshots', () => {
  const merged = mergeSnapshots(
    [
      { worker: 2, pid: 202, snapshot: snapshot([tunnel('1')], { ECONNREFUSED: 1 }, [{ t: 30, up: 5, down: 6 }]) },
      { worker: 1, pid: 101, snapshot: snapshot([tunnel('1'), tunnel('2')], { ECONNREFUSED: 2, 'limit-tunnels-per-token': 1 }, [{ t: 10, up: 1, down: 1 }, { t: 20, up: 2, down: 3 }]) },
    ],
    1_000,
    4_000,
  );

  test('lists every tunnel and stream, with ids unique across workers', () => {
    assert.deepEqual(merged.tunnels.map((t) => [t.id, t.worker, t.pid]), [['1.1', 1, 101], ['1.2', 1, 101], ['2.1', 2, 202]]);
    assert.deepEqual(merged.streams.map((s) => [s.id, s.tunnel]), [['1.1/1', '1.1'], ['1.2/1', '1.2'], ['2.1/1', '2.1']]);
    assert.deepEqual(merged.workers, [{ id: 1, pid: 101, startedAt: 5, tunnels: 2 }, { id: 2, pid: 202, startedAt: 5, tunnels: 1 }]);
  });

  test('adds totals and errors up; the uptime is the primary\'s', () => {
    assert.deepEqual(merged.totals, { tunnels: 3, tunnelsOpened: 5, streams: 3, streamsOpened: 6, bytesUp: 20, bytesDown: 40, rateUp: 2, rateDown: 4, errors: { ECONNREFUSED: 3, 'limit-tunnels-per-token': 1 } });
    assert.equal(merged.startedAt, 1_000);
    assert.equal(merged.uptimeMs, 3_000);
  });

  test('adds throughput samples counting back from the newest', () => {
    assert.deepEqual(merged.throughput, [{ t: 10, up: 1, down: 1 }, { t: 20, up: 7, down: 9 }]);
  });

  test('no workers: an empty relay', () => {
    const empty = mergeSnapshots([], 0, 10);
    assert.equal(empty.totals.tunnels, 0);
    assert.deepEqual(empty.tunnels, []);
    assert.deepEqual(empty.throughput, []);
  });
});

describe('TunnelSlots', () => {
  test('a token holds at most its limit across workers; released and dead workers give slots back', () => {
    const slots = new TunnelSlots();
    assert.equal(slots.reserve(1, 'alice', 2), true);
    assert.equal(slots.reserve(2, 'alice', 2), true);
    assert.equal(slots.reserve(1, 'alice', 2), false);
    assert.equal(slots.reserve(2, 'bob', 1), true);
    slots.release(1, 'alice');
    slots.release(1, 'alice'); // twice: no slot below zero
    assert.equal(slots.held('alice'), 1);
    assert.equal(slots.reserve(1, 'alice', 2), true);
    slots.releaseWorker(2);
    assert.equal(slots.held('alice'), 1);
    assert.equal(slots.held('bob'), 0);
  });
});
