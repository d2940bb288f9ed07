/**
 * The client's one WebSocket to the relay: connect, HELLO, keepalive (in the session),
 * reconnect with exponential backoff and jitter, and a bounded wait for callers that
 * need a session while the link is down.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { Logger } from '../common/log.js';
import { GoAwayCode, MAX_FRAME_SIZE, WS_SUBPROTOCOL } from '../protocol/frame.js';
import { Session } from '../protocol/session.js';
import { maskingFor } from './ws-mask.js';
import { SessionWaiters } from './session-waiters.js';
import type { ClientConfig } from './config.js';
import { certificateHint, needsOwnTransport, openRelayTransport, upgradeRequestOptions } from './relay-transport.js';

/** What to check when the relay will not upgrade. It answers a wrong token as any unknown request: 404, or its --fallback website's answer. */
const REFUSAL_HINTS: Readonly<Record<number, string>> = {
  401: ' (the relay refused the token: check --token)',
  404: ' (a wrong token or path: check --token and the path in --relay)',
};

const HANDSHAKE_TIMEOUT_MS = 10_000;
const BACKOFF_FACTOR = 2;

/** Where a new stream gets its session: one Tunnel, or the pool of them (client/pool/tunnel-pool.ts). */
export interface SessionSource {
  /** A ready session, waiting up to --tunnel-wait for one; null when none came. */
  getSession(): Promise<Session | null>;
  /** True when a stream whose tunnel ended before the relay answered may be tried on another (a pool of several). */
  readonly retries?: boolean;
}

/** What a pool (client/pool/) learns from and tells one tunnel; a lone tunnel needs none of it. */
export interface TunnelHooks {
  /** The relay to dial next; asked before every connection attempt. */
  relayFor?(): string;
  /** A session came up (after its HELLO). */
  up?(session: Session): void;
  /** A connection attempt failed, or a session that was up ended. */
  down?(relayUrl: string, wasUp: boolean): void;
}

export class Tunnel implements SessionSource {
  private session: Session | null = null;
  private readonly waiters: SessionWaiters;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private socket: WebSocket | null = null;
  private stopped = false;
  /** Completed connections so far, for tests and status. */
  connections = 0;
  /** The relay of the current (or last) connection attempt. */
  relayUrl: string;
  /** When the current session came up (Date.now()), or null without one. */
  upSince: number | null = null;
  /** Set by retire(): the tunnel keeps its session for the streams on it but never reconnects. */
  private retired = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly logger: Logger,
    private readonly hooks: TunnelHooks = {},
  ) {
    this.relayUrl = config.relayUrl;
    this.waiters = new SessionWaiters(config.tunnelWaitMs);
  }

  start(): void {
    this.connect();
  }

  get current(): Session | null {
    return this.session;
  }

  /** A ready session, waiting up to `tunnelWaitMs` for one; null when none came. */
  getSession(): Promise<Session | null> {
    if (this.session) return Promise.resolve(this.session);
    if (this.stopped) return Promise.resolve(null);
    return this.waiters.wait();
  }

  /** No reconnect after this session ends (a pool drains it and builds its replacement elsewhere). */
  retire(): void {
    this.retired = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (!this.session) this.stop();
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.session?.close();
    this.socket?.terminate();
    this.waiters.settle(null);
  }

  private connect(): void {
    this.relayUrl = this.hooks.relayFor?.() ?? this.config.relayUrl;
    if (!needsOwnTransport(this.config)) return this.openWebSocket(null);
    // A proxy or a pinned certificate: reach and check the relay first, then run ws over that socket.
    openRelayTransport(this.relayUrl, this.config, HANDSHAKE_TIMEOUT_MS).then(
      (socket) => {
        if (this.stopped) return void socket.destroy();
        this.openWebSocket(socket);
      },
      (err: Error) => {
        this.logger.error('relay connection failed', { relay: this.relayUrl, error: err.message });
        this.hooks.down?.(this.relayUrl, false);
        this.scheduleReconnect();
      },
    );
  }

  private openWebSocket(transportSocket: Socket | null): void {
    const relayUrl = this.relayUrl;
    const ws = new WebSocket(relayUrl, [WS_SUBPROTOCOL], {
      ...upgradeRequestOptions(this.config),
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_SIZE,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      ...maskingFor(relayUrl),
      ...(this.config.ca !== null ? { ca: this.config.ca } : {}),
      ...(transportSocket !== null ? { createConnection: () => transportSocket } : {}),
    });
    this.socket = ws;
    ws.on('unexpected-response', (_req, res) => {
      // A relay answers a wrong token as any unknown request (404, or its --fallback website's answer).
      const hint = REFUSAL_HINTS[res.statusCode ?? 0] ?? '';
      this.logger.error(`relay answered HTTP ${res.statusCode}${hint}`, { relay: relayUrl });
      ws.terminate();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const hint = certificateHint(err);
      const fields = { relay: relayUrl, error: `${err.message}${hint}` };
      if (hint) this.logger.error('relay connection failed', fields);
      else this.logger.warn('relay connection failed', fields);
    });
    let transport: Socket | undefined;
    ws.on('upgrade', (res) => {
      transport = res.socket;
    });
    let opened = false;
    ws.on('open', () => {
      opened = true;
      this.startSession(ws, transport, relayUrl);
    });
    ws.on('close', () => {
      // An older socket finishing its closing handshake must not start a second reconnect;
      // and once a session exists, its own 'close' schedules the reconnect.
      if (this.socket !== ws) return;
      this.socket = null;
      if (opened) return;
      this.hooks.down?.(relayUrl, false);
      this.scheduleReconnect();
    });
  }

  private startSession(ws: WebSocket, transport: Socket | undefined, relayUrl: string): void {
    const session = new Session(ws, {
      role: 'client',
      transport,
      keepaliveIntervalMs: this.config.keepaliveIntervalMs,
      keepaliveTimeoutMs: this.config.keepaliveTimeoutMs,
      windowBudget: this.config.windowBudget,
      maxStreamWindow: this.config.maxStreamWindow,
    });
    let cameUp = false;
    session.on('close', (info) => {
      // largestWindow: how far this tunnel's receive windows grew (the bench reports it).
      this.logger.warn('tunnel down', { relay: relayUrl, reason: info.reason, byPeer: info.byPeer, streams: session.streams.size, largestWindow: session.windowBudget.largestWindow });
      const wasCurrent = this.session === session;
      if (wasCurrent) {
        this.session = null;
        this.upSince = null;
      }
      if (wasCurrent) this.hooks.down?.(relayUrl, true);
      // Closed before its HELLO came (refused, or a relay that speaks something else): a failed attempt.
      else if (!cameUp) this.hooks.down?.(relayUrl, false);
      if (this.retired) this.stop();
      else this.scheduleReconnect();
    });
    session.ready.then(
      () => {
        if (session.isClosed || this.stopped) return;
        cameUp = true;
        if (this.session && this.session !== session) this.session.close(GoAwayCode.Normal, 'replaced by a newer tunnel');
        this.session = session;
        this.upSince = Date.now();
        this.attempt = 0;
        this.connections += 1;
        this.logger.info('tunnel up', { relay: relayUrl, version: session.version });
        this.hooks.up?.(session);
        this.waiters.settle(session);
      },
      () => {},
    );
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const ceiling = Math.min(this.config.reconnectMaxMs, this.config.reconnectMinMs * BACKOFF_FACTOR ** this.attempt);
    // Full jitter in the upper half: clients restarting together don't retry in lockstep.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.attempt += 1;
    this.logger.info('reconnecting', { inMs: delay, attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }
}
