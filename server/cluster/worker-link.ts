/**
 * A relay worker's side of the IPC with the primary (--workers N): it answers the primary's
 * requests for its own figures, asks for the whole relay's and for tunnel slots, and hears
 * the primary's reload and stop.
 */
import cluster from 'node:cluster';
import type { Logger } from '../../common/log.js';
import type { StatusModel } from '../status/status-model.js';
import { ErrorReason } from '../status/error-reasons.js';
import { ClusterStatus } from './cluster-status.js';
import { isClusterMessage, Msg, type GatherWhat, type PrimaryMessage, type WorkerMessage } from './messages.js';
import { SlotAnswer, type RelayCluster } from './relay-cluster.js';

/** A request the primary has not answered by then fails (status: 500; a tunnel slot: refused with 503). */
const REQUEST_TIMEOUT_MS = 5_000;


export interface WorkerLinkOptions {
  /** How long the primary has to answer a request; REQUEST_TIMEOUT_MS unless a test needs it short. */
  requestTimeoutMs?: number;
}

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

export function joinCluster(logger: Logger, options: WorkerLinkOptions = {}): WorkerLink {
  const timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  let local: StatusModel | null = null;
  let reload = (): void => {};
  let stop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (stop = resolve));
  const requests = new Requests(timeoutMs);
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
  const unanswered: Unanswered = {
    refused(token) {
      logger.warn(`tunnel refused (503): the relay primary did not answer within ${timeoutMs} ms`, { token, timeoutMs });
      local?.countError(ErrorReason.ClusterPrimaryUnanswered);
    },
    givenBack: (token) => logger.info('the relay primary granted a tunnel slot after the deadline; given back', { token }),
  };
  const relay: RelayCluster = {
    statusView(model) {
      local = model;
      return new ClusterStatus(model, gather);
    },
    reserveTunnel: (token, limit) => reserveTunnel(requests, token, limit, unanswered),
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

/** What becomes of a slot request the primary did not answer in time. */
interface Unanswered {
  refused(token: string): void;
  givenBack(token: string): void;
}

function reserveTunnel(requests: Requests, token: string, limit: number, unanswered: Unanswered): Promise<SlotAnswer> {
  // A grant that comes after the deadline is for a client refused already: the slot goes
  // straight back, or the primary would count it against the token until this worker exits.
  const late = (ok: unknown): void => {
    if (ok !== true) return;
    send({ t: Msg.Release, token });
    unanswered.givenBack(token);
  };
  return requests.ask((id) => ({ t: Msg.Reserve, id, token, limit }), late).then(
    (ok) => (ok === true ? SlotAnswer.Held : SlotAnswer.Full),
    () => {
      unanswered.refused(token);
      return SlotAnswer.Unanswered;
    },
  );
}

function send(message: WorkerMessage): void {
  // After the primary is gone the channel is closed; node:cluster ends this worker then.
  if (process.connected) process.send?.(message);
}

/**
 * Requests to the primary by id, each answered once or failed after `timeoutMs`. An answer
 * can come after its deadline (a stalled event loop runs due timers before it reads the IPC
 * channel); `onLate` then gets it, for an answer that still matters (a granted slot).
 */
class Requests {
  private nextId = 1;
  private readonly pending = new Map<number, (value: unknown) => void>();
  /** Past their deadline, waiting for an answer that needs undoing. The primary answers every
   *  request it gets; one that is gone takes this worker with it, so none waits for ever. */
  private readonly late = new Map<number, (value: unknown) => void>();

  constructor(private readonly timeoutMs: number) {}

  ask(build: (id: number) => WorkerMessage, onLate?: (value: unknown) => void): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        if (onLate !== undefined) this.late.set(id, onLate);
        reject(new Error(`the relay primary did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
      send(build(id));
    });
  }

  settle(id: number, value: unknown): void {
    const resolve = this.pending.get(id);
    if (resolve !== undefined) {
      this.pending.delete(id);
      resolve(value);
      return;
    }
    const late = this.late.get(id);
    this.late.delete(id);
    late?.(value);
  }
}
