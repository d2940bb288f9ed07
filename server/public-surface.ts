/**
 * What the public listener answers besides tunnels: with --fallback, the origin's website
 * (fallback/); without, the Hono app, serving the status page and a plain /healthz only when
 * there is no --admin-listen for them. Either way an upgrade that is not a tunnel gets the
 * answer the same request would get without an upgrade.
 */
import { getRequestListener } from '@hono/node-server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/log.js';
import { createApp } from './app.js';
import type { RelayConfig } from './config.js';
import { createFallbackProxy } from './fallback/fallback-proxy.js';
import { proxyUpgrade } from './fallback/upgrade-proxy.js';
import { carriesAdminToken } from './routes/admin-auth.js';
import { responseOnSocket } from './socket-response.js';
import type { StatusModel } from './status/status-model.js';
import type { StatusView } from './status/status-view.js';

export interface PublicSurface {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** An upgrade request that is not an authenticated tunnel request. */
  handleOrdinaryUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A CONNECT request, for the origin to answer; null: Node's default (the connection is closed, as by any Node server). */
  handleConnect: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | null;
  close(): void;
}

export interface SurfaceDeps {
  logger: Logger;
  status: StatusModel;
  /** What the status routes show, when not `status` itself (--workers N: the whole relay). */
  view?: StatusView;
  tunnelCount: () => number;
  /** Whether a request presents a valid tunnel token (kept from the origin). */
  carriesTunnelToken: (req: IncomingMessage) => boolean;
}

export function createPublicSurface(config: RelayConfig, deps: SurfaceDeps): PublicSurface {
  if (config.fallback !== null) {
    const proxy = createFallbackProxy(config.fallback, {
      logger: deps.logger,
      countError: (reason) => deps.status.countError(reason),
      carriesTunnelToken: deps.carriesTunnelToken,
      carriesAdminToken: (req) => carriesAdminToken(req.headers.authorization, config.adminToken),
    });
    return {
      handleRequest: proxy.handleRequest,
      handleOrdinaryUpgrade: (req, socket, head) => proxyUpgrade(proxy, req, socket, head),
      handleConnect: (req, socket, head) => proxyUpgrade(proxy, req, socket, head),
      close: () => proxy.close(),
    };
  }
  const servesAdmin = config.adminListen === null;
  const app = createApp({
    logger: deps.logger,
    tunnelCount: deps.tunnelCount,
    status: servesAdmin ? (deps.view ?? deps.status) : undefined,
    adminToken: config.adminToken,
    healthz: servesAdmin ? 'plain' : 'off',
  });
  const listener = getRequestListener(app.fetch);
  return {
    handleRequest: (req, res) => void listener(req, res),
    handleOrdinaryUpgrade: (req, socket) => void listener(req, responseOnSocket(req, socket)),
    handleConnect: null,
    close: () => undefined,
  };
}
