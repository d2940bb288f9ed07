/**
 * Sessions over real WebSockets on 127.0.0.1:0, for protocol tests: a ws server whose every
 * connection becomes a relay-role Session, client-role Sessions connected to it, and raw ws
 * peers that speak frames by hand to break the rules on purpose.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { decodeFrame } from '../../../protocol/codec.js';
import { MAX_FRAME_SIZE, type Frame } from '../../../protocol/frame.js';
import { Session, type SessionOptions } from '../../../protocol/session.js';
import { withTimeout } from '../io/waiting.js';

export const WAIT_MS = 5_000;

type Keepalive = Pick<SessionOptions, 'keepaliveIntervalMs' | 'keepaliveTimeoutMs'>;
const QUIET_KEEPALIVE: Keepalive = { keepaliveIntervalMs: 15_000, keepaliveTimeoutMs: 30_000 };

export interface SessionServer {
  url: string;
  /** Every relay-side session created so far. */
  sessions: Session[];
  /** A client Session and the relay Session it got, both past HELLO. */
  connectClient(keepalive?: Keepalive): Promise<{ client: Session; relay: Session }>;
  /** A raw ws peer (no Session on its side) and the relay Session it got; `frames` collects what the relay sends. */
  connectRaw(): Promise<RawPeer>;
  close(): Promise<void>;
}

export interface RawPeer {
  ws: WebSocket;
  relay: Session;
  frames: Frame[];
  /** Resolves once the ws is closed. */
  closed: Promise<void>;
}

export async function startSessionServer(relayKeepalive: Keepalive = QUIET_KEEPALIVE): Promise<SessionServer> {
  const sessions: Session[] = [];
  const sockets = new Set<WebSocket>();
  const waiting: ((session: Session) => void)[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: MAX_FRAME_SIZE });
  wss.on('connection', (ws) => {
    // Created synchronously so no message can arrive before the session listens.
    const session = new Session(ws, { role: 'relay', ...relayKeepalive });
    sessions.push(session);
    waiting.shift()?.(session);
  });
  await once(wss, 'listening');
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

  const dial = async (): Promise<{ ws: WebSocket; relay: Promise<Session> }> => {
    const relay = new Promise<Session>((resolve) => waiting.push(resolve));
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_FRAME_SIZE });
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    await once(ws, 'open', { signal: AbortSignal.timeout(WAIT_MS) });
    return { ws, relay };
  };

  return {
    url,
    sessions,
    async connectClient(keepalive = QUIET_KEEPALIVE) {
      const { ws, relay: relayPromise } = await dial();
      const client = new Session(ws, { role: 'client', ...keepalive });
      const relay = await relayPromise;
      await withTimeout(Promise.all([client.ready, relay.ready]), { what: 'HELLO exchange', timeoutMs: WAIT_MS });
      return { client, relay };
    },
    async connectRaw() {
      const { ws, relay: relayPromise } = await dial();
      const frames: Frame[] = [];
      ws.on('message', (data: Buffer) => frames.push(decodeFrame(data)));
      ws.on('error', () => {});
      const closed = new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve())));
      return { ws, relay: await relayPromise, frames, closed };
    },
    async close() {
      for (const session of sessions) session.close();
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
