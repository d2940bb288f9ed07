/**
 * Helpers for the status page's tests: a target that drips bytes at a steady pace (so a
 * stream stays open and its counters grow), admin-authenticated requests, the status
 * snapshot and the metrics over real HTTP.
 */
import type { Socket } from 'node:net';
import type { StatusSnapshot } from '../../../server/status/snapshot.js';
import { startTarget, type Target } from '../targets/targets.js';

export const ADMIN_TOKEN = 'admin-token-for-tests';

/** Writes `chunkSize` bytes every `intervalMs` to each connection until it closes. */
export function startDripTarget(chunkSize = 8 * 1024, intervalMs = 40): Promise<Target> {
  return startTarget((socket: Socket) => {
    const chunk = Buffer.alloc(chunkSize, 0x61);
    const timer = setInterval(() => {
      if (!socket.destroyed && socket.writable) socket.write(chunk);
    }, intervalMs);
    socket.on('close', () => clearInterval(timer));
    socket.on('end', () => socket.end());
  });
}

export function basicAuth(token: string, user = 'admin'): string {
  return `Basic ${Buffer.from(`${user}:${token}`, 'utf8').toString('base64')}`;
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

export async function fetchStatus(baseUrl: string, token = ADMIN_TOKEN): Promise<StatusSnapshot> {
  const response = await fetch(new URL('api/status', baseUrl), { headers: { authorization: bearer(token) }, signal: AbortSignal.timeout(5_000) });
  if (response.status !== 200) throw new Error(`GET /api/status answered ${response.status}`);
  return (await response.json()) as StatusSnapshot;
}

export async function fetchMetrics(baseUrl: string, token = ADMIN_TOKEN): Promise<string> {
  const response = await fetch(new URL('metrics', baseUrl), { headers: { authorization: bearer(token) }, signal: AbortSignal.timeout(5_000) });
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return response.text();
}

/** The value of one sample in Prometheus text, e.g. metricValue(text, 'sockbridge_open_streams{kind="CONNECT"}'). */
export function metricValue(text: string, sample: string): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return null;
}
