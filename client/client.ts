/** The client process: one SOCKS and HTTP proxy port whose streams ride one tunnel to the relay, unless a routing rule says otherwise. */
import { ConfigError } from '../common/config-error.js';
import { createLogger } from '../common/log.js';
import { formatHostPort } from '../common/host-port.js';
import type { Address } from '../protocol/frame.js';
import { resolveClientConfig, type ClientConfig, type ClientSettings } from './config.js';
import { startDnsListener, type DnsListener } from './dns/dns-listener.js';
import { DestinationMemory } from './fast-open.js';
import type { PacRule } from './http/pac.js';
import { createHttpProxy } from './http/proxy-server.js';
import { Connector, Route, type RouteCounts } from './outbound/connector.js';
import { loadRulesFile, RulesFileError } from './outbound/rules-file.js';
import { RoutingTable } from './outbound/rules.js';
import { startSocksServer } from './socks/server.js';
import { startStatusServer, type StatusServer } from './pool/status-server.js';
import { TunnelPool } from './pool/tunnel-pool.js';

export interface Client {
  /** Where the SOCKS listener actually listens (port 0 resolved). */
  socksAddress: Address;
  /** The --dns-listen listener, or null without one. */
  dns: DnsListener | null;
  /** The tunnels (--tunnels over the --relay URLs): getSession(), current, connections, status(). */
  tunnel: TunnelPool;
  /** The --status-listen listener, or null without one. */
  status: StatusServer | null;
  /** The CONNECTs each route has taken so far. */
  routeCounts(): RouteCounts;
  /**
   * Re-reads --rules (SIGHUP) and returns how many rules now apply. A file that cannot be
   * used throws a RulesFileError naming file and line, and the rules in force stay. With
   * `changes` (a reloaded config file) its --direct/--block and --rules file replace the old.
   */
  reloadRules(changes?: Pick<ClientConfig, 'routes' | 'rulesFile'>): number;
  /** Stops taking SOCKS connections, lets open ones finish for up to `graceMs`, then drops the tunnel. */
  close(graceMs?: number): Promise<void>;
}

export async function startClient(partial: ClientSettings): Promise<Client> {
  const config = resolveClientConfig(partial);
  const logger = config.logger ?? createLogger('client');
  let rules: RoutingTable;
  try {
    rules = routingTable(config);
  } catch (err) {
    if (err instanceof RulesFileError) throw new ConfigError('--rules', err.message);
    throw err;
  }
  const tunnel = new TunnelPool(config, logger);
  const connector = new Connector({
    tunnel,
    fastOpen: { mode: config.fastOpen, memory: new DestinationMemory() },
    logger,
    rules,
    directDialTimeoutMs: config.directDialTimeoutMs,
  });
  let pacRules = pacRulesOf(rules);
  const http = createHttpProxy({
    connector,
    proxyUser: config.socksUser,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    pacRules: () => pacRules,
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
  let dns: DnsListener | null = null;
  if (config.dnsListen !== null) {
    try {
      dns = await startDnsListener({ listen: config.dnsListen, upstream: config.dnsUpstream, timeoutMs: config.dnsTimeoutMs }, { tunnel, logger: logger.child('dns') });
    } catch (err) {
      await socks.close();
      throw err;
    }
  }
  let status: StatusServer | null = null;
  if (config.statusListen !== null) {
    try {
      status = await startStatusServer(config.statusListen, () => tunnel.status());
    } catch (err) {
      await Promise.all([socks.close(), dns?.close()]);
      throw err;
    }
    logger.info('status listening', { address: formatHostPort(status.address) });
  }
  tunnel.start();
  logger.info('SOCKS listening', { address: formatHostPort(socks.address), relay: config.relayUrls.join(' '), tunnels: config.tunnels, rules: rules.size });
  return {
    socksAddress: socks.address,
    dns,
    tunnel,
    status,
    routeCounts: () => connector.decisions,
    reloadRules(changes) {
      const reloaded = routingTable({ ...config, ...changes });
      connector.setRules(reloaded);
      if (changes) Object.assign(config, { routes: changes.routes, rulesFile: changes.rulesFile });
      pacRules = pacRulesOf(reloaded);
      return reloaded.size;
    },
    async close(graceMs = 0) {
      await Promise.all([socks.close(graceMs), dns?.close(graceMs), status?.close()]);
      tunnel.stop();
      if (config.routes.length > 0 || config.rulesFile !== null) logger.info('routing decisions', { ...connector.decisions });
    },
  };
}

/** Flags first, in the order given, then the file's lines in file order; first match wins. */
function routingTable(config: ReturnType<typeof resolveClientConfig>): RoutingTable {
  const fromFile = config.rulesFile === null ? [] : loadRulesFile(config.rulesFile);
  return new RoutingTable([...config.routes, ...fromFile]);
}

/** The PAC file shows each rule as DIRECT or through the proxy (the relay, or a block the client answers itself). */
function pacRulesOf(table: RoutingTable): PacRule[] {
  return table.rules.map((rule) => ({ target: rule.target, direct: rule.route === Route.Direct }));
}
