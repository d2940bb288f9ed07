/**
 * A worker's status view of the whole relay: each request, and each tick an event stream
 * is listening for, asks the primary, which collects a fresh snapshot (or the metrics) from
 * every worker and merges them. So whichever worker answers, it shows every tunnel.
 */
import { EventEmitter } from 'node:events';
import type { StatusSnapshot } from '../status/snapshot.js';
import type { StatusModel } from '../status/status-model.js';
import type { StatusView } from '../status/status-view.js';
import type { GatherWhat } from './messages.js';

export type Gather = (what: GatherWhat) => Promise<StatusSnapshot | string>;

/** Prometheus' text format, as prom-client's registries say it. */
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class ClusterStatus extends EventEmitter<{ tick: []; close: [] }> implements StatusView {
  readonly metricsContentType = PROMETHEUS_CONTENT_TYPE;
  private lastTickJson: string;
  private gathering = false;

  constructor(
    private readonly local: StatusModel,
    private readonly gather: Gather,
  ) {
    super();
    this.setMaxListeners(0); // one 'tick' listener per open event stream
    this.lastTickJson = local.tickJson();
    // The local model's clock paces the event streams; with none open, nothing is gathered.
    local.on('tick', () => void this.tick());
    local.on('close', () => this.emit('close'));
  }

  async snapshot(): Promise<StatusSnapshot> {
    return (await this.gather('status')) as StatusSnapshot;
  }

  tickJson(): string {
    return this.lastTickJson;
  }

  async metricsText(): Promise<string> {
    return (await this.gather('metrics')) as string;
  }

  private async tick(): Promise<void> {
    if (this.gathering || this.listenerCount('tick') === 0) return;
    this.gathering = true;
    try {
      this.lastTickJson = JSON.stringify(await this.snapshot());
      this.emit('tick');
    } catch {
      // The primary is gone or slow: this tick is skipped, the next one tries again.
    } finally {
      this.gathering = false;
    }
  }
}
