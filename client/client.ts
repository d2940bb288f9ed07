/** The client process: a SOCKS and HTTP proxy port whose streams all ride one tunnel to the relay. */
import { createLogger } from '../common/log.js';
import { formatHostPort } from '../common/host-port.js';
import type { Address } from '../protocol/frame.js';
import { resolveClientConfig, type ClientConfig } from './config.js';
import { DestinationMemory } from './fast-open.js';
import { createHttpProxy } from './http/proxy-server.js';
import { Connector } from './outbound/connector.js';
import { startSocksServer } from './socks/server.js';
import { Tunnel } from './tunnel.js';

export interface Client {
  /** Where the SOCKS listener actually listens (port 0 resolved). */
  socksAddress: Address;
  tunnel: Tunnel;
  /** Stops taking SOCKS connections, lets open ones finish for up to `graceMs`, then drops the tunnel. */
  close(graceMs?: number): Promise<void>;
}

export async function startClient(partial: Partial<ClientConfig> & { relayUrl: string; token: string }): Promise<Client> {
  const config = resolveClientConfig(partial);
  const logger = config.logger ?? createLogger('client');
  const tunnel = new Tunnel(config, logger);
  const connector = new Connector({ tunnel, fastOpen: { mode: config.fastOpen, memory: new DestinationMemory() }, logger });
  const http = createHttpProxy({
    connector,
    proxyUser: config.socksUser,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    pacDirect: [],
    logger,
  });
  const socks = await startSocksServer(config.socks, {
    tunnel,
    connector,
    socksUser: config.socksUser,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    udpIdleTimeoutMs: config.udpIdleTimeoutMs,
    logger,
  }, http);
  tunnel.start();
  logger.info('SOCKS listening', { address: formatHostPort(socks.address), relay: config.relayUrl });
  return {
    socksAddress: socks.address,
    tunnel,
    async close(graceMs = 0) {
      await socks.close(graceMs);
      tunnel.stop();
    },
  };
}
