/**
 * What an application sees when the relay goes away and comes back, and when the link
 * between client and relay silently dies: open streams are closed, the SOCKS listener stays,
 * the tunnel comes back by itself, requests wait up to tunnelWaitMs for it and then fail
 * with REP 0x01; keepalive notices a frozen link on both sides.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { createLogger, type LogLevel } from '../../common/log.js';
import { startClient, type Client } from '../../client/client.js';
import type { ClientConfig } from '../../client/config.js';
import { GoAwayCode } from '../../protocol/frame.js';
import type { RelayConfig } from '../../server/config.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { TEST_TOKEN } from '../helpers/tunnel/tunnel-pair.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { readBytes, waitClose } from '../helpers/io/socket-io.js';
import { rawSocks5Connect, socksConnect } from '../helpers/socks/socks-dial.js';
import { startFreezeProxy, type FreezeProxy } from '../helpers/links/freeze-proxy.js';
import { startLatencyProxy } from '../helpers/links/latency-proxy.js';
import { sleep } from '../helpers/workloads/bulk-data.js';

import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { REP_GENERAL_FAILURE } from '../helpers/socks/socks-replies.js';
import { waitFor, withTimeout } from '../helpers/io/waiting.js';

const LOG_LEVEL = (process.env.SOCKBRIDGE_TEST_LOG_LEVEL ?? 'silent') as LogLevel;
const TUNNEL_WAIT_MS = 1_500;
const FAST_RECONNECT: Partial<ClientConfig> = { reconnectMinMs: 50, reconnectMaxMs: 200, tunnelWaitMs: TUNNEL_WAIT_MS };
const FAST_KEEPALIVE = { keepaliveIntervalMs: 100, keepaliveTimeoutMs: 500 };

function startTestRelay(port: number, extra: Partial<RelayConfig> = {}): Promise<Relay> {
  return startRelay({ listen: { host: '127.0.0.1', port }, tokens: [TEST_TOKEN], rules: loopbackRules(), logger: createLogger('relay', LOG_LEVEL), ...extra });
}

function startTestClient(relayUrl: string, extra: Partial<ClientConfig> = {}): Promise<Client> {
  return startClient({
    relayUrl,
    token: TEST_TOKEN,
    socks: { host: '127.0.0.1', port: 0 },
    logger: createLogger('client', LOG_LEVEL),
    ...FAST_RECONNECT,
    ...extra,
  });
}

/** Sends `text` through an echo stream and checks it comes back. */
async function roundTrip(app: Socket, text: string): Promise<void> {
  app.write(text);
  assert.equal((await readBytes(app, text.length)).toString(), text);
}

/** Collects everything started by a test so `finally` closes it in reverse order (closing twice is harmless). */
class Resources {
  private readonly closers: (() => Promise<void> | void)[] = [];

  add<T extends { close(): Promise<void> }>(thing: T): T {
    this.closers.push(() => thing.close());
    return thing;
  }

  socket(socket: Socket): Socket {
    this.closers.push(() => void socket.destroy());
    return socket;
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
  }
}

describe('relay restarts', () => {
  it('open streams close, the SOCKS listener stays, the tunnel comes back on its own and serves new requests', { timeout: 30_000 }, async () => {
    const res = new Resources();
    try {
      const echo: Target = res.add(await startEchoTarget());
      const first = res.add(await startTestRelay(0));
      const port = first.address.port;
      const client = res.add(await startTestClient(first.url));
      assert.ok(await client.tunnel.getSession());
      assert.equal(client.tunnel.connections, 1);

      const before = res.socket(await socksConnect(client.socksAddress.port, echo.port));
      await roundTrip(before, 'before the restart');
      let beforeError: string | undefined;
      before.on('error', (err: NodeJS.ErrnoException) => (beforeError = err.code));

      await first.close();
      await waitClose(before, 5_000);
      assert.equal(beforeError, 'ECONNRESET', 'the stream that was open is reset, as a dropped connection would be');
      await waitFor(() => client.tunnel.current === null, { what: 'the client to notice', timeoutMs: 5_000 });

      // A request made while the relay is down waits for it, and succeeds once it is back.
      const requestedAt = Date.now();
      const waiting = socksConnect(client.socksAddress.port, echo.port);
      await sleep(300);
      const second = res.add(await startTestRelay(port));
      const during = res.socket(await waiting);
      const waited = Date.now() - requestedAt;
      assert.ok(waited < TUNNEL_WAIT_MS, `the request waited ${waited} ms, within tunnelWaitMs`);
      await roundTrip(during, 'made while the relay was down');
      assert.equal(client.tunnel.connections, 2, 'the client reconnected once');
      assert.equal(second.sessions.size, 1);

      const after = res.socket(await socksConnect(client.socksAddress.port, echo.port));
      await roundTrip(after, 'after the restart');
      assert.equal(client.tunnel.connections, 2);
    } finally {
      await res.closeAll();
    }
  });

  it('while the relay stays down a request fails with REP 0x01 after tunnelWaitMs; the tunnel returns when the relay does', { timeout: 30_000 }, async (t) => {
    const res = new Resources();
    try {
      const echo: Target = res.add(await startEchoTarget());
      const first = res.add(await startTestRelay(0));
      const port = first.address.port;
      const client = res.add(await startTestClient(first.url));
      assert.ok(await client.tunnel.getSession());
      await first.close();
      await waitFor(() => client.tunnel.current === null, { what: 'the client to notice', timeoutMs: 5_000 });

      const started = Date.now();
      const { rep, socket, ended } = await rawSocks5Connect(client.socksAddress.port, echo.port, TUNNEL_WAIT_MS + 5_000);
      const elapsed = Date.now() - started;
      res.socket(socket);
      t.diagnostic(`REP 0x${rep.toString(16).padStart(2, '0')} after ${elapsed} ms (tunnelWaitMs ${TUNNEL_WAIT_MS})`);
      assert.equal(rep, REP_GENERAL_FAILURE);
      assert.ok(elapsed >= TUNNEL_WAIT_MS - 100, `failed after ${elapsed} ms, before tunnelWaitMs`);
      assert.ok(elapsed < TUNNEL_WAIT_MS + 2_000, `failed only after ${elapsed} ms`);
      await withTimeout(ended, { what: 'the proxy to close the refused connection' });

      // Down for a while (the backoff is capped at reconnectMaxMs), then back.
      const second = res.add(await startTestRelay(port));
      await waitFor(() => client.tunnel.connections === 2, { what: 'the reconnect', timeoutMs: 5_000 });
      assert.equal(second.sessions.size, 1);
      const app = res.socket(await socksConnect(client.socksAddress.port, echo.port));
      await roundTrip(app, 'back again');
    } finally {
      await res.closeAll();
    }
  });
});

describe('keepalive over a link that freezes', () => {
  it('both sides declare a frozen link dead within about a second; after it thaws the client reconnects', { timeout: 30_000 }, async (t) => {
    const res = new Resources();
    try {
      const echo: Target = res.add(await startEchoTarget());
      const relay = res.add(await startTestRelay(0, FAST_KEEPALIVE));
      const proxy: FreezeProxy = res.add(await startFreezeProxy(relay.address.port));
      const client = res.add(await startTestClient(`ws://127.0.0.1:${proxy.port}/tunnel`, FAST_KEEPALIVE));
      const clientSession = await client.tunnel.getSession();
      assert.ok(clientSession);
      assert.equal(relay.sessions.size, 1);
      const relaySession = [...relay.sessions][0];

      const app = res.socket(await socksConnect(client.socksAddress.port, echo.port));
      await roundTrip(app, 'through the proxy');
      // Quiet but healthy: pings keep both sides alive well past the timeout.
      await sleep(1_000);
      assert.equal(clientSession.isClosed, false, 'pings keep an idle tunnel alive');
      assert.equal(relaySession.isClosed, false);
      app.on('error', () => {});

      let clientNoticed = Infinity;
      let relayNoticed = Infinity;
      const frozenAt = Date.now();
      clientSession.once('close', () => (clientNoticed = Date.now() - frozenAt));
      relaySession.once('close', () => (relayNoticed = Date.now() - frozenAt));
      proxy.freeze();
      await waitFor(() => client.tunnel.current === null, { what: 'the client to declare the tunnel dead', timeoutMs: 5_000 });
      await waitFor(() => relay.sessions.size === 0, { what: 'the relay to drop the session', timeoutMs: 5_000 });
      t.diagnostic(`frozen link declared dead by the client after ${clientNoticed} ms, by the relay after ${relayNoticed} ms`);
      assert.ok(clientNoticed < 1_500, `the client took ${clientNoticed} ms`);
      assert.ok(relayNoticed < 1_500, `the relay took ${relayNoticed} ms`);
      assert.equal(clientSession.closeInfo?.code, GoAwayCode.KeepaliveTimeout);
      assert.equal(relaySession.closeInfo?.code, GoAwayCode.KeepaliveTimeout);
      await waitClose(app, 5_000);

      proxy.thaw();
      await waitFor(() => client.tunnel.connections === 2 && client.tunnel.current !== null, { what: 'the client to reconnect', timeoutMs: 5_000 });
      assert.equal(relay.sessions.size, 1);
      const again = res.socket(await socksConnect(client.socksAddress.port, echo.port));
      await roundTrip(again, 'after the thaw');
    } finally {
      await res.closeAll();
    }
  });
});

describe('go-away over a slow link', () => {
  it('a tunnel the relay ends is replaced by exactly one new tunnel, and client.close() leaves none behind', { timeout: 30_000 }, async () => {
    const res = new Resources();
    try {
      const relay = res.add(await startTestRelay(0));
      // 100 ms each way: a 200 ms round trip, an ordinary intercontinental link.
      const link = res.add(await startLatencyProxy(relay.address.port, 100));
      const client = res.add(await startTestClient(`ws://127.0.0.1:${link.port}/tunnel`));
      assert.ok(await client.tunnel.getSession());
      assert.equal(relay.sessions.size, 1);

      [...relay.sessions][0].close(GoAwayCode.ShuttingDown, 'relay sends the tunnel away');
      await waitFor(() => client.tunnel.connections >= 2, { what: 'the reconnect', timeoutMs: 5_000 });
      await sleep(1_500); // every reconnect attempt that is going to happen has happened by now
      assert.equal(client.tunnel.connections, 2, 'the client reconnected exactly once');
      assert.equal(relay.sessions.size, 1, 'the relay holds exactly one tunnel from this client');

      await client.close();
      await waitFor(() => relay.sessions.size === 0, { what: 'every tunnel to close with the client', timeoutMs: 5_000 });
    } finally {
      await res.closeAll();
    }
  });
});
