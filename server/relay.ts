/**
 * The relay process: a Hono app on @hono/node-server for plain HTTP, and the /tunnel
 * WebSocket upgrade taken on the raw socket, authenticated before ws ever sees it.
 */
import { createAdaptorServer } from '@hono/node-server';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '../common/log.js';
import { formatHostPort } from '../common/host-port.js';
import { GoAwayCode, MAX_FRAME_SIZE, WS_SUBPROTOCOL, type Address } from '../protocol/frame.js';
import { Session } from '../protocol/session.js';
import { createApp } from './app.js';
import { DestinationPolicy } from './policy/destination-policy.js';
import { resolveRelayConfig, type RelayConfig } from './config.js';
import { StatusModel } from './status/status-model.js';
import { trackSession } from './status/track-session.js';
import { presentedToken, TokenChecker } from './tunnel/auth.js';
import { serveSession } from './tunnel/serve-session.js';

export const TUNNEL_PATH = '/tunnel';

export interface Relay {
  /** The address the relay actually listens on (port 0 resolved). */
  address: Address;
  /** ws://HOST:PORT/tunnel */
  url: string;
  sessions: ReadonlySet<Session>;
  /** http://HOST:PORT/ — the status page (served when an admin token is set). */
  httpUrl: string;
  /** What the status page, its API and /metrics show. */
  status: StatusModel;
  close(): Promise<void>;
}

export async function startRelay(partial: Partial<RelayConfig> & { tokens: string[] }): Promise<Relay> {
  const config = resolveRelayConfig(partial);
  const logger = config.logger ?? createLogger('relay');
  const policy = new DestinationPolicy(config.rules);
  const tokens = new TokenChecker(config.tokens);
  const sessions = new Set<Session>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_SIZE,
    perMessageDeflate: false, // payloads are mostly TLS already; zlib would only cost memory
    handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  const status = new StatusModel();
  const app = createApp({ logger, tunnelCount: () => sessions.size, status, adminToken: config.adminToken });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;

  const acceptTunnel = (ws: WebSocket, req: IncomingMessage, tokenName: string): void => {
    const remote = formatHostPort({ host: req.socket.remoteAddress ?? '?', port: req.socket.remotePort ?? 0 });
    const session = new Session(ws, {
      role: 'relay',
      keepaliveIntervalMs: config.keepaliveIntervalMs,
      keepaliveTimeoutMs: config.keepaliveTimeoutMs,
      transport: req.socket,
    });
    sessions.add(session);
    logger.info('tunnel opened', { remote, token: tokenName });
    trackSession(status, session, remote, tokenName); // before serveSession: the model must know a stream before handlers report on it
    serveSession(session, {
      dialTimeoutMs: config.dialTimeoutMs,
      policy,
      bind: { publicAddress: config.publicAddress, ports: config.bindPorts, acceptTimeoutMs: config.bindTimeoutMs },
      localAddress: req.socket.localAddress ?? '127.0.0.1',
      logger,
      observer: status,
    });
    session.on('close', (info) => {
      sessions.delete(session);
      logger.info('tunnel closed', { remote, reason: info.reason, byPeer: info.byPeer });
    });
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (path !== TUNNEL_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    const tokenName = tokens.match(presentedToken(req));
    if (tokenName === null) {
      logger.warn('tunnel refused: missing or wrong token', { remote: req.socket.remoteAddress });
      status.countError('unauthorized-tunnel');
      return rejectUpgrade(socket, 401, 'Unauthorized');
    }
    wss.handleUpgrade(req, socket, head, (ws) => acceptTunnel(ws, req, tokenName));
  });

  await listen(server, config.listen).catch((err: Error) => {
    status.close();
    throw err;
  });
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  logger.info('relay listening', { address: formatHostPort(address) });
  if (config.adminToken !== null) logger.info('status page enabled', { url: `http://${formatHostPort(address)}/` });

  return {
    address,
    url: `ws://${formatHostPort(address)}${TUNNEL_PATH}`,
    sessions,
    httpUrl: `http://${formatHostPort(address)}/`,
    status,
    async close() {
      for (const session of sessions) session.close(GoAwayCode.ShuttingDown, 'relay shutting down');
      status.close();
      wss.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  const extra = status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '';
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
}

function listen(server: Server, address: Address): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}
