/** Starts the naive one-WebSocket-per-stream tunnel (naive-tunnel.ts) as two processes: a relay, then a client in front of it. */
import { startNode, type Managed } from './processes.js';
import type { HostPort } from './socks5.js';

const START_TIMEOUT_MS = 10_000;

export interface NaiveTunnel {
  /** Its SOCKS5 listener. */
  socks: HostPort;
  stop(): Promise<void>;
}

export async function startNaiveTunnel(script: string): Promise<NaiveTunnel> {
  const relay = startNode('naive relay', script, ['relay']);
  let client: Managed | null = null;
  try {
    const [, relayJson] = await relay.waitForLine(/^naive relay (\{.*\})$/, START_TIMEOUT_MS);
    client = startNode('naive client', script, ['client', String((JSON.parse(relayJson) as { port: number }).port)]);
    const [, clientJson] = await client.waitForLine(/^naive client (\{.*\})$/, START_TIMEOUT_MS);
    const both = client;
    return {
      socks: { host: '127.0.0.1', port: (JSON.parse(clientJson) as { port: number }).port },
      stop: async () => {
        await Promise.all([both.stop(), relay.stop()]);
      },
    };
  } catch (err) {
    await Promise.all([client?.stop(), relay.stop()]);
    throw err;
  }
}
