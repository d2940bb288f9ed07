/**
 * How the load generator reaches a target: straight over loopback ("direct"), through
 * the sockbridge client's SOCKS listener and the relay ("tunnel"), or through two plain
 * forwarders ("forwarded", the reference in forwarder-chain.ts). Everything else in a
 * scenario is the same code for all, so the figures compare like with like.
 */
import type { Socket } from 'node:net';
import { connectTcp } from './net-io.js';
import { socks5Connect, type HostPort } from './socks5.js';

export type Mode = 'direct' | 'tunnel' | 'forwarded';

export interface Route {
  mode: Mode;
  /** The SOCKS listener, for mode 'tunnel'. */
  socks?: HostPort;
  /** More SOCKS listeners (one client process each): streams take them all in turn, `socks` first. */
  socksAlso?: HostPort[];
  /** Target port → the first forwarder's port for it, for mode 'forwarded'. */
  entries?: Record<string, number>;
}

export const TARGET_HOST = '127.0.0.1';

/** A socket to the target's port, ready for application data. */
export function openRoute(route: Route, targetPort: number, timeoutMs: number): Promise<Socket> {
  if (route.mode === 'direct') return connectTcp(TARGET_HOST, targetPort, timeoutMs);
  if (route.mode === 'forwarded') {
    const entry = route.entries?.[targetPort];
    if (entry === undefined) throw new Error(`forwarded route without an entry for port ${targetPort}`);
    return connectTcp(TARGET_HOST, entry, timeoutMs);
  }
  if (!route.socks) throw new Error('tunnel route without a SOCKS address');
  const listeners = [route.socks, ...(route.socksAlso ?? [])];
  const socks = listeners[nextListener++ % listeners.length]!;
  return socks5Connect(socks, { host: TARGET_HOST, port: targetPort }, timeoutMs);
}

let nextListener = 0;
