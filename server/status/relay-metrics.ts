/**
 * The relay's Prometheus metrics (prom-client), fed from the status model so /metrics, the
 * API and the page can never disagree. Gauges and byte counters are read at scrape time;
 * opens, failures and dial latency are counted as they happen.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectNodeMetrics } from './node-metrics.js';
import type { StreamKind } from './snapshot.js';
import { hexByte } from '../../common/hex-byte.js';

export const STREAM_KINDS: readonly StreamKind[] = ['CONNECT', 'BIND', 'UDP'];

/** What the metrics read from the model when scraped. */
export interface MetricsSource {
  tunnelCount(): number;
  openStreamsByKind(): Record<StreamKind, number>;
  /** Relay-wide byte totals since start, including closed tunnels. */
  byteTotals(): { up: number; down: number };
}

/** Seconds; a dial on loopback takes well under a millisecond, one across the world a few hundred. */
const DIAL_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly tunnelsOpened: Counter<string>;
  private readonly streamsOpened: Counter<'kind'>;
  private readonly openFailures: Counter<'kind' | 'reply_code' | 'reply'>;
  private readonly errors: Counter<'reason'>;
  private readonly dialSeconds: Histogram<'outcome'>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    collectNodeMetrics(this.registry);
    registerLiveMetrics(source, registers);
    this.tunnelsOpened = new Counter({ name: 'sockbridge_tunnels_opened_total', help: 'Tunnels accepted since start.', registers });
    this.streamsOpened = new Counter({ name: 'sockbridge_stream_opens_total', help: 'Streams the clients asked to open, by kind.', labelNames: ['kind'], registers });
    this.openFailures = new Counter({
      name: 'sockbridge_stream_open_failures_total',
      help: 'Stream opens that failed, by kind and SOCKS reply code (RFC 1928 section 6).',
      labelNames: ['kind', 'reply_code', 'reply'],
      registers,
    });
    this.errors = new Counter({ name: 'sockbridge_errors_total', help: 'Failures by reason (errno code or stable name).', labelNames: ['reason'], registers });
    this.dialSeconds = new Histogram({
      name: 'sockbridge_dial_duration_seconds',
      help: 'How long CONNECT dials to destinations took, by outcome.',
      labelNames: ['outcome'],
      buckets: DIAL_BUCKETS,
      registers,
    });
    for (const kind of STREAM_KINDS) this.streamsOpened.inc({ kind }, 0);
  }

  tunnelOpened(): void {
    this.tunnelsOpened.inc();
  }

  streamOpened(kind: StreamKind): void {
    this.streamsOpened.inc({ kind });
  }

  openFailed(kind: StreamKind, replyCode: number, replyName: string): void {
    this.openFailures.inc({ kind, reply_code: `${hexByte(replyCode)}`, reply: replyName });
  }

  error(reason: string): void {
    this.errors.inc({ reason });
  }

  dialed(seconds: number, outcome: 'succeeded' | 'failed'): void {
    this.dialSeconds.observe({ outcome }, seconds);
  }
}

/** Metrics read from the model at scrape time, so they always agree with the API. */
function registerLiveMetrics(source: MetricsSource, registers: Registry[]): void {
  new Gauge({
    name: 'sockbridge_tunnels',
    help: 'Tunnels connected now.',
    registers,
    collect() {
      this.set(source.tunnelCount());
    },
  });
  new Gauge({
    name: 'sockbridge_open_streams',
    help: 'Streams open now, by kind.',
    labelNames: ['kind'],
    registers,
    collect() {
      const counts = source.openStreamsByKind();
      for (const kind of STREAM_KINDS) this.set({ kind }, counts[kind]);
    },
  });
  // A counter only goes up: each scrape adds what the model's totals grew by since the last.
  let reported = { up: 0, down: 0 };
  new Counter({
    name: 'sockbridge_bytes_total',
    help: 'Bytes carried through tunnels; direction "up" is client to destination, "down" the reverse.',
    labelNames: ['direction'],
    registers,
    collect() {
      const totals = source.byteTotals();
      this.inc({ direction: 'up' }, totals.up - reported.up);
      this.inc({ direction: 'down' }, totals.down - reported.down);
      reported = totals;
    },
  });
}
