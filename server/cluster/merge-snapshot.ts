/**
 * The whole relay's status from its workers' snapshots: totals and error counts added up,
 * every tunnel and stream listed, ids made unique by prefixing the worker's id ("2.7" is
 * tunnel 7 of worker 2), throughput samples added second by second counting back from
 * the newest. A worker that was restarted starts its totals from zero again.
 */
import type { StatusSnapshot, StatusTotals, ThroughputSample } from '../status/snapshot.js';
import type { WorkerSnapshot } from './messages.js';

export function mergeSnapshots(parts: readonly WorkerSnapshot[], startedAt: number, now = Date.now()): StatusSnapshot {
  const ordered = [...parts].sort((a, b) => a.worker - b.worker);
  return {
    version: ordered[0]?.snapshot.version ?? '',
    now,
    startedAt,
    uptimeMs: now - startedAt,
    totals: addTotals(ordered.map((part) => part.snapshot.totals)),
    tunnels: ordered.flatMap(({ worker, pid, snapshot }) => snapshot.tunnels.map((tunnel) => ({ ...tunnel, id: `${worker}.${tunnel.id}`, worker, pid }))),
    streams: ordered.flatMap(({ worker, snapshot }) =>
      snapshot.streams.map((stream) => ({ ...stream, id: `${worker}.${stream.tunnel}/${stream.streamId}`, tunnel: `${worker}.${stream.tunnel}` })),
    ),
    throughput: addThroughput(ordered.map((part) => part.snapshot.throughput)),
    workers: ordered.map(({ worker, pid, snapshot }) => ({ id: worker, pid, startedAt: snapshot.startedAt, tunnels: snapshot.totals.tunnels })),
  };
}

function addTotals(all: readonly StatusTotals[]): StatusTotals {
  const sum: StatusTotals = { tunnels: 0, tunnelsOpened: 0, streams: 0, streamsOpened: 0, bytesUp: 0, bytesDown: 0, rateUp: 0, rateDown: 0, errors: {} };
  for (const totals of all) {
    sum.tunnels += totals.tunnels;
    sum.tunnelsOpened += totals.tunnelsOpened;
    sum.streams += totals.streams;
    sum.streamsOpened += totals.streamsOpened;
    sum.bytesUp += totals.bytesUp;
    sum.bytesDown += totals.bytesDown;
    sum.rateUp += totals.rateUp;
    sum.rateDown += totals.rateDown;
    for (const [reason, count] of Object.entries(totals.errors)) sum.errors[reason] = (sum.errors[reason] ?? 0) + count;
  }
  return sum;
}

/** Each worker samples once a second on its own clock: the i-th newest samples are added together. */
function addThroughput(rings: readonly ThroughputSample[][]): ThroughputSample[] {
  const longest = rings.reduce((a, b) => (b.length > a.length ? b : a), [] as ThroughputSample[]);
  return longest.map((sample, index) => {
    const back = longest.length - index;
    let up = 0;
    let down = 0;
    for (const ring of rings) {
      const other = ring[ring.length - back];
      if (other === undefined) continue;
      up += other.up;
      down += other.down;
    }
    return { t: sample.t, up, down };
  });
}
