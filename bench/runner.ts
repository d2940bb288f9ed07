/**
 * Runs one scenario in one mode: forks a load generator, relays its progress, samples
 * relay and client memory at its checkpoints (and every SAMPLE_MS for the peak), and turns
 * a timeout, a crash or an error into a failed outcome instead of a hang.
 */
import { KILL_SPARE_RELAY, type LoadgenMessage, type RunnerMessage, type ScenarioName, type TargetPorts } from './messages.js';
import { forkNode } from './processes.js';
import type { Route } from './route.js';
import { readCpuSeconds, readTreeCpuSeconds } from './cpu.js';
import { readRssKiB } from './rss.js';
import type { Stack } from './stack.js';

export interface RssPoint {
  relayKiB: number;
  clientKiB: number;
  totalKiB: number;
}

/** CPU seconds the relay and client used during the run, and the run's wall time. */
export interface CpuUse {
  relaySec: number;
  clientSec: number;
  wallSec: number;
}

export type RunOutcome =
  | { ok: true; result: unknown; checkpoints: Record<string, RssPoint>; peak: RssPoint | null; cpu: CpuUse | null; seconds: number; windows?: WindowsReached }
  | { ok: false; reason: string; seconds: number };

/** The largest receive window each side's tunnel reached, from their closing log lines (null: not logged). */
export interface WindowsReached {
  /** What the relay receives: uploads. */
  relay: number | null;
  /** What the client receives: downloads. */
  client: number | null;
}

export interface RunOptions {
  loadgenScript: string;
  scenario: ScenarioName;
  route: Route;
  ports: TargetPorts;
  params: Record<string, number>;
  timeoutMs: number;
  /** The relay and client under test; null for direct runs. */
  stack: Stack | null;
  progress(text: string): void;
}

const SAMPLE_MS = 100;

export function sampleStack(stack: Stack | null): RssPoint | null {
  if (!stack) return null;
  const relayKiB = readRssKiB(stack.relay.pid);
  const clientKiB = readRssKiB(stack.client.pid);
  if (relayKiB === null || clientKiB === null) return null;
  return { relayKiB, clientKiB, totalKiB: relayKiB + clientKiB };
}

export async function runScenario(options: RunOptions): Promise<RunOutcome> {
  const started = Date.now();
  const seconds = (): number => (Date.now() - started) / 1000;
  const loadgen = forkNode('loadgen', options.loadgenScript);
  const cpuAtStart = cpuOf(options.stack);
  const checkpoints: Record<string, RssPoint> = {};
  let peak: RssPoint | null = null;
  let sampler: NodeJS.Timeout | undefined;
  let lastProgress = '(none)';

  const settled = await new Promise<{ ok: true; result: unknown } | { ok: false; reason: string }>((resolve) => {
    const timer = setTimeout(
      () => resolve({ ok: false, reason: `timed out after ${(options.timeoutMs / 1000).toFixed(1)} s (last progress: ${lastProgress})` }),
      options.timeoutMs,
    );
    const finish = (outcome: { ok: true; result: unknown } | { ok: false; reason: string }): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    sampler = setInterval(() => {
      // A relay or client that died makes every later figure meaningless: stop now.
      const problem = options.stack?.problem();
      if (problem) return finish({ ok: false, reason: `during the run: ${problem}` });
      const point = sampleStack(options.stack);
      if (point && (!peak || point.totalKiB > peak.totalKiB)) peak = point;
    }, SAMPLE_MS);
    loadgen.child.on('message', (message: LoadgenMessage) => {
      if (message.type === 'progress') {
        lastProgress = message.text;
        options.progress(message.text);
      } else if (message.type === 'checkpoint') {
        if (message.name === KILL_SPARE_RELAY) killSpare(options);
        const point = sampleStack(options.stack);
        if (point) checkpoints[message.name] = point;
        const cpu = cpuOf(options.stack);
        loadgen.child.send({ type: 'checkpoint-done', name: message.name, cpu: cpu && { relaySec: cpu.relay, clientSec: cpu.client } } satisfies RunnerMessage);
      } else if (message.type === 'result') finish({ ok: true, result: message.result });
      else if (message.type === 'error') finish({ ok: false, reason: message.message });
    });
    loadgen.child.once('exit', (code, signal) =>
      finish({ ok: false, reason: `load generator exited (code ${code}, signal ${signal}) without a result: ${loadgen.tail().slice(-300)}` }),
    );
    loadgen.child.send({ type: 'run', scenario: options.scenario, route: options.route, ports: options.ports, params: options.params } satisfies RunnerMessage);
  });
  clearInterval(sampler);
  const cpuAtEnd = cpuOf(options.stack);
  await loadgen.stop();
  const cpu: CpuUse | null =
    cpuAtStart && cpuAtEnd ? { relaySec: cpuAtEnd.relay - cpuAtStart.relay, clientSec: cpuAtEnd.client - cpuAtStart.client, wallSec: seconds() } : null;

  const problem = options.stack?.problem() ?? null;
  if (problem && settled.ok) return { ok: false, reason: `after the run: ${problem}`, seconds: seconds() };
  if (!settled.ok) return { ok: false, reason: settled.reason, seconds: seconds() };
  return { ok: true, result: settled.result, checkpoints, peak, cpu, seconds: seconds() };
}

/** Figure 15: SIGKILL to the second relay, said in the progress so a run shows it landed. */
function killSpare(options: RunOptions): void {
  const spare = options.stack?.spare;
  if (!spare) return;
  const wasAlive = spare.isAlive();
  spare.child.kill('SIGKILL');
  options.progress(`SIGKILL sent to the second relay (pid ${spare.pid}, ${wasAlive ? 'running' : 'already gone'})`);
}

function cpuOf(stack: Stack | null): { relay: number; client: number } | null {
  if (!stack) return null;
  // The relay with its workers, if any; every client process of the stack.
  const relay = readTreeCpuSeconds(stack.relay.pid);
  const clients = [stack.client, ...stack.moreClients].map((proc) => readCpuSeconds(proc.pid));
  if (relay === null || clients.some((sec) => sec === null)) return null;
  return { relay, client: clients.reduce((a, b) => a! + b!, 0)! };
}
