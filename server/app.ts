/**
 * The relay's HTTP surface as a Hono app: the public listener's (without --fallback) and the
 * admin listener's. Tunnel upgrades are taken in relay.ts on the raw socket. Nothing here
 * names the product or hints at a tunnel to a client that has not logged in: unknown paths,
 * the tunnel path included, are a plain 404.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../common/log.js';
import { adminAuth } from './routes/admin-auth.js';
import { metricsRoutes } from './routes/metrics.js';
import { statusRoutes } from './routes/status.js';
import { webRoutes, type WebRoutesOptions } from './routes/web.js';
import type { StatusView } from './status/status-view.js';

/**
 * /healthz: `detailed` adds the tunnel count (the admin listener), `plain` says only ok (a
 * public listener, for load balancers), `off` leaves it out (public, with --admin-listen).
 */
export type HealthCheck = 'detailed' | 'plain' | 'off';

export interface AppDeps {
  logger: Logger;
  /** Number of live tunnels, for the detailed health check. */
  tunnelCount: () => number;
  /** What the status page, its API, its events and /metrics show; without it those routes are absent. */
  status?: StatusView;
  /** Guards the status routes; null or absent: they answer 404. */
  adminToken?: string | null;
  /** Default: detailed. */
  healthz?: HealthCheck;
  web?: WebRoutesOptions;
}

/** Everything behind the admin token. /healthz stays open for load balancers. */
const ADMIN_PATHS = ['/', '/assets/*', '/api/*', '/metrics'];

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const healthz = deps.healthz ?? 'detailed';
  if (healthz === 'detailed') app.get('/healthz', (c) => c.json({ status: 'ok', tunnels: deps.tunnelCount() }));
  if (healthz === 'plain') app.get('/healthz', (c) => c.json({ status: 'ok' }));
  if (deps.status) {
    const requireAdmin = adminAuth({ token: deps.adminToken || null });
    for (const path of ADMIN_PATHS) app.use(path, requireAdmin);
    app.route('/api', statusRoutes({ model: deps.status }));
    app.route('/metrics', metricsRoutes({ model: deps.status }));
    app.route('/', webRoutes(deps.web));
  }
  app.notFound((c) => c.text('not found', 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    deps.logger.error('request failed', { path: c.req.path, error: err.message });
    return c.text('internal error', 500);
  });
  return app;
}
