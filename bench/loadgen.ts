/**
 * The load generator, its own process (forked by run.ts with an IPC channel): it waits
 * for one `run` message, runs that scenario over the given route, reports the result and
 * exits. A fresh process per run keeps file descriptors and heap from leaking across runs.
 */
import type { LoadgenMessage, ProcessCpu, RunnerMessage, ScenarioContext, ScenarioName } from './messages.js';
import { runBind, type BindParams } from './scenarios/bind.js';
import { runBulk, type BulkParams } from './scenarios/bulk.js';
import { runConcurrent, type ConcurrentParams } from './scenarios/concurrent.js';
import { runIdle, type IdleParams } from './scenarios/idle.js';
import { runLatency, type LatencyParams } from './scenarios/latency.js';
import { runRoundTrips, type RoundTripParams } from './scenarios/roundtrips.js';
import { runStalled, type StalledParams } from './scenarios/stalled.js';
import { runUdp, type UdpParams } from './scenarios/udp.js';
import { runWan, type WanParams } from './scenarios/wan.js';
import { runParallel, type ParallelParams } from './scenarios/parallel.js';
import { runFailover, type FailoverParams } from './scenarios/failover.js';

type Params = Record<string, number>;

const SCENARIOS: Record<ScenarioName, (ctx: ScenarioContext, params: Params) => Promise<unknown>> = {
  bulk: (ctx, p) => runBulk(ctx, p as unknown as BulkParams),
  latency: (ctx, p) => runLatency(ctx, p as unknown as LatencyParams),
  roundtrips: (ctx, p) => runRoundTrips(ctx, p as unknown as RoundTripParams),
  concurrent: (ctx, p) => runConcurrent(ctx, p as unknown as ConcurrentParams),
  idle: (ctx, p) => runIdle(ctx, p as unknown as IdleParams),
  stalled: (ctx, p) => runStalled(ctx, p as unknown as StalledParams),
  udp: (ctx, p) => runUdp(ctx, p as unknown as UdpParams),
  bind: (ctx, p) => runBind(ctx, p as unknown as BindParams),
  wan: (ctx, p) => runWan(ctx, p as unknown as WanParams),
  parallel: (ctx, p) => runParallel(ctx, p as unknown as ParallelParams),
  failover: (ctx, p) => runFailover(ctx, p as unknown as FailoverParams),
};

const checkpointWaiters = new Map<string, (cpu: ProcessCpu | null) => void>();

function send(message: LoadgenMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

async function run(message: Extract<RunnerMessage, { type: 'run' }>): Promise<void> {
  const ctx: ScenarioContext = {
    route: message.route,
    ports: message.ports,
    progress: (text) => void send({ type: 'progress', text }),
    checkpoint: (name) =>
      new Promise((resolve) => {
        checkpointWaiters.set(name, resolve);
        void send({ type: 'checkpoint', name });
      }),
  };
  try {
    const result = await SCENARIOS[message.scenario](ctx, message.params);
    await send({ type: 'result', result });
  } catch (err) {
    await send({ type: 'error', message: (err as Error).message });
  }
  process.exit(0);
}

if (!process.send) {
  process.stderr.write('loadgen: run me through run.js (needs an IPC channel)\n');
  process.exit(2);
}
process.on('message', (message: RunnerMessage) => {
  if (message.type === 'run') void run(message);
  else if (message.type === 'checkpoint-done') {
    checkpointWaiters.get(message.name)?.(message.cpu);
    checkpointWaiters.delete(message.name);
  }
});
// If the runner dies, so do we.
process.on('disconnect', () => process.exit(1));
