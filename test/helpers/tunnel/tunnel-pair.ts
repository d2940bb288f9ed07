/** A relay and a client on 127.0.0.1 ephemeral ports, in this process, for tests. */
import { createLogger, type LogLevel } from '../../../common/log.js';
import { startClient, type Client } from '../../../client/client.js';
import type { ClientConfig } from '../../../client/config.js';
import type { RelayConfig } from '../../../server/config.js';
import { startRelay, type Relay } from '../../../server/relay.js';
import { loopbackRules } from '../fixtures/loopback-rules.js';

export const TEST_TOKEN = 'test-token-not-secret';

export interface TunnelPair {
  relay: Relay;
  client: Client;
  socksPort: number;
  close(): Promise<void>;
}

export interface PairOptions {
  relay?: Partial<RelayConfig>;
  client?: Partial<ClientConfig>;
}

const LOG_LEVEL = (process.env.SOCKBRIDGE_TEST_LOG_LEVEL ?? 'silent') as LogLevel;

export async function startPair(options: PairOptions = {}): Promise<TunnelPair> {
  const relay = await startRelay({
    listen: { host: '127.0.0.1', port: 0 },
    tokens: [TEST_TOKEN],
    rules: loopbackRules(),
    logger: createLogger('relay', LOG_LEVEL),
    ...options.relay,
  });
  let client: Client;
  try {
    client = await startClient({
      relayUrl: relay.url,
      token: TEST_TOKEN,
      socks: { host: '127.0.0.1', port: 0 },
      logger: createLogger('client', LOG_LEVEL),
      ...options.client,
    });
  } catch (err) {
    // A client that cannot start (a bad setting, a port in use) must not leave the relay listening.
    await relay.close();
    throw err;
  }
  await client.tunnel.getSession();
  return {
    relay,
    client,
    socksPort: client.socksAddress.port,
    async close() {
      await client.close();
      await relay.close();
    },
  };
}
