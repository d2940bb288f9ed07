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
import type { ClientConfig } from './config.js';
import { certificateHint, needsOwnTransport, openRelayTransport, upgradeRequestOptions } from './relay-transport.js';

/** What to check when the relay will not upgrade. It answers a wrong token as any unknown request: 404, or its --fallback website's answer. */
const REFUSAL_HINTS: Readonly<Record<number, string>> = {
  401: ' (the relay refused the token: check --token)',
  404: ' (a wrong token or path: check --token and the path in --relay)',
};

const HANDSHAKE_TIMEOUT_MS = 10_000;
const BACKOFF_FACTOR = 2;

type Waiter = (session: Session | null) => void;

export class Tunnel {
  private session: Session | null = null;
  private waiters = new Set<Waiter>();
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private socket: WebSocket | null = null;
  private stopped = false;
  /** Completed connections so far, for tests and status. */
  connections = 0;

  constructor(
    private readonly config: ClientConfig,
    private readonly logger: Logger,
  ) {}

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
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), this.config.tunnelWaitMs);
      const settle: Waiter = (session) => {
        clearTimeout(timer);
        this.waiters.delete(settle);
        resolve(session);
      };
      this.waiters.add(settle);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.session?.close();
    this.socket?.terminate();
    for (const waiter of [...this.waiters]) waiter(null);
  }

  private connect(): void {
    if (!needsOwnTransport(this.config)) return this.openWebSocket(null);
    // A proxy or a pinned certificate: reach and check the relay first, then run ws over that socket.
    openRelayTransport(this.config.relayUrl, this.config, HANDSHAKE_TIMEOUT_MS).then(
      (socket) => {
        if (this.stopped) return void socket.destroy();
        this.openWebSocket(socket);
      },
      (err: Error) => {
        this.logger.error('relay connection failed', { relay: this.config.relayUrl, error: err.message });
        this.scheduleReconnect();
      },
    );
  }

  private openWebSocket(transportSocket: Socket | null): void {
    const ws = new WebSocket(this.config.relayUrl, [WS_SUBPROTOCOL], {
      ...upgradeRequestOptions(this.config),
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_SIZE,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      ...maskingFor(this.config.relayUrl),
      ...(this.config.ca !== null ? { ca: this.config.ca } : {}),
      ...(transportSocket !== null ? { createConnection: () => transportSocket } : {}),
    });
    this.socket = ws;
    ws.on('unexpected-response', (_req, res) => {
      // A relay answers a wrong token as any unknown request (404, or its --fallback website's answer).
      const hint = REFUSAL_HINTS[res.statusCode ?? 0] ?? '';
      this.logger.error(`relay answered HTTP ${res.statusCode}${hint}`, { relay: this.config.relayUrl });
      ws.terminate();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const hint = certificateHint(err);
      const fields = { relay: this.config.relayUrl, error: `${err.message}${hint}` };
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
      this.startSession(ws, transport);
    });
    ws.on('close', () => {
      // An older socket finishing its closing handshake must not start a second reconnect;
      // and once a session exists, its own 'close' schedules the reconnect.
      if (this.socket !== ws) return;
      this.socket = null;
      if (!opened) this.scheduleReconnect();
    });
  }

  private startSession(ws: WebSocket, transport: Socket | undefined): void {
    const session = new Session(ws, {
      role: 'client',
      transport,
      keepaliveIntervalMs: this.config.keepaliveIntervalMs,
      keepaliveTimeoutMs: this.config.keepaliveTimeoutMs,
      windowBudget: this.config.windowBudget,
      maxStreamWindow: this.config.maxStreamWindow,
    });
    session.on('close', (info) => {
      // largestWindow: how far this tunnel's receive windows grew (the bench reports it).
      this.logger.warn('tunnel down', { reason: info.reason, byPeer: info.byPeer, streams: session.streams.size, largestWindow: session.windowBudget.largestWindow });
      if (this.session === session) this.session = null;
      this.scheduleReconnect();
    });
    session.ready.then(
      () => {
        if (session.isClosed || this.stopped) return;
        if (this.session && this.session !== session) this.session.close(GoAwayCode.Normal, 'replaced by a newer tunnel');
        this.session = session;
        this.attempt = 0;
        this.connections += 1;
        this.logger.info('tunnel up', { relay: this.config.relayUrl, version: session.version });
        for (const waiter of [...this.waiters]) waiter(session);
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
