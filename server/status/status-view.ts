/**
 * What the status routes read: the relay's own StatusModel, or with --workers N a view of
 * the whole relay that asks the primary for every worker's figures (cluster/cluster-status.ts).
 */
import type { StatusSnapshot } from './snapshot.js';

export interface StatusView {
  /** The status now. */
  snapshot(): StatusSnapshot | Promise<StatusSnapshot>;
  /** The snapshot of the last 'tick', serialized once for every event stream. */
  tickJson(): string;
  /** /metrics in the Prometheus text format, and its content type. */
  metricsText(): Promise<string>;
  readonly metricsContentType: string;
  /** 'tick': a fresh tickJson() (about once a second); 'close': event streams end. */
  on(event: 'tick' | 'close', listener: () => void): unknown;
  off(event: 'tick' | 'close', listener: () => void): unknown;
}
