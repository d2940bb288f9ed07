/**
 * The relay process: a Hono app on @hono/node-server for plain HTTP, and the /tunnel
 * WebSocket upgrade taken on the raw socket, authenticated before ws ever sees it.
 * Admitting an upgrade lives in tunnel/admit-upgrade.ts, the tunnel it becomes in
 * tunnel/accept-tunnel.ts; here they are wired together, and taken down in closeRelay.
 */
import { createAdaptorServer } from '@hono/node-server';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { drain } from '../common/drain.js';
import { createLogger, type Logger } from '../common/log.js';
import { formatHostPort } from '../common/host-port.js';
import { GoAwayCode, MAX_FRAME_SIZE, TUNNEL_PATH, WS_SUBPROTOCOL, type Address } from '../protocol/frame.js';
import type { Session } from '../protocol/session.js';
import { createApp } from './app.js';
import { checkUsersAgainstAdminToken, resolveRelayConfig, type RelayConfig } from './config.js';
import { StatusModel } from './status/status-model.js';
import { acceptTunnel } from './tunnel/accept-tunnel.js';
import { Accounts } from './tunnel/accounts.js';
import { admitUpgrade, type UpgradeGate } from './tunnel/admit-upgrade.js';
import { OpenTunnels } from './tunnel/open-tunnels.js';
import type { UsersFile } from './tunnel/users-file.js';

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

/** What closeRelay takes down. */
interface RelayParts {
  server: Server;
  wss: WebSocketServer;
  tunnels: OpenTunnels;
  status: StatusModel;
  logger: Logger;
}

export async function startRelay(partial: Partial<RelayConfig> & { tokens: string[] }): Promise<Relay> {
  const config = resolveRelayConfig(partial);
  const logger = config.logger ?? createLogger('relay');
  const accountsFor = (users: UsersFile | null): Accounts =>
    new Accounts(config.tokens, users, { rules: config.rules, maxTunnels: config.maxTunnelsPerToken, maxStreams: config.maxStreamsPerTunnel });
  let accounts = accountsFor(config.users);
  let draining = false;
  const isDraining = (): boolean => draining;
  const tunnels = new OpenTunnels();
  const status = new StatusModel();
  const wss = createWebSocketServer();
  const server = createHttpServer(config, createApp({ logger, tunnelCount: () => tunnels.sessions.size, status, adminToken: config.adminToken }).fetch);
  const gate: UpgradeGate = {
    accounts: () => accounts,
    isDraining,
    tunnelsOf: (name) => tunnels.countFor(name),
    logger,
    countError: (reason) => status.countError(reason),
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const account = admitUpgrade(req, socket, gate);
    if (account) wss.handleUpgrade(req, socket, head, (ws) => acceptTunnel(ws, req, account, { config, logger, status, tunnels, isDraining }));
  });
  // Slow-loris: a client that dribbles its request headers is cut off instead of holding a socket.
  server.headersTimeout = config.handshakeTimeoutMs;
  await listen(server, config.listen).catch((err: Error) => {
    status.close();
    throw err;
  });
  const urls = relayUrls(server, config);
  logger.info('relay listening', { address: formatHostPort(urls.address), scheme: config.tls === null ? 'http+ws' : 'https+wss (TLS)', url: urls.url });
  if (config.adminToken !== null) logger.info('status page enabled', { url: urls.httpUrl });
  return {
    ...urls,
    sessions: tunnels.sessions,
    status,
    setUsers(users) {
      checkUsersAgainstAdminToken(users, config.adminToken);
      accounts = accountsFor(users);
    },
    close(graceMs = 0) {
      draining = true;
      return closeRelay({ server, wss, tunnels, status, logger }, graceMs);
    },
  };
}

function createWebSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    // The protocol's ceiling. --max-frame-size is enforced by the session instead: once ws refuses a
    // message it can send nothing more, while the session can still say GO_AWAY naming the limit.
    maxPayload: MAX_FRAME_SIZE,
    perMessageDeflate: false, // payloads are mostly TLS already; zlib would only cost memory
    handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
}

/** With --tls-cert/--tls-key the same app and the same upgrade handling run over https. */
function createHttpServer(config: RelayConfig, fetch: (request: Request) => Response | Promise<Response>): Server {
  const server =
    config.tls === null
      ? createAdaptorServer({ fetch })
      : createAdaptorServer({ fetch, createServer: createHttpsServer, serverOptions: { cert: config.tls.cert, key: config.tls.key } });
  return server as Server;
}

function relayUrls(server: Server, config: RelayConfig): { address: Address; url: string; httpUrl: string } {
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const scheme = config.tls === null ? { ws: 'ws', http: 'http' } : { ws: 'wss', http: 'https' };
  return {
    address,
    url: `${scheme.ws}://${formatHostPort(address)}${TUNNEL_PATH}`,
    httpUrl: `${scheme.http}://${formatHostPort(address)}/`,
  };
}

/** With the relay already draining (no new tunnels or streams): let open streams finish, then say go-away. */
async function closeRelay({ server, wss, tunnels, status, logger }: RelayParts, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if (graceMs > 0 && tunnels.streamCount() > 0) {
    logger.info('draining', { streams: tunnels.streamCount(), graceMs });
    const drained = await drain(() => tunnels.streamCount() === 0, graceMs);
    if (!drained) logger.warn('grace period over, closing open streams', { streams: tunnels.streamCount() });
  }
  for (const session of tunnels.sessions) session.close(GoAwayCode.ShuttingDown, 'relay shutting down');
  status.close();
  wss.close();
  server.closeAllConnections?.();
  await closed;
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
