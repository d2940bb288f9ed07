/**
 * --dns-listen: DNS over UDP and TCP on the same HOST:PORT, every query sent through the
 * tunnel to --dns-upstream on one pipelined TCP connection (upstream-pipe.ts), so the
 * relay resolves for the whole machine (with tun2socks, say; see the README).
 */
import { drain } from '../../common/drain.js';
import { formatHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import type { Address } from '../../protocol/frame.js';
import type { SessionSource } from '../tunnel.js';
import { DnsCounters } from './counters.js';
import { DnsForwarder } from './forwarder.js';
import { startTcpListener, type TcpDnsListener } from './tcp-listener.js';
import { startUdpListener, type UdpDnsListener } from './udp-listener.js';
import { UpstreamPipe } from './upstream-pipe.js';

/** With port 0, the port UDP got may be taken for TCP: try a few ports before giving up. */
const EPHEMERAL_PORT_ATTEMPTS = 10;

export interface DnsListenerConfig {
  listen: Address;
  upstream: Address;
  timeoutMs: number;
}

export interface DnsListener {
  /** Where both listeners listen (port 0 resolved). */
  address: Address;
  counters: DnsCounters;
  /** Takes no new queries, lets those in flight finish for up to `graceMs`, then fails the rest. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

export async function startDnsListener(config: DnsListenerConfig, deps: { tunnel: SessionSource; logger: Logger }): Promise<DnsListener> {
  const pipe = new UpstreamPipe({ tunnel: deps.tunnel, upstream: config.upstream, timeoutMs: config.timeoutMs, logger: deps.logger });
  const counters = new DnsCounters();
  const forwarder = new DnsForwarder(pipe, counters, deps.logger);
  const { udp, tcp } = await listenBoth(config.listen, forwarder, deps.logger);
  deps.logger.info('DNS listening', { address: formatHostPort(udp.address), upstream: formatHostPort(config.upstream) });
  let closing: Promise<void> | null = null;
  return {
    address: udp.address,
    counters,
    close(graceMs = 0) {
      closing ??= (async () => {
        forwarder.stopAccepting();
        await drain(() => pipe.inFlightCount === 0, graceMs);
        pipe.close();
        await new Promise((resolve) => setImmediate(resolve)); // the SERVFAILs for what was cut go out first
        await Promise.all([udp.close(), tcp.close()]);
        deps.logger.info('DNS listener closed', { udp: counters.queries.udp, tcp: counters.queries.tcp, answered: counters.answered, servfail: counters.servfailTotal });
      })();
      return closing;
    },
  };
}

async function listenBoth(listen: Address, forwarder: DnsForwarder, logger: Logger): Promise<{ udp: UdpDnsListener; tcp: TcpDnsListener }> {
  const attempts = listen.port === 0 ? EPHEMERAL_PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const udp = await startUdpListener(listen, forwarder, logger);
    try {
      const tcp = await startTcpListener(udp.address, forwarder); // the address UDP got: a name resolves once
      return { udp, tcp };
    } catch (err) {
      await udp.close();
      if (attempt >= attempts || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}
