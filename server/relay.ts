/**
 * The relay process: one public listener where the tunnel's WebSocket upgrade (on --path)
 * is taken on the raw socket, authenticated before ws ever sees it, and everything else is
 * answered by public-surface.ts (the Hono app, or the --fallback origin); plus, with
 * --admin-listen, the status routes on a listener of their own. Admitting an upgrade lives
 * in tunnel/admit-upgrade.ts, the tunnel it becomes in tunnel/accept-tunnel.ts; here they
 * are wired together, and taken down in closeRelay.
 */
import { createServer as createPlainServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { drain } from '../common/drain.js';
import { createLogger, type Logger } from '../common/log.js';
import { formatHostPort } from '../common/host-port.js';
import { GoAwayCode, MAX_FRAME_SIZE, WS_SUBPROTOCOL, type Address } from '../protocol/frame.js';
import type { Session } from '../protocol/session.js';
import { startAdminListener, type AdminListener } from './admin-listener.js';
import { listen } from '../common/listen.js';
import { createPublicSurface, type PublicSurface } from './public-surface.js';
import { resolveRelayConfig, type RelayConfig } from './config.js';
import { StatusModel } from './status/status-model.js';
import type { StatusView } from './status/status-view.js';
import { acceptTunnel, type TunnelHost } from './tunnel/accept-tunnel.js';
import { holdTunnelSlot, type RelayCluster } from './cluster/relay-cluster.js';
import { Accounts } from './tunnel/accounts.js';
import { admitUpgrade, refuseOverLimit, type UpgradeGate } from './tunnel/admit-upgrade.js';
import { presentedToken } from './tunnel/auth.js';
import { OpenTunnels, streamsIn } from './tunnel/open-tunnels.js';
import { acceptWisp, admitWisp, createWispServer, wispPathTokenAnywhere } from './wisp/wisp-upgrade.js';
import type { WispSession } from './wisp/wisp-session.js';

export interface Relay {
  /** The address the relay actually listens on (port 0 resolved). */
  address: Address;
  /** ws://HOST:PORT/PATH (--path, default /tunnel), or wss:// when serving TLS */
  url: string;
  sessions: ReadonlySet<Session>;
  /** http(s)://HOST:PORT/ of the public listener (the status page there when an admin token is set and neither --admin-listen nor --fallback is). */
  httpUrl: string;
  /** http://HOST:PORT/ of --admin-listen, where the status routes and /healthz are then served; null without it. */
  adminUrl: string | null;
  /** What the status page, its API and /metrics show. */
  status: StatusModel;
  /**
   * SIGHUP with a config file: tokens, users, rules and limits. Tokens and users decide who
   * may open a tunnel; rules apply to every new stream, on open tunnels too; the per-tunnel
   * limits apply to tunnels opened from now on. Throws a ConfigError and changes nothing
   * when the settings do not pass the checks of startRelay.
   */
  reconfigure(settings: LiveRelaySettings): void;
  /** Stops accepting; open streams (Wisp's too) may finish for up to `graceMs`; then every tunnel gets a go-away and every Wisp connection a 1001. */
  close(graceMs?: number): Promise<void>;
}

/** The settings a running relay takes on (reconfigure); the rest need a restart. */
export const LIVE_SETTINGS = [
  'tokens',
  'users',
  'rules',
  'dialTimeoutMs',
  'publicAddress',
  'bindPorts',
  'bindTimeoutMs',
  'maxStreamsPerTunnel',
  'maxBindsPerTunnel',
  'maxUdpPerTunnel',
  'udpReplies',
  'maxTunnelsPerToken',
  'idleTimeoutMs',
  'maxPendingBytes',
] as const satisfies ReadonlyArray<keyof RelayConfig>;

export type LiveRelaySettings = Partial<Pick<RelayConfig, (typeof LIVE_SETTINGS)[number]>>;

/** What the relay's parts share: its settings, who may open tunnels now, and what is open. */
interface RelayCore {
  config: RelayConfig;
  logger: Logger;
  /** Replaced on SIGHUP (reconfigure) and set on close: the handlers read them at each request. */
  live: { accounts: Accounts; draining: boolean };
  tunnels: OpenTunnels;
  status: StatusModel;
  /** What the status routes show: this relay's model, or with --workers all of theirs. */
  view: StatusView;
  wss: WebSocketServer;
  wispSessions: Set<WispSession>;
  cluster: RelayCluster | null;
}

/** The tunnels open now, Wisp connections included (as in the status totals), as /healthz and the surface report them. */
function tunnelCountOf(core: RelayCore): number {
  return core.tunnels.sessions.size + core.wispSessions.size;
}

function accountsFor(config: RelayConfig): Accounts {
  return new Accounts(config.tokens, config.users, { rules: config.rules, maxTunnels: config.maxTunnelsPerToken, maxStreams: config.maxStreamsPerTunnel });
}

/** `cluster`: this relay is one worker of several (--workers N); null: it is the whole relay. */
export async function startRelay(partial: Partial<RelayConfig> & { tokens: string[] }, cluster: RelayCluster | null = null): Promise<Relay> {
  const config = resolveRelayConfig(partial);
  const status = new StatusModel();
  const core: RelayCore = {
    config,
    logger: config.logger ?? createLogger('relay'),
    live: { accounts: accountsFor(config), draining: false },
    tunnels: new OpenTunnels(),
    status,
    view: cluster?.statusView(status) ?? status,
    wss: createWebSocketServer(),
    wispSessions: new Set<WispSession>(),
    cluster,
  };
  const { server, surface } = createRelayServer(core);
  const admin = await listenAll(core, server, surface);
  const urls = relayUrls(server, config);
  core.logger.info('relay listening', { address: formatHostPort(urls.address), scheme: config.tls === null ? 'http+ws' : 'https+wss (TLS)', url: urls.url });
  logSurface(config, core.logger, urls.httpUrl, admin);
  return {
    ...urls,
    adminUrl: admin?.url ?? null,
    sessions: core.tunnels.sessions,
    status,
    reconfigure(settings) {
      const next = resolveRelayConfig({ ...config, ...definedOnly(settings) });
      for (const key of LIVE_SETTINGS) (config as unknown as Record<string, unknown>)[key] = next[key];
      core.live.accounts = accountsFor(config);
    },
    close(graceMs = 0) {
      core.live.draining = true;
      return closeRelay(core, { server, admin, surface }, graceMs);
    },
  };
}

/** The public listener (not yet listening): the surface answers requests, upgrades become tunnels or Wisp connections. */
function createRelayServer(core: RelayCore): { server: Server; surface: PublicSurface } {
  const { config, logger, live, tunnels, status } = core;
  const tunnelCount = (): number => tunnelCountOf(core);
  const carriesTunnelToken = (req: IncomingMessage): boolean =>
    live.accounts.match(presentedToken(req)) !== null || live.accounts.match(wispPathTokenAnywhere(req.url)) !== null;
  const surface = createPublicSurface(config, { logger, status, view: core.view, tunnelCount, carriesTunnelToken });
  const server = createHttpServer(config);
  server.on('request', surface.handleRequest);
  // Node would answer `Expect: 100-continue` with a 100 of its own, which the site behind
  // --fallback (or a server with no body to read) does not send: a proxy's tell. The origin's
  // own 100, if it sends one, is passed on instead (fallback-proxy.ts).
  server.on('checkContinue', surface.handleRequest);
  const { handleConnect } = surface;
  if (handleConnect !== null) {
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      handleConnect(req, socket, head);
    });
  }
  const isDraining = (): boolean => live.draining;
  const gate: UpgradeGate = {
    path: config.path,
    accounts: () => live.accounts,
    isDraining,
    tunnelsOf: (name) => tunnels.countFor(name),
    logger,
    countError: (reason) => status.countError(reason),
  };
  // A tunnel's new streams follow the current rules of its account (the ones it opened with if the account is gone).
  const policyOf: TunnelHost['policyOf'] = (account) => live.accounts.policyOf(account.name) ?? account.policy;
  const host: TunnelHost = { config, logger, status, tunnels, isDraining, policyOf };
  const wisp = config.wisp ? { wss: createWispServer(), host: { ...host, sessions: core.wispSessions } } : null;
  server.on('upgrade', upgradeHandler(gate, surface, core.wss, host, { cluster: core.cluster, wisp }));
  // Slow-loris: a client that dribbles its request headers is cut off instead of holding a socket.
  server.headersTimeout = config.handshakeTimeoutMs;
  return { server, surface };
}

/** Listens on --listen, then --admin-listen; a failure undoes what was set up and throws. */
async function listenAll(core: RelayCore, server: Server, surface: PublicSurface): Promise<AdminListener | null> {
  const { config } = core;
  try {
    await listen(server, config.listen);
    if (config.adminListen === null) return null;
    const adminDeps = { logger: core.logger, tunnelCount: () => tunnelCountOf(core), status: core.view, adminToken: config.adminToken };
    return await startAdminListener(config.adminListen, adminDeps, config.handshakeTimeoutMs);
  } catch (err) {
    core.status.close();
    surface.close();
    server.close();
    throw err;
  }
}

function definedOnly<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** An authenticated upgrade on the tunnel path becomes a tunnel; any other gets the answer the request would get without it. */
function upgradeHandler(gate: UpgradeGate, surface: PublicSurface, wss: WebSocketServer, host: TunnelHost, extra: { cluster: RelayCluster | null; wisp: WispUpgrades | null }): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { cluster, wisp } = extra;
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    // A /wisp/TOKEN/ path is Wisp's (with --wisp); any other upgrade may be a tunnel.
    const wispAdmission = wisp === null ? null : admitWisp(req, socket, gate);
    const admission = wispAdmission ?? admitUpgrade(req, socket, gate);
    if (admission.kind === 'ordinary') surface.handleOrdinaryUpgrade(req, socket, head);
    if (admission.kind !== 'tunnel') return;
    const { account } = admission;
    const accept = (): void => {
      if (wisp !== null && wispAdmission !== null) wisp.wss.handleUpgrade(req, socket, head, (ws) => acceptWisp(ws, req, account, wisp.host));
      else wss.handleUpgrade(req, socket, head, (ws) => acceptTunnel(ws, req, account, host));
    };
    if (cluster === null) return accept();
    // The limit holds across workers, Wisp connections included: the primary counts every worker's connections of this token.
    const refuse = (): void => void refuseOverLimit(socket, gate, account);
    void holdTunnelSlot(cluster, socket, account.name, account.maxTunnels, refuse).then((held) => held && accept());
  };
}

/** --wisp: the Wisp endpoint's own WebSocket server (its message limit and subprotocol answer differ). */
interface WispUpgrades {
  wss: WebSocketServer;
  host: Parameters<typeof acceptWisp>[3];
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

/** With --tls-cert/--tls-key the same surface and the same upgrade handling run over https. */
function createHttpServer(config: RelayConfig): Server {
  return (config.tls === null ? createPlainServer() : createHttpsServer({ cert: config.tls.cert, key: config.tls.key })) as Server;
}

/** Where the status page is, if anywhere, and what a prober meets instead. */
function logSurface(config: RelayConfig, logger: Logger, httpUrl: string, admin: AdminListener | null): void {
  if (config.fallback !== null) logger.info('fallback: requests that are not tunnels go to the origin', { origin: config.fallback });
  if (admin !== null) {
    logger.info('admin listener', { url: admin.url, statusPage: config.adminToken !== null });
  } else if (config.adminToken !== null && config.fallback !== null) {
    logger.warn('the status page is off: with --fallback it is served only on --admin-listen');
  } else if (config.adminToken !== null) {
    logger.info('status page enabled', { url: httpUrl });
  }
}

function relayUrls(server: Server, config: RelayConfig): { address: Address; url: string; httpUrl: string } {
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const scheme = config.tls === null ? { ws: 'ws', http: 'http' } : { ws: 'wss', http: 'https' };
  return {
    address,
    url: `${scheme.ws}://${formatHostPort(address)}${config.path}`,
    httpUrl: `${scheme.http}://${formatHostPort(address)}/`,
  };
}

/** With the relay already draining (no new tunnels or streams): let open streams finish, then say go-away. */
async function closeRelay(core: RelayCore, listeners: { server: Server; admin: AdminListener | null; surface: PublicSurface }, graceMs: number): Promise<void> {
  const { wss, tunnels, wispSessions, status, logger } = core;
  const { server, admin, surface } = listeners;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const adminClosed = new Promise<void>((resolve) => (admin === null ? resolve() : admin.server.close(() => resolve())));
  // A Wisp connection has no go-away: one whose streams are done closes now, the others when their last one ends.
  for (const session of [...wispSessions]) session.closeWhenIdle();
  const streamCount = (): number => tunnels.streamCount() + streamsIn(wispSessions);
  if (graceMs > 0 && streamCount() > 0) {
    logger.info('draining', { streams: streamCount(), graceMs });
    const drained = await drain(() => streamCount() === 0, graceMs);
    if (!drained) logger.warn('grace period over, closing open streams', { streams: streamCount() });
  }
  for (const session of tunnels.sessions) session.close(GoAwayCode.ShuttingDown, 'relay shutting down');
  for (const session of [...wispSessions]) session.close();
  status.close();
  wss.close();
  surface.close();
  server.closeAllConnections?.();
  admin?.server.closeAllConnections();
  await Promise.all([closed, adminClosed]);
}

