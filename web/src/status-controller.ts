/**
 * Live data enters the page here: a ReactiveController owning the EventSource on
 * api/events. Its host re-renders on each snapshot and passes the data down as properties.
 *
 * EventSource retries by itself after a dropped connection, but gives up for good on an
 * HTTP error (a 502 from a proxy, a 401 after a token change). So a closed source is
 * replaced after a backoff, and a source silent for a few seconds (a half-dead link) too.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { STATUS_EVENT, type StatusSnapshot } from '../../server/status/snapshot.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

export interface StatusControllerOptions {
  /** Relative, so the page also works behind a reverse proxy under a path prefix. */
  url?: string;
  /** No message for this long: the link is treated as dropped. */
  staleMs?: number;
  /** First and largest delay before a new EventSource replaces one that gave up. */
  retryMs?: number;
  maxRetryMs?: number;
}

const WATCHDOG_MS = 1_000;

export class StatusController implements ReactiveController {
  snapshot: StatusSnapshot | null = null;
  connection: ConnectionState = 'connecting';
  /** When the last snapshot arrived (the page's clock). */
  receivedAt = 0;

  private source: EventSource | null = null;
  private watchdog: number | undefined;
  private reopenTimer: number | undefined;
  private failures = 0;
  private readonly url: string;
  private readonly staleMs: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;

  constructor(
    private readonly host: ReactiveControllerHost,
    options: StatusControllerOptions = {},
  ) {
    this.url = options.url ?? 'api/events';
    this.staleMs = options.staleMs ?? 4_000;
    this.retryMs = options.retryMs ?? 1_000;
    this.maxRetryMs = options.maxRetryMs ?? 10_000;
    host.addController(this);
  }

  hostConnected(): void {
    this.open();
    this.watchdog = window.setInterval(() => this.checkStale(), WATCHDOG_MS);
  }

  hostDisconnected(): void {
    window.clearInterval(this.watchdog);
    window.clearTimeout(this.reopenTimer);
    this.source?.close();
    this.source = null;
  }

  private open(): void {
    this.source?.close();
    const source = new EventSource(this.url);
    this.source = source;
    source.addEventListener(STATUS_EVENT, (event) => {
      if (source !== this.source) return;
      this.snapshot = JSON.parse((event as MessageEvent<string>).data) as StatusSnapshot;
      this.receivedAt = Date.now();
      this.failures = 0;
      this.setConnection('live');
    });
    source.addEventListener('error', () => {
      if (source !== this.source) return;
      this.setConnection(this.snapshot ? 'reconnecting' : 'connecting');
      if (source.readyState === EventSource.CLOSED) this.reopenLater();
    });
  }

  private reopenLater(): void {
    this.source?.close();
    this.source = null;
    window.clearTimeout(this.reopenTimer);
    const delay = Math.min(this.retryMs * 2 ** this.failures, this.maxRetryMs);
    this.failures += 1;
    this.reopenTimer = window.setTimeout(() => this.open(), delay);
  }

  private checkStale(): void {
    if (this.connection === 'live' && Date.now() - this.receivedAt > this.staleMs) {
      this.setConnection('reconnecting');
      this.reopenLater();
    }
    if (this.connection !== 'live') this.host.requestUpdate(); // the banner's "last update Ns ago" keeps counting
  }

  private setConnection(state: ConnectionState): void {
    this.connection = state;
    this.host.requestUpdate();
  }
}
