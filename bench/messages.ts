/** What the bench runner and the load generator process say to each other over IPC. */
import type { Route } from './route.js';

export interface TargetPorts {
  echo: number;
  sink: number;
  source: number;
  /** UDP echo. */
  udpEcho: number;
}

export type ScenarioName = 'bulk' | 'latency' | 'roundtrips' | 'concurrent' | 'idle' | 'stalled' | 'udp' | 'bind' | 'wan' | 'parallel' | 'failover';

/** The checkpoint at which figure 15 has the runner SIGKILL the stack's second relay. */
export const KILL_SPARE_RELAY = 'kill-spare-relay';

/** Runner → load generator. */
export type RunnerMessage =
  | { type: 'run'; scenario: ScenarioName; route: Route; ports: TargetPorts; params: Record<string, number> }
  /** The runner has sampled memory for the checkpoint (and read the processes' CPU time); the scenario may go on. */
  | { type: 'checkpoint-done'; name: string; cpu: ProcessCpu | null };

/** Load generator → runner. */
export type LoadgenMessage =
  | { type: 'progress'; text: string }
  /** The scenario is at a point where the runner should sample relay and client memory. */
  | { type: 'checkpoint'; name: string }
  | { type: 'result'; result: unknown }
  | { type: 'error'; message: string };

/** CPU seconds the relay and the client under test have used since they started. */
export interface ProcessCpu {
  relaySec: number;
  clientSec: number;
}

/** The CPU the relay and the client spent between two checkpoints; null when either has no reading. */
export function cpuBetween(before: ProcessCpu | null, after: ProcessCpu | null): ProcessCpu | null {
  return before && after ? { relaySec: after.relaySec - before.relaySec, clientSec: after.clientSec - before.clientSec } : null;
}

/** What a scenario gets from the load generator. */
export interface ScenarioContext {
  route: Route;
  ports: TargetPorts;
  progress(text: string): void;
  /** Resolves once the runner has sampled relay and client RSS under `name`, with their CPU time so far (null on direct runs). */
  checkpoint(name: string): Promise<ProcessCpu | null>;
}
