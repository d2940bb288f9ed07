/** GET /metrics: the Prometheus text format from the status model's prom-client registry (or every worker's, added up). */
import { Hono } from 'hono';
import type { StatusView } from '../status/status-view.js';

export interface MetricsRoutesOptions {
  model: StatusView;
}

export function metricsRoutes(options: MetricsRoutesOptions): Hono {
  const { model } = options;
  const app = new Hono();
  app.get('/', async (c) => c.body(await model.metricsText(), 200, { 'Content-Type': model.metricsContentType, 'Cache-Control': 'no-store' }));
  return app;
}
