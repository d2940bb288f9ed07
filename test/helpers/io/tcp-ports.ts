/**
 * TCP ports for BIND tests: connecting an "application server" from a chosen local
 * address, checking whether a port is free to listen on, and finding a free port range.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { waitFor } from './waiting.js';

const PROBE_INTERVAL_MS = 20;
const RANGE_ATTEMPTS = 50;

/** Connects an "application server" to the announced address from `localAddress`. */
export function connectFrom(host: string, port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress, allowHalfOpen: true }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** True when a fresh server can listen on host:port (nobody else holds it). */
export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function waitCanListen(host: string, port: number, timeoutMs = 5_000): Promise<void> {
  await waitFor(() => canListen(host, port), { what: `port ${host}:${port} to be free`, timeoutMs, intervalMs: PROBE_INTERVAL_MS });
}

/** `count` consecutive ports free on `host` right now (held while checking, then released). */
export async function findFreePortRange(count: number, host = '127.0.0.1'): Promise<{ low: number; high: number }> {
  // Below Linux's ephemeral range (32768-60999), so no outgoing connection takes one meanwhile.
  const LOWEST = 10_000;
  const SPAN = 22_000;
  for (let attempt = 0; attempt < RANGE_ATTEMPTS; attempt++) {
    const low = LOWEST + Math.floor(Math.random() * SPAN);
    const held: Server[] = [];
    try {
      for (let port = low; port < low + count; port++) {
        const server = createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host, port, exclusive: true }, () => resolve());
        });
        held.push(server);
      }
      return { low, high: low + count - 1 };
    } catch {
      // taken: try elsewhere
    } finally {
      await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
