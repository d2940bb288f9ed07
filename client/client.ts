/** The client process: a SOCKS listener whose streams all ride one tunnel to the relay. */
import { createLogger } from '../common/log.js';
import { formatHostPort } from '../common/host-port.js';
import type { Address } from '../protocol/frame.js';
import { resolveClientConfig, type ClientConfig } from './config.js';
import { startDnsListener, type DnsListener } from './dns/dns-listener.js';
import { DestinationMemory } from './fast-open.js';
import { startSocksServer } from './socks/server.js';
import { Tunnel } from './tunnel.js';

export interface Client {
  /** Where the SOCKS listener actually listens (port 0 resolved). */
  socksAddress: Address;
  /** The --dns-listen listener, or null without one. */
  dns: DnsListener | null;
  tunnel: Tunnel;
  /** Stops taking SOCKS connections, lets open ones finish for up to `graceMs`, then drops the tunnel. */
  close(graceMs?: number): Promise<void>;
}

export async function startClient(partial: Partial<ClientConfig> & { relayUrl: string; token: string }): Promise<Client> {
  const config = resolveClientConfig(partial);
  const logger = config.logger ?? createLogger('client');
  const tunnel = new Tunnel(config, logger);
  const socks = await startSocksServer(config.socks, {
    tunnel,
    socksUser: config.socksUser,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    udpIdleTimeoutMs: config.udpIdleTimeoutMs,
    fastOpen: { mode: config.fastOpen, memory: new DestinationMemory() },
    logger,
  });
  let dns: DnsListener | null = null;
  if (config.dnsListen !== null) {
    try {
      dns = await startDnsListener({ listen: config.dnsListen, upstream: config.dnsUpstream, timeoutMs: config.dnsTimeoutMs }, { tunnel, logger: logger.child('dns') });
    } catch (err) {
      await socks.close();
      throw err;
    }
  }
  tunnel.start();
  logger.info('SOCKS listening', { address: formatHostPort(socks.address), relay: config.relayUrl });
  return {
    socksAddress: socks.address,
    dns,
    tunnel,
    async close(graceMs = 0) {
      await Promise.all([socks.close(graceMs), dns?.close(graceMs)]);
      tunnel.stop();
    },
  };
}
