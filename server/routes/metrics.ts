/** GET /metrics: the Prometheus text format from the status model's prom-client registry. */
import { Hono } from 'hono';
import type { StatusModel } from '../status/status-model.js';

export interface MetricsRoutesOptions {
  model: StatusModel;
}

export function metricsRoutes(options: MetricsRoutesOptions): Hono {
  const { registry } = options.model.metrics;
  const app = new Hono();
  app.get('/', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' }));
  return app;
}
