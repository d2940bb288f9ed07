/**
 * The primary asks workers for their own figures (Collect) and waits for each answer, at
 * most COLLECT_TIMEOUT_MS, under the 5 s the asking worker waits (worker-link.ts): a
 * worker that is stuck or dying is left out of that one view rather than holding it up.
 */
import type { Worker } from 'node:cluster';
import { Msg, type GatherWhat, type PrimaryMessage } from './messages.js';

const COLLECT_TIMEOUT_MS = 3_000;

interface Pending {
  worker: number;
  resolve: (data: unknown) => void;
}

export class Collector {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** The worker's answer, or null when it gave none in time. */
  collect(worker: Worker, what: GatherWhat): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, null), COLLECT_TIMEOUT_MS);
      this.pending.set(id, {
        worker: worker.id,
        resolve: (data) => {
          clearTimeout(timer);
          resolve(data);
        },
      });
      const message: PrimaryMessage = { t: Msg.Collect, id, what };
      if (!worker.isConnected()) return this.settle(id, null);
      worker.send(message);
    });
  }

  settle(id: number, data: unknown): void {
    const entry = this.pending.get(id);
    this.pending.delete(id);
    entry?.resolve(data);
  }

  /** The worker exited: what it was asked for will not come. */
  forget(worker: number): void {
    for (const [id, entry] of this.pending) if (entry.worker === worker) this.settle(id, null);
  }
}
