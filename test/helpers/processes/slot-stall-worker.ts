/**
 * A relay worker for test/server/cluster-slot-timeout.test.ts, forked by that test's real
 * primary (startPrimary, node:cluster): one user with maxTunnels 1 on 127.0.0.1 port 0,
 * the worker link's deadline for the primary's answers cut to argv[2] ms, and the first
 * tunnel-slot request followed by a block of the event loop for argv[3] ms. Node then runs
 * the due deadline timer before it reads the primary's answer off the IPC channel: the
 * answer comes late, as after any stall longer than the deadline.
 *
 * argv: TIMEOUT_MS STALL_MS USER TOKEN. Tells the test its port (SlotFixtureMsg.Listening)
 * and, when asked, its error counts (SlotFixtureMsg.Errors).
 */
import cluster from 'node:cluster';
import { createLogger } from '../../../common/log.js';
import { digestSecret } from '../../../common/secrets.js';
import type { RelayCluster } from '../../../server/cluster/relay-cluster.js';
import { joinCluster } from '../../../server/cluster/worker-link.js';
import { startRelay } from '../../../server/relay.js';

/** The fixture's own IPC messages; the relay's link and primary ignore them (isClusterMessage). */
export const SlotFixtureMsg = {
  /** worker → test: `port` is listening. */
  Listening: 'slot-fixture:listening',
  /** test → worker: send the errors; worker → test: `errors`, the relay's error counts. */
  Errors: 'slot-fixture:errors',
} as const;

function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The link, with the event loop blocked right after the first slot request went out. */
function stallingFirstReserve(link: RelayCluster, stallMs: number): RelayCluster {
  let stalled = false;
  return {
    ...link,
    reserveTunnel(token, limit) {
      const answer = link.reserveTunnel(token, limit);
      if (!stalled) {
        stalled = true;
        blockEventLoop(stallMs);
      }
      return answer;
    },
  };
}

async function main(): Promise<void> {
  const [timeoutMs, stallMs, user, token] = process.argv.slice(2);
  const logger = createLogger('relay', 'info');
  const link = joinCluster(logger, { requestTimeoutMs: Number(timeoutMs) });
  const users = { users: [{ name: user!, tokenSha256: digestSecret(token!), maxTunnels: 1, maxStreams: null, rules: [] }], rules: [] };
  const relay = await startRelay({ tokens: [], users, listen: { host: '127.0.0.1', port: 0 }, logger }, stallingFirstReserve(link.relay, Number(stallMs)));
  process.on('message', (message: { t?: unknown }) => {
    if (message?.t === SlotFixtureMsg.Errors) process.send?.({ t: SlotFixtureMsg.Errors, errors: relay.status.snapshot().totals.errors });
  });
  link.ready();
  process.send?.({ t: SlotFixtureMsg.Listening, port: relay.address.port });
  await link.stopRequested;
  await relay.close(0);
  process.exit(0);
}

// Imported by the test for SlotFixtureMsg: only a forked worker runs the relay.
if (cluster.isWorker) void main();
