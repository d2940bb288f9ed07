/**
 * DNS over TCP (RFC 7766 §6.2.3): an idle connection is closed by the listener, and one whose
 * client never answers the listener's FIN (a half-open socket) does not stay behind for good.
 * Real sockets on 127.0.0.1; no query is sent, so the forwarder's upstream is never asked.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { createLogger } from '../../common/log.js';
import { DnsCounters } from '../../client/dns/counters.js';
import { DnsForwarder } from '../../client/dns/forwarder.js';
import type { UpstreamPipe } from '../../client/dns/upstream-pipe.js';
import { startTcpListener } from '../../client/dns/tcp-listener.js';

const IDLE_MS = 150;
const WAIT_MS = 5_000;

describe('DNS over TCP, idle connections', () => {
  it('sends FIN after the idle time, and lets go of a client that never answers it', async () => {
    // No query is sent, so no upstream is needed.
    const forwarder = new DnsForwarder(null as unknown as UpstreamPipe, new DnsCounters(), createLogger('client', 'silent'));
    const listener = await startTcpListener({ host: '127.0.0.1', port: 0 }, forwarder, IDLE_MS);
    const client = connect({ host: '127.0.0.1', port: listener.address.port, allowHalfOpen: true });
    try {
      await once(client, 'connect');
      client.resume();
      await once(client, 'end', { signal: AbortSignal.timeout(WAIT_MS) }); // the listener's FIN; we never send ours
      // The listener has let go once a write draws a reset: its socket is gone.
      client.on('error', () => {}); // ECONNRESET or EPIPE: what a write to a socket the peer closed gets
      const closed = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`still open ${WAIT_MS} ms after the listener's FIN`)), WAIT_MS);
        client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      setTimeout(() => client.write('late'), 3 * IDLE_MS);
      setTimeout(() => client.write('later'), 6 * IDLE_MS);
      await closed;
    } finally {
      client.destroy();
      await listener.close();
    }
  });
});
