/**
 * The relay's primary process with --workers N: it serves no tunnel itself. It forks the
 * workers (node:cluster; they share the listeners, and on Linux the primary hands each new
 * connection to the next worker in turn), restarts one that exits unasked, passes SIGHUP and
 * the stop on to every worker, keeps the per-token tunnel counts of all of them, and merges
 * their figures whenever one of them is asked for the status or the metrics.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../../common/log.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import { Collector } from './collector.js';
import { mergeSnapshots } from './merge-snapshot.js';
import { isClusterMessage, Msg, type GatherWhat, type MetricsJson, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { TunnelSlots } from './tunnel-slots.js';

/** A crashed worker is restarted after 250 ms, then 500 ms, … up to 10 s while it keeps crashing. */
const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 10_000;
/** A worker that ran this long before it crashed was not crash-looping: the next restart is quick again. */
const STABLE_MS = 30_000;

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
}

export interface RelayPrimary {
  /** Resolves with an exit code when the first workers could not start (the address is in use…). */
  failed: Promise<number>;
  /** SIGHUP: every worker re-reads --users. */
  reload(): void;
  /** SIGTERM/SIGINT: every worker drains as a single relay would; resolves once all have exited. */
  stop(): Promise<void>;
}

interface WorkerState {
  worker: Worker;
  pid: number;
  ready: boolean;
  startedAt: number;
}

export function startPrimary(options: PrimaryOptions): RelayPrimary {
  return new Primary(options);
}

class Primary implements RelayPrimary {
  readonly failed: Promise<number>;
  private readonly states = new Map<number, WorkerState>();
  private readonly slots = new TunnelSlots();
  private readonly collector = new Collector();
  private readonly startedAt = Date.now();
  private readonly logger: Logger;
  private stopping = false;
  private everReady = false;
  private restartDelayMs = RESTART_MIN_MS;
  private fail!: (code: number) => void;
  private allExited: (() => void) | null = null;

  constructor(options: PrimaryOptions) {
    this.logger = options.logger;
    this.failed = new Promise((resolve) => (this.fail = resolve));
    this.logger.info('relay primary', { pid: process.pid, workers: options.workers });
    for (let i = 0; i < options.workers; i++) this.fork();
  }

  reload(): void {
    this.broadcast({ t: Msg.Reload });
  }

  stop(): Promise<void> {
    this.stopping = true;
    this.broadcast({ t: Msg.Stop });
    return new Promise((resolve) => {
      this.allExited = resolve;
      if (this.states.size === 0) resolve();
    });
  }

  private fork(): void {
    const worker = cluster.fork();
    const state: WorkerState = { worker, pid: worker.process.pid ?? 0, ready: false, startedAt: Date.now() };
    this.states.set(worker.id, state);
    worker.on('online', () => this.logger.info('worker started', { pid: state.pid, worker: worker.id }));
    worker.on('message', (message: unknown) => this.onMessage(state, message));
    worker.on('exit', (code, signal) => this.onExit(state, code, signal));
  }

  private onMessage(state: WorkerState, message: unknown): void {
    if (!isClusterMessage(message)) return;
    const msg = message as WorkerMessage;
    const { worker } = state;
    if (msg.t === Msg.Ready) this.onReady(state);
    if (msg.t === Msg.Reserve) send(worker, { t: Msg.Reserved, id: msg.id, ok: this.slots.reserve(worker.id, msg.token, msg.limit) });
    if (msg.t === Msg.Release) this.slots.release(worker.id, msg.token);
    if (msg.t === Msg.Collected) this.collector.settle(msg.id, msg.data);
    if (msg.t === Msg.Gather) {
      this.gather(msg.what).then(
        (data) => send(worker, { t: Msg.Gathered, id: msg.id, data }),
        (err: Error) => {
          this.logger.warn('could not merge the workers\' figures', { what: msg.what, error: err.message });
          send(worker, { t: Msg.Gathered, id: msg.id, data: null });
        },
      );
    }
  }

  private onReady(state: WorkerState): void {
    state.ready = true;
    if (this.everReady) return;
    if ([...this.states.values()].every((other) => other.ready)) {
      this.everReady = true;
      this.logger.info('relay workers ready', { workers: this.states.size });
    }
  }

  /** Every ready worker's own figures, fresh, merged into the whole relay's. */
  private async gather(what: GatherWhat): Promise<StatusSnapshot | string> {
    const ready = [...this.states.values()].filter((state) => state.ready);
    const answers = await Promise.all(ready.map(async (state) => ({ state, data: await this.collector.collect(state.worker, what) })));
    const answered = answers.filter((answer) => answer.data !== null);
    if (what === 'status') {
      return mergeSnapshots(answered.map(({ state, data }) => ({ worker: state.worker.id, pid: state.pid, snapshot: data as StatusSnapshot })), this.startedAt);
    }
    // Counters and gauges are added up across workers (sockbridge_tunnels is the relay's total).
    return AggregatorRegistry.aggregate(answered.map(({ data }) => data as MetricsJson)).metrics();
  }

  private onExit(state: WorkerState, code: number | null, signal: string | null): void {
    const { id } = state.worker;
    this.states.delete(id);
    this.slots.releaseWorker(id);
    this.collector.forget(id);
    if (this.stopping) {
      if (this.states.size === 0) this.allExited?.();
      return;
    }
    if (!this.everReady) {
      this.logger.error('a worker could not start; stopping', { worker: id, pid: state.pid, code, signal });
      void this.stop().then(() => this.fail(code || 1));
      return;
    }
    if (Date.now() - state.startedAt >= STABLE_MS) this.restartDelayMs = RESTART_MIN_MS;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, RESTART_MAX_MS);
    this.logger.warn('worker exited unexpectedly, restarting', { worker: id, pid: state.pid, code, signal, restartInMs: delay });
    setTimeout(() => {
      if (!this.stopping) this.fork();
    }, delay);
  }

  private broadcast(message: PrimaryMessage): void {
    for (const { worker } of this.states.values()) send(worker, message);
  }
}

function send(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message);
}
