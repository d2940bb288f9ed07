/**
 * --admin-listen: the status page, its API and events, /metrics and a detailed /healthz on a
 * listener of their own (plain HTTP, meant for loopback or a private interface), so the
 * public port serves none of them.
 */
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address } from '../protocol/frame.js';
import { formatHostPort } from '../common/host-port.js';
import { createApp, type AppDeps } from './app.js';
import { listen } from '../common/listen.js';

export interface AdminListener {
  server: Server;
  /** http://HOST:PORT/ (port 0 resolved). */
  url: string;
}

export async function startAdminListener(address: Address, deps: AppDeps, headersTimeoutMs: number): Promise<AdminListener> {
  const server = createAdaptorServer({ fetch: createApp({ ...deps, healthz: 'detailed' }).fetch }) as Server;
  server.headersTimeout = headersTimeoutMs;
  await listen(server, address);
  const bound = server.address() as AddressInfo;
  return { server, url: `http://${formatHostPort({ host: bound.address, port: bound.port })}/` };
}
