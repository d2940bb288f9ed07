/**
 * The HELLO exchange at its edges, over real WebSockets: a relay that refuses with GO_AWAY
 * instead of HELLO is heard, and a relay never pings before the client's HELLO, however late.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeGoAway, encodeHello } from '../../protocol/codec.js';
import { FrameType, GoAwayCode } from '../../protocol/frame.js';
import { Session } from '../../protocol/session.js';
import { sleep } from '../helpers/workloads/bulk-data.js';
import { startSessionServer, type SessionServer } from '../helpers/tunnel/session-pair.js';
import { waitFor, withTimeout } from '../helpers/io/waiting.js';

describe('HELLO exchange edges', () => {
  let server: SessionServer;

  before(async () => {
    server = await startSessionServer();
  });

  after(async () => {
    await server.close();
  });

  it("a GO_AWAY instead of the relay's HELLO ends the client's session with the relay's code and reason", async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    try {
      await once(wss, 'listening');
      wss.on('connection', (ws) => ws.send(encodeGoAway(GoAwayCode.UnsupportedVersion, 'peer speaks versions 1-2, we speak 3-3')));
      const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
      // Made in the 'open' handler itself, so the GO_AWAY right behind the upgrade cannot arrive first.
      const client = await new Promise<Session>((resolve) =>
        ws.once('open', () => resolve(new Session(ws, { role: 'client', keepaliveIntervalMs: 15_000, keepaliveTimeoutMs: 30_000 }))),
      );
      await waitFor(() => client.isClosed, { what: 'the session to end' }); // it may end in the same tick as 'open'
      assert.deepEqual(client.closeInfo, { code: GoAwayCode.UnsupportedVersion, reason: 'peer speaks versions 1-2, we speak 3-3', byPeer: true });
      await assert.rejects(client.ready);
    } finally {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    }
  });

  it("the relay sends nothing before the client's HELLO, even one that comes a second late, then HELLO first", async () => {
    const peer = await server.connectRaw();
    await sleep(1_100); // past the keepalive's first ticks
    assert.equal(peer.frames.length, 0, "no PING (or anything else) before HELLO");
    peer.ws.send(encodeHello(1, 2));
    await waitFor(() => peer.frames.length > 0, { what: "the relay's HELLO" });
    assert.equal(peer.frames[0].type, FrameType.Hello);
    peer.ws.close();
    await withTimeout(peer.closed, { what: 'the close' });
  });
});
