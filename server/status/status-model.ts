/**
 * The one status model every status route reads from: the relay registers tunnels and
 * their streams here, the tunnel handlers report how each OPEN ended, and once a second
 * the model turns byte counters into rates and a five-minute throughput ring. The API,
 * the event stream and the Prometheus metrics are all views of this object.
 */
import { EventEmitter } from 'node:events';
import { formatHostPort } from '../../common/host-port.js';
import { Command, ReplyCode, type Address } from '../../protocol/frame.js';
import type { OpenObserver, StreamCounters } from './open-observer.js';
import { RelayMetrics, STREAM_KINDS } from './relay-metrics.js';
import type { StatusSnapshot, StreamKind, StreamStatus, TunnelKind, TunnelStatus } from './snapshot.js';
import { ThroughputRing } from './throughput-ring.js';
import { RELAY_VERSION } from './version.js';

export type { StreamCounters };

/** What the model reads from a tunnel's session (protocol/session.ts's Session has all of it). */
export interface TunnelCounters {
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly rttMs: number | null;
}

export interface TunnelInfo {
  /** The tunnel's remote address, HOST:PORT. */
  remote: string;
  /** Which token matched, by name; never the token. */
  tokenName: string;
  counters: TunnelCounters;
  /** What kind of connection: a sockbridge tunnel (the default) or a Wisp connection from a web page. */
  kind?: TunnelKind;
}

/** The relay's handle on one registered tunnel; its streams are reported through it. */
export interface TrackedTunnel extends OpenObserver {
  readonly id: string;
  /** The tunnel is gone; its bytes stay in the totals. Idempotent. */
  close(): void;
}

export interface StatusModelOptions {
  version?: string;
  /** How often rates are computed and 'tick' is emitted. */
  tickMs?: number;
}

interface Rates {
  lastUp: number;
  lastDown: number;
  rateUp: number;
  rateDown: number;
}

interface TunnelRecord extends Rates {
  id: string;
  info: TunnelInfo;
  connectedAt: number;
  streams: number;
}

interface StreamRecord extends Rates {
  tunnel: TunnelRecord;
  stream: StreamCounters;
  kind: StreamKind;
  destination: string;
  resolved: string | null;
}

const KIND_BY_COMMAND: Readonly<Record<number, StreamKind>> = {
  [Command.Connect]: 'CONNECT',
  [Command.Bind]: 'BIND',
  [Command.UdpAssociate]: 'UDP',
};

/** ReplyCode.ConnectionRefused → "connection_refused", for metric labels. */
const REPLY_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ReplyCode).map(([name, code]) => [code, name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()]),
);

const DEFAULT_TICK_MS = 1_000;
const MS_PER_SECOND = 1_000;

export interface StatusModelEvents {
  /** Rates were just recomputed; `tickJson()` holds the fresh snapshot. */
  tick: [];
  /** The relay is shutting down; event streams end. */
  close: [];
}

export class StatusModel extends EventEmitter<StatusModelEvents> {
  readonly version: string;
  readonly startedAt = Date.now();
  readonly metrics: RelayMetrics;

  private readonly tunnels = new Map<string, TunnelRecord>();
  private readonly streams = new Map<StreamCounters, StreamRecord>();
  private readonly errors = new Map<string, number>();
  private readonly ring = new ThroughputRing();
  private nextTunnelId = 1;
  private tunnelsOpened = 0;
  private streamsOpened = 0;
  private closedBytes = { up: 0, down: 0 };
  private total: Rates = { lastUp: 0, lastDown: 0, rateUp: 0, rateDown: 0 };
  private lastTickAt = Date.now();
  private cachedTickJson: string | null = null;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(options: StatusModelOptions = {}) {
    super();
    this.setMaxListeners(0); // one 'tick' listener per open event stream; there is no fixed limit
    this.version = options.version ?? RELAY_VERSION;
    this.metrics = new RelayMetrics({
      tunnelCount: () => this.tunnels.size,
      openStreamsByKind: () => this.openStreamsByKind(),
      byteTotals: () => this.byteTotals(),
    });
    this.timer = setInterval(() => this.tick(), options.tickMs ?? DEFAULT_TICK_MS);
    this.timer.unref();
  }

  addTunnel(info: TunnelInfo): TrackedTunnel {
    const record: TunnelRecord = { id: String(this.nextTunnelId++), info, connectedAt: Date.now(), streams: 0, ...freshRates(info.counters) };
    this.tunnels.set(record.id, record);
    this.tunnelsOpened += 1;
    this.metrics.tunnelOpened();
    return {
      id: record.id,
      addStream: (stream, command, destination) => this.addStream(record, stream, command, destination),
      opened: (stream, resolved, dialMs) => this.opened(stream, resolved, dialMs),
      refused: (stream, reply, reason, dialMs) => this.refused(stream, reply, reason, dialMs),
      countError: (reason) => this.countError(reason),
      close: () => this.closeTunnel(record),
    };
  }

  /** Counts a failure that belongs to no stream (a refused tunnel, a broken session). */
  countError(reason: string): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
    this.metrics.error(reason);
  }

  // ---- how each OPEN ended (a TrackedTunnel passes these on) ----

  opened(stream: StreamCounters, resolved: Address | null, dialMs?: number): void {
    const record = this.streams.get(stream);
    if (record && resolved) record.resolved = formatHostPort(resolved);
    if (dialMs !== undefined) this.metrics.dialed(dialMs / MS_PER_SECOND, 'succeeded');
  }

  refused(stream: StreamCounters, reply: ReplyCode, reason: string, dialMs?: number): void {
    this.countError(reason);
    this.metrics.openFailed(kindOf(stream.command), reply, REPLY_NAMES.get(reply) ?? 'unknown');
    if (dialMs !== undefined) this.metrics.dialed(dialMs / MS_PER_SECOND, 'failed');
  }

  // ---- views ----

  /** A fresh snapshot: live byte counters, rates as of the last tick. */
  snapshot(): StatusSnapshot {
    const now = Date.now();
    const bytes = this.byteTotals();
    const errors: Record<string, number> = {};
    for (const [reason, count] of this.errors) errors[reason] = count;
    return {
      version: this.version,
      now,
      startedAt: this.startedAt,
      uptimeMs: now - this.startedAt,
      totals: {
        tunnels: this.tunnels.size,
        tunnelsOpened: this.tunnelsOpened,
        streams: this.streams.size,
        streamsOpened: this.streamsOpened,
        bytesUp: bytes.up,
        bytesDown: bytes.down,
        rateUp: this.total.rateUp,
        rateDown: this.total.rateDown,
        errors,
      },
      tunnels: [...this.tunnels.values()].map(tunnelStatus),
      streams: [...this.streams.values()].map((record) => streamStatus(record, now)),
      throughput: this.ring.toArray(),
    };
  }

  /** The snapshot taken at the last tick, serialized once and shared by every event-stream client. */
  tickJson(): string {
    this.cachedTickJson ??= JSON.stringify(this.snapshot());
    return this.cachedTickJson;
  }

  /** /metrics in the Prometheus text format. */
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  get metricsContentType(): string {
    return this.metrics.registry.contentType;
  }

  byteTotals(): { up: number; down: number } {
    let up = this.closedBytes.up;
    let down = this.closedBytes.down;
    for (const { info } of this.tunnels.values()) {
      up += info.counters.bytesReceived;
      down += info.counters.bytesSent;
    }
    return { up, down };
  }

  openStreamsByKind(): Record<StreamKind, number> {
    const counts = Object.fromEntries(STREAM_KINDS.map((kind) => [kind, 0])) as Record<StreamKind, number>;
    for (const record of this.streams.values()) counts[record.kind] += 1;
    return counts;
  }

  /** Stops the timer and ends event streams. The model can still be read. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.emit('close');
  }

  // ---- internals ----

  private addStream(tunnel: TunnelRecord, stream: StreamCounters, command: Command, destination: Address): void {
    if (this.streams.has(stream) || stream.state === 'closed') return;
    const kind = kindOf(command);
    const record: StreamRecord = { tunnel, stream, kind, destination: formatHostPort(destination), resolved: null, ...freshRates(stream) };
    this.streams.set(stream, record);
    tunnel.streams += 1;
    this.streamsOpened += 1;
    this.metrics.streamOpened(kind);
    stream.whenClosed(() => {
      if (this.streams.delete(stream)) tunnel.streams -= 1;
    });
  }

  private closeTunnel(record: TunnelRecord): void {
    if (!this.tunnels.delete(record.id)) return;
    this.closedBytes.up += record.info.counters.bytesReceived;
    this.closedBytes.down += record.info.counters.bytesSent;
  }

  /** Once a second: rates from byte counters, one throughput sample, and a new shared snapshot. */
  private tick(): void {
    const now = Date.now();
    const seconds = Math.max(now - this.lastTickAt, 1) / MS_PER_SECOND;
    this.lastTickAt = now;
    const totals = this.byteTotals();
    updateRates(this.total, totals.up, totals.down, seconds);
    for (const tunnel of this.tunnels.values()) updateRates(tunnel, tunnel.info.counters.bytesReceived, tunnel.info.counters.bytesSent, seconds);
    for (const record of this.streams.values()) updateRates(record, record.stream.bytesReceived, record.stream.bytesSent, seconds);
    this.ring.push({ t: now, up: this.total.rateUp, down: this.total.rateDown });
    this.cachedTickJson = null;
    this.emit('tick');
  }
}

function kindOf(command: Command): StreamKind {
  return KIND_BY_COMMAND[command] ?? 'CONNECT';
}

/** Relay side: what it received came from the client (up), what it sent goes to the client (down). */
function freshRates(counters: { bytesSent: number; bytesReceived: number }): Rates {
  return { lastUp: counters.bytesReceived, lastDown: counters.bytesSent, rateUp: 0, rateDown: 0 };
}

function updateRates(rates: Rates, up: number, down: number, seconds: number): void {
  rates.rateUp = Math.max(0, Math.round((up - rates.lastUp) / seconds));
  rates.rateDown = Math.max(0, Math.round((down - rates.lastDown) / seconds));
  rates.lastUp = up;
  rates.lastDown = down;
}

function tunnelStatus(record: TunnelRecord): TunnelStatus {
  const { counters } = record.info;
  return {
    id: record.id,
    remote: record.info.remote,
    tokenName: record.info.tokenName,
    kind: record.info.kind ?? 'tunnel',
    connectedAt: record.connectedAt,
    rttMs: counters.rttMs,
    streams: record.streams,
    bytesUp: counters.bytesReceived,
    bytesDown: counters.bytesSent,
    rateUp: record.rateUp,
    rateDown: record.rateDown,
  };
}

function streamStatus(record: StreamRecord, now: number): StreamStatus {
  const { stream } = record;
  return {
    id: `${record.tunnel.id}/${stream.id}`,
    tunnel: record.tunnel.id,
    streamId: stream.id,
    kind: record.kind,
    tunnelKind: record.tunnel.info.kind ?? 'tunnel',
    destination: record.destination,
    resolved: record.resolved,
    state: stream.state,
    ageMs: now - stream.openedAt,
    bytesUp: stream.bytesReceived,
    bytesDown: stream.bytesSent,
    rateUp: record.rateUp,
    rateDown: record.rateDown,
  };
}
