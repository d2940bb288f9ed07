/**
 * How the load generator reaches a target: straight over loopback ("direct") or through
 * the sockbridge client's SOCKS listener and the relay ("tunnel"). Everything else in a
 * scenario is the same code for both, so the two figures compare like with like.
 */
import type { Socket } from 'node:net';
import { connectTcp } from './net-io.js';
import { socks5Connect, type HostPort } from './socks5.js';

export type Mode = 'direct' | 'tunnel';

export interface Route {
  mode: Mode;
  /** The SOCKS listener, for mode 'tunnel'. */
  socks?: HostPort;
}

export const TARGET_HOST = '127.0.0.1';

/** A socket to the target's port, ready for application data. */
export function openRoute(route: Route, targetPort: number, timeoutMs: number): Promise<Socket> {
  if (route.mode === 'direct') return connectTcp(TARGET_HOST, targetPort, timeoutMs);
  if (!route.socks) throw new Error('tunnel route without a SOCKS address');
  return socks5Connect(route.socks, { host: TARGET_HOST, port: targetPort }, timeoutMs);
}
