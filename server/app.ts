/** The relay's HTTP surface as a Hono app. The /tunnel upgrade itself is handled in relay.ts on the raw socket. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../common/log.js';

export interface AppDeps {
  logger: Logger;
  /** Number of live tunnels, for the health check. */
  tunnelCount: () => number;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok', tunnels: deps.tunnelCount() }));
  app.all('/tunnel', () => {
    throw new HTTPException(426, { message: 'this endpoint takes a WebSocket upgrade' });
  });
  app.notFound((c) => c.text('not found', 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    deps.logger.error('request failed', { path: c.req.path, error: err.message });
    return c.text('internal error', 500);
  });
  return app;
}
