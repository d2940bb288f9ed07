/**
 * The IPC messages between the relay's primary and its workers (--workers N). Every message
 * carries `t`, one of the names below; requests carry an `id` their answer repeats. Values
 * travel as JSON (node:cluster's default serialization).
 */
import type { Registry } from 'prom-client';
import type { StatusSnapshot } from '../status/snapshot.js';

export const Msg = {
  // ---- worker → primary ----
  /** The worker's relay listens; it serves tunnels now. */
  Ready: 'sockbridge:ready',
  /** Asks for the whole relay's status snapshot or metrics; answered with Gathered. */
  Gather: 'sockbridge:gather',
  /** Asks for one of a token's tunnel slots; answered with Reserved. */
  Reserve: 'sockbridge:reserve',
  /** A tunnel holding a slot closed. */
  Release: 'sockbridge:release',
  /** The worker's own figures, answering Collect. */
  Collected: 'sockbridge:collected',
  // ---- primary → worker ----
  Gathered: 'sockbridge:gathered',
  Reserved: 'sockbridge:reserved',
  /** Asks for the worker's own snapshot or metrics. */
  Collect: 'sockbridge:collect',
  /** SIGHUP reached the primary: re-read --users. */
  Reload: 'sockbridge:reload',
  /** SIGTERM or SIGINT reached the primary: drain and exit, as on the signal itself. */
  Stop: 'sockbridge:stop',
} as const;

export type GatherWhat = 'status' | 'metrics';

/** What prom-client's getMetricsAsJSON gives, and AggregatorRegistry.aggregate takes. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** One worker's snapshot, as the primary merges it. */
export interface WorkerSnapshot {
  worker: number;
  pid: number;
  snapshot: StatusSnapshot;
}

export type WorkerMessage =
  | { t: typeof Msg.Ready }
  | { t: typeof Msg.Gather; id: number; what: GatherWhat }
  | { t: typeof Msg.Reserve; id: number; token: string; limit: number }
  | { t: typeof Msg.Release; token: string }
  /** null: the worker could not read its figures. */
  | { t: typeof Msg.Collected; id: number; data: StatusSnapshot | MetricsJson | null };

export type PrimaryMessage =
  | { t: typeof Msg.Gathered; id: number; data: StatusSnapshot | string | null }
  | { t: typeof Msg.Reserved; id: number; ok: boolean }
  | { t: typeof Msg.Collect; id: number; what: GatherWhat }
  | { t: typeof Msg.Reload }
  | { t: typeof Msg.Stop };

const NAMES = new Set<string>(Object.values(Msg));

/** Ours, not some other module's IPC (prom-client's own cluster support uses the same channel). */
export function isClusterMessage(value: unknown): value is { t: string } {
  return typeof value === 'object' && value !== null && NAMES.has((value as { t?: unknown }).t as string);
}
