/**
 * A WebSocket the relay admitted becomes a tunnel: a relay Session over it, a deadline for
 * the client's HELLO, the status model told of it, and every OPEN served under the account's
 * policy and limits.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ProtocolErrorCode } from '../../protocol/error-codes.js';
import { GoAwayCode } from '../../protocol/frame.js';
import { Session } from '../../protocol/session.js';
import { formatHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import { relayWindowConfig, type RelayConfig } from '../config.js';
import type { StatusModel } from '../status/status-model.js';
import { trackSession } from '../status/track-session.js';
import type { DestinationPolicy } from '../policy/destination-policy.js';
import type { Account } from './accounts.js';
import { connectionLimits } from './limits.js';
import type { OpenTunnels } from './open-tunnels.js';
import { serveSession } from './serve-session.js';

export interface TunnelHost {
  config: RelayConfig;
  logger: Logger;
  status: StatusModel;
  tunnels: OpenTunnels;
  isDraining: () => boolean;
  /** The rules a new stream of this account's connection is decided by: they may change on SIGHUP. */
  policyOf: (account: Account) => DestinationPolicy;
}

export function acceptTunnel(ws: WebSocket, req: IncomingMessage, account: Account, host: TunnelHost): void {
  const { config, logger } = host;
  const tokenName = account.name;
  const remote = formatHostPort({ host: req.socket.remoteAddress ?? '?', port: req.socket.remotePort ?? 0 });
  const session = new Session(ws, {
    role: 'relay',
    keepaliveIntervalMs: config.keepaliveIntervalMs,
    keepaliveTimeoutMs: config.keepaliveTimeoutMs,
    transport: req.socket,
    maxFrameSize: config.maxFrameSize,
    ...relayWindowConfig(config),
  });
  host.tunnels.add(session, tokenName);
  logger.info('tunnel opened', { remote, token: tokenName });
  const observer = trackSession(host.status, session, remote, tokenName);
  awaitHello(session, config.handshakeTimeoutMs);
  serveSession(session, {
    dialTimeoutMs: config.dialTimeoutMs,
    // A getter: each OPEN reads the rules in force when it arrives.
    get policy() {
      return host.policyOf(account);
    },
    isDraining: host.isDraining,
    limits: connectionLimits(config, account),
    bind: { publicAddress: config.publicAddress, ports: config.bindPorts, acceptTimeoutMs: config.bindTimeoutMs },
    udpReplies: config.udpReplies,
    localAddress: req.socket.localAddress ?? '127.0.0.1',
    logger,
    observer,
  });
  session.on('close', (info) => {
    if (info.errorCode === ProtocolErrorCode.FrameTooLarge) logger.warn('tunnel closed: a frame over --max-frame-size', { remote, token: tokenName, limit: config.maxFrameSize });
    logger.info('tunnel closed', { remote, reason: info.reason, byPeer: info.byPeer, largestWindow: session.windowBudget.largestWindow });
  });
}

/** A tunnel that upgrades but never says HELLO must not hold its socket until the keepalive gives up. */
function awaitHello(session: Session, timeoutMs: number): void {
  const timer = setTimeout(() => {
    if (session.version === 0) session.close(GoAwayCode.ProtocolError, `no HELLO within ${timeoutMs} ms`);
  }, timeoutMs);
  timer.unref();
  session.on('close', () => clearTimeout(timer));
}
