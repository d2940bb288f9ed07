/**
 * `relay --wisp`: an upgrade on /wisp/TOKEN/ (TOKEN a tunnel token, URL-encoded: a browser's
 * WebSocket cannot send headers, and a Wisp v1 client has no other way to authenticate)
 * becomes a Wisp connection. The token is checked before the upgrade, by the same gate as a
 * tunnel's, so a wrong one gets the answer any unknown request gets (404 or --fallback).
 */
import { requestPath } from '../request-path.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { formatHostPort } from '../../common/host-port.js';
import type { Account } from '../tunnel/accounts.js';
import type { TunnelHost } from '../tunnel/accept-tunnel.js';
import { connectionLimits } from '../tunnel/limits.js';
import { admitToken, type Admission, type UpgradeGate } from '../tunnel/admit-upgrade.js';
import { WISP_HEADER_SIZE } from './codec.js';
import { WispSession } from './wisp-session.js';

/** "the URL of the websocket should always end with a trailing forward slash" (Choosing a Websocket URL). */
export const WISP_PATH_PATTERN = /^\/wisp\/([^/]+)\/$/;
/** Any path under /wisp/TOKEN, the upgrade path or not. */
const WISP_PATH_ANYWHERE_PATTERN = /^\/wisp\/([^/]+)/;
/** Packets per stream in the first CONTINUE: 64 packets of up to 64 KiB each keep a stream under 6 MiB held. */
export const WISP_BUFFER_PACKETS = 64;
/** The largest DATA payload a page may send; a bigger message closes the connection (WebSocket 1009). */
export const WISP_MAX_DATA_PAYLOAD = 64 * 1024;

export interface WispHost extends TunnelHost {
  /** Open Wisp connections, closed when the relay stops. */
  sessions: Set<WispSession>;
}

/**
 * The token in any path under /wisp/TOKEN, upgrade or not: such a request is never passed to
 * --fallback when the token is valid (the origin may be someone else's site).
 */
export function wispPathTokenAnywhere(url: string | undefined): string | null {
  return tokenIn(requestPath(url) ?? '', WISP_PATH_ANYWHERE_PATTERN);
}

/** Null when `req` is not for /wisp/…/; else whether it was admitted. */
export function admitWisp(req: IncomingMessage, socket: Duplex, gate: UpgradeGate): Admission | null {
  const path = requestPath(req.url) ?? '';
  if (!WISP_PATH_PATTERN.test(path)) return null;
  return admitToken(req, socket, gate, tokenIn(path, WISP_PATH_PATTERN));
}

/** The percent-decoded TOKEN that `pattern` captures in `path`; null when it captures none or it does not decode. */
function tokenIn(path: string, pattern: RegExp): string | null {
  const match = pattern.exec(path);
  if (match === null) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

export function createWispServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload: WISP_HEADER_SIZE + WISP_MAX_DATA_PAYLOAD,
    perMessageDeflate: false,
    // A page offering "wisp-v2" (wisp-js 0.5) is answered without a subprotocol: the client
    // then sees the CONTINUE before any INFO and carries on as version 1 (README, "Wisp for web pages").
    handleProtocols: () => false,
  });
}

export function acceptWisp(ws: WebSocket, req: IncomingMessage, account: Account, host: WispHost): WispSession {
  const { config, logger } = host;
  const remote = formatHostPort({ host: req.socket.remoteAddress ?? '?', port: req.socket.remotePort ?? 0 });
  const release = host.tunnels.hold(account.name);
  const counters = { bytesSent: 0, bytesReceived: 0, rttMs: null as number | null };
  const observer = host.status.addTunnel({ remote, tokenName: account.name, counters, kind: 'wisp' });
  const session = new WispSession(ws, {
    bufferPackets: WISP_BUFFER_PACKETS,
    dialTimeoutMs: config.dialTimeoutMs,
    // A getter: each CONNECT reads the rules in force when it arrives, as a tunnel's OPEN does.
    get policy() {
      return host.policyOf(account);
    },
    limits: connectionLimits(config, account, { binds: false }),
    isDraining: host.isDraining,
    udp: config.wispUdp,
    keepaliveIntervalMs: config.keepaliveIntervalMs,
    keepaliveTimeoutMs: config.keepaliveTimeoutMs,
    logger,
    observer,
  });
  Object.defineProperties(counters, {
    bytesSent: { get: () => session.bytesSent },
    bytesReceived: { get: () => session.bytesReceived },
  });
  host.sessions.add(session);
  logger.info('wisp connection opened', { remote, token: account.name });
  ws.on('close', (code) => {
    host.sessions.delete(session);
    release();
    logger.info('wisp connection closed', { remote, code });
  });
  return session;
}
