/**
 * The relay process: a Hono app on @hono/node-server for plain HTTP, and the /tunnel
 * WebSocket upgrade taken on the raw socket, authenticated before ws ever sees it.
 */
import { createAdaptorServer } from '@hono/node-server';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { drain } from '../common/drain.js';
import { createLogger } from '../common/log.js';
import { formatHostPort } from '../common/host-port.js';
import { ProtocolErrorCode } from '../protocol/error-codes.js';
import { GoAwayCode, MAX_FRAME_SIZE, WS_SUBPROTOCOL, type Address } from '../protocol/frame.js';
import { Session } from '../protocol/session.js';
import { createApp } from './app.js';
import { checkUsersAgainstAdminToken, resolveRelayConfig, type RelayConfig } from './config.js';
import { ErrorReason } from './status/error-reasons.js';
import { StatusModel } from './status/status-model.js';
import { trackSession } from './status/track-session.js';
import { Accounts, type Account } from './tunnel/accounts.js';
import { presentedToken } from './tunnel/auth.js';
import type { UsersFile } from './tunnel/users-file.js';
import { serveSession } from './tunnel/serve-session.js';

export const TUNNEL_PATH = '/tunnel';

export interface Relay {
  /** The address the relay actually listens on (port 0 resolved). */
  address: Address;
  /** ws://HOST:PORT/tunnel, or wss:// when serving TLS */
  url: string;
  sessions: ReadonlySet<Session>;
  /** http(s)://HOST:PORT/ — the status page (served when an admin token is set). */
  httpUrl: string;
  /** What the status page, its API and /metrics show. */
  status: StatusModel;
  /**
   * Replaces the users file's users (SIGHUP). New tunnels authenticate against them; open
   * tunnels keep the name, rules and limits they were opened with, even if their user is gone.
   * Throws a ConfigError, keeping the previous users, when a user has the admin token.
   */
  setUsers(users: UsersFile | null): void;
  /** Stops accepting; open streams may finish for up to `graceMs`; then every tunnel gets a go-away. */
  close(graceMs?: number): Promise<void>;
}

export async function startRelay(partial: Partial<RelayConfig> & { tokens: string[] }): Promise<Relay> {
  const config = resolveRelayConfig(partial);
  const logger = config.logger ?? createLogger('relay');
  const accountsFor = (users: UsersFile | null): Accounts =>
    new Accounts(config.tokens, users, { rules: config.rules, maxTunnels: config.maxTunnelsPerToken, maxStreams: config.maxStreamsPerTunnel });
  let accounts = accountsFor(config.users);
  const sessions = new Set<Session>();
  const tunnelsByToken = new Map<string, number>();
  let draining = false;
  const wss = new WebSocketServer({
    noServer: true,
    // The protocol's ceiling. --max-frame-size is enforced by the session instead: once ws refuses a
    // message it can send nothing more, while the session can still say GO_AWAY naming the limit.
    maxPayload: MAX_FRAME_SIZE,
    perMessageDeflate: false, // payloads are mostly TLS already; zlib would only cost memory
    handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  const status = new StatusModel();
  const app = createApp({ logger, tunnelCount: () => sessions.size, status, adminToken: config.adminToken });
  // With --tls-cert/--tls-key the same app and the same upgrade handling run over https.
  const server = (
    config.tls === null
      ? createAdaptorServer({ fetch: app.fetch })
      : createAdaptorServer({ fetch: app.fetch, createServer: createHttpsServer, serverOptions: { cert: config.tls.cert, key: config.tls.key } })
  ) as Server;
  const scheme = config.tls === null ? { ws: 'ws', http: 'http' } : { ws: 'wss', http: 'https' };

  const acceptTunnel = (ws: WebSocket, req: IncomingMessage, account: Account): void => {
    const tokenName = account.name;
    const remote = formatHostPort({ host: req.socket.remoteAddress ?? '?', port: req.socket.remotePort ?? 0 });
    const session = new Session(ws, {
      role: 'relay',
      keepaliveIntervalMs: config.keepaliveIntervalMs,
      keepaliveTimeoutMs: config.keepaliveTimeoutMs,
      transport: req.socket,
      maxPendingBytes: config.maxPendingBytes,
      maxFrameSize: config.maxFrameSize,
    });
    sessions.add(session);
    tunnelsByToken.set(tokenName, (tunnelsByToken.get(tokenName) ?? 0) + 1);
    logger.info('tunnel opened', { remote, token: tokenName });
    const observer = trackSession(status, session, remote, tokenName);
    // A tunnel that upgrades but never says HELLO must not hold its socket until the keepalive gives up.
    const helloTimer = setTimeout(() => {
      if (session.version === 0) session.close(GoAwayCode.ProtocolError, `no HELLO within ${config.handshakeTimeoutMs} ms`);
    }, config.handshakeTimeoutMs);
    helloTimer.unref();
    session.on('close', () => clearTimeout(helloTimer));
    serveSession(session, {
      dialTimeoutMs: config.dialTimeoutMs,
      policy: account.policy,
      isDraining: () => draining,
      limits: { maxStreams: account.maxStreams, maxBinds: config.maxBindsPerTunnel, maxUdpAssociations: config.maxUdpPerTunnel, idleTimeoutMs: config.idleTimeoutMs },
      bind: { publicAddress: config.publicAddress, ports: config.bindPorts, acceptTimeoutMs: config.bindTimeoutMs },
      udpReplies: config.udpReplies,
      localAddress: req.socket.localAddress ?? '127.0.0.1',
      logger,
      observer,
    });
    session.on('close', (info) => {
      sessions.delete(session);
      tunnelsByToken.set(tokenName, (tunnelsByToken.get(tokenName) ?? 1) - 1);
      if (info.errorCode === ProtocolErrorCode.FrameTooLarge) logger.warn('tunnel closed: a frame over --max-frame-size', { remote, token: tokenName, limit: config.maxFrameSize });
      logger.info('tunnel closed', { remote, reason: info.reason, byPeer: info.byPeer });
    });
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (path !== TUNNEL_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    if (draining) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const account = accounts.match(presentedToken(req));
    if (account === null) {
      logger.warn('tunnel refused: missing or wrong token', { remote: req.socket.remoteAddress });
      status.countError(ErrorReason.UnauthorizedTunnel);
      return rejectUpgrade(socket, 401, 'Unauthorized');
    }
    if ((tunnelsByToken.get(account.name) ?? 0) >= account.maxTunnels) {
      logger.warn('tunnel refused: too many tunnels for this token', { token: account.name, limit: account.maxTunnels });
      status.countError(ErrorReason.TunnelsPerToken);
      return rejectUpgrade(socket, 429, 'Too Many Requests');
    }
    wss.handleUpgrade(req, socket, head, (ws) => acceptTunnel(ws, req, account));
  });

  // Slow-loris: a client that dribbles its request headers is cut off instead of holding a socket.
  server.headersTimeout = config.handshakeTimeoutMs;
  await listen(server, config.listen).catch((err: Error) => {
    status.close();
    throw err;
  });
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const url = `${scheme.ws}://${formatHostPort(address)}${TUNNEL_PATH}`;
  const httpUrl = `${scheme.http}://${formatHostPort(address)}/`;
  logger.info('relay listening', { address: formatHostPort(address), scheme: config.tls === null ? 'http+ws' : 'https+wss (TLS)', url });
  if (config.adminToken !== null) logger.info('status page enabled', { url: httpUrl });

  return {
    address,
    url,
    sessions,
    httpUrl,
    status,
    setUsers(users) {
      checkUsersAgainstAdminToken(users, config.adminToken);
      accounts = accountsFor(users);
    },
    async close(graceMs = 0) {
      // Stop taking tunnels and streams, let the open streams finish, then say go-away.
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const streamsOpen = (): number => [...sessions].reduce((sum, session) => sum + session.streams.size, 0);
      if (graceMs > 0 && streamsOpen() > 0) {
        logger.info('draining', { streams: streamsOpen(), graceMs });
        const drained = await drain(() => streamsOpen() === 0, graceMs);
        if (!drained) logger.warn('grace period over, closing open streams', { streams: streamsOpen() });
      }
      for (const session of sessions) session.close(GoAwayCode.ShuttingDown, 'relay shutting down');
      status.close();
      wss.close();
      server.closeAllConnections?.();
      await closed;
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
