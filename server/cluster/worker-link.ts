/**
 * A relay worker's side of the IPC with the primary (--workers N): it answers the primary's
 * requests for its own figures, asks for the whole relay's and for tunnel slots, and hears
 * the primary's reload and stop.
 */
import cluster from 'node:cluster';
import type { Logger } from '../../common/log.js';
import type { StatusModel } from '../status/status-model.js';
import { ClusterStatus } from './cluster-status.js';
import { isClusterMessage, Msg, type GatherWhat, type PrimaryMessage, type WorkerMessage } from './messages.js';
import type { RelayCluster } from './relay-cluster.js';

/** A request the primary has not answered by then fails (status: 500; a tunnel slot: refused). */
const REQUEST_TIMEOUT_MS = 5_000;

export interface WorkerLink {
  /** For startRelay. */
  relay: RelayCluster;
  /** The relay is listening. */
  ready(): void;
  /** Resolves when the primary asks this worker to stop (it got SIGTERM or SIGINT). */
  stopRequested: Promise<void>;
  /** What to run when the primary got SIGHUP. */
  onReload(reload: () => void): void;
}

export function joinCluster(logger: Logger): WorkerLink {
  let local: StatusModel | null = null;
  let reload = (): void => {};
  let stop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (stop = resolve));
  const requests = new Requests();
  process.on('message', (message: unknown) => {
    if (!isClusterMessage(message)) return;
    const msg = message as PrimaryMessage;
    if (msg.t === Msg.Gathered) requests.settle(msg.id, msg.data);
    if (msg.t === Msg.Reserved) requests.settle(msg.id, msg.ok);
    if (msg.t === Msg.Collect && local !== null) collect(local, msg.id, msg.what, logger);
    if (msg.t === Msg.Reload) reload();
    if (msg.t === Msg.Stop) stop();
  });
  const gather = async (what: GatherWhat): Promise<never> => {
    const data = await requests.ask((id) => ({ t: Msg.Gather, id, what }));
    if (data === null) throw new Error('the relay primary could not gather the workers\' figures');
    return data as never;
  };
  const relay: RelayCluster = {
    statusView(model) {
      local = model;
      return new ClusterStatus(model, gather);
    },
    reserveTunnel: (token, limit) => requests.ask((id) => ({ t: Msg.Reserve, id, token, limit })).then((ok) => ok === true, () => false),
    releaseTunnel: (token) => send({ t: Msg.Release, token }),
  };
  logger.debug('worker joined the relay', { worker: cluster.worker?.id, pid: process.pid });
  return { relay, ready: () => send({ t: Msg.Ready }), stopRequested, onReload: (fn) => (reload = fn) };
}

/** This worker's own figures for the primary; on a failure, none (the merged view goes without them). */
function collect(local: StatusModel, id: number, what: GatherWhat, logger: Logger): void {
  const figures = what === 'status' ? Promise.resolve(local.snapshot()) : local.metrics.registry.getMetricsAsJSON();
  figures.then(
    (data) => send({ t: Msg.Collected, id, data }),
    (err: Error) => {
      logger.warn('could not read this worker\'s figures', { what, error: err.message });
      send({ t: Msg.Collected, id, data: null });
    },
  );
}

function send(message: WorkerMessage): void {
  // After the primary is gone the channel is closed; node:cluster ends this worker then.
  if (process.connected) process.send?.(message);
}

/** Requests to the primary by id, each answered once or failed after REQUEST_TIMEOUT_MS. */
class Requests {
  private nextId = 1;
  private readonly pending = new Map<number, (value: unknown) => void>();

  ask(build: (id: number) => WorkerMessage): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the relay primary did not answer'));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
      send(build(id));
    });
  }

  settle(id: number, value: unknown): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.(value);
  }
}
