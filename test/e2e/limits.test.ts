/**
 * Per-tunnel and per-token limits: a request over a limit is refused on its own (SOCKS
 * reply 0x01, or HTTP 429 for a tunnel), counted, and nothing else is disturbed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FRAME_HEADER_SIZE, FrameType, GoAwayCode, WS_SUBPROTOCOL } from '../../protocol/frame.js';
import { startPair, TEST_TOKEN, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { rawSocks5Connect } from '../helpers/socks/socks-dial.js';
import { socksBind } from '../helpers/socks/socks-bind.js';
import { socksAssociate } from '../helpers/io/udp-io.js';
import { readBytes } from '../helpers/io/socket-io.js';
import { REP_GENERAL_FAILURE, REP_SUCCEEDED } from '../helpers/socks/socks-replies.js';
import { waitFor } from '../helpers/io/waiting.js';

describe('per-tunnel limits', () => {
  let pair: TunnelPair;
  let echo: Target;
  before(async () => {
    echo = await startEchoTarget();
    // A refusal reaches the application as a SOCKS reply only when the reply waits for the relay (no fast open).
    pair = await startPair({ relay: { maxStreamsPerTunnel: 3, maxBindsPerTunnel: 1, maxUdpPerTunnel: 1 }, client: { fastOpen: 'never' } });
  });
  after(async () => {
    await pair.close();
    await echo.close();
  });

  it('a stream over --max-streams gets 0x01 and is counted; the open ones keep working; a freed slot serves again', async () => {
    const open = [];
    try {
      for (let i = 0; i < 3; i += 1) {
        const result = await rawSocks5Connect(pair.socksPort, echo.port);
        assert.equal(result.rep, REP_SUCCEEDED);
        open.push(result);
      }
      const refused = await rawSocks5Connect(pair.socksPort, echo.port);
      assert.equal(refused.rep, REP_GENERAL_FAILURE, 'the fourth stream is over the limit');
      await refused.ended;
      assert.equal(pair.relay.status.snapshot().totals.errors['limit-streams-per-tunnel'], 1);

      open[0].socket.write('still here');
      assert.equal((await readBytes(open[0].socket, 10)).toString(), 'still here', 'open streams are untouched');

      open.shift()!.socket.destroy();
      await waitFor(() => pair.relay.status.snapshot().totals.streams === 2, { what: 'the freed stream to close on the relay' });
      const again = await rawSocks5Connect(pair.socksPort, echo.port);
      assert.equal(again.rep, REP_SUCCEEDED, 'a freed slot serves a new stream');
      open.push(again);
    } finally {
      for (const { socket } of open) socket.destroy();
    }
  });

  it('a second BIND over --max-binds is refused while the first keeps listening', async () => {
    await waitFor(() => pair.relay.status.snapshot().totals.streams === 0, { what: 'earlier streams to close' });
    const first = await socksBind(pair.socksPort, 5, { host: '0.0.0.0', port: 0 });
    try {
      await first.bound();
      const second = await socksBind(pair.socksPort, 5, { host: '0.0.0.0', port: 0 });
      try {
        await assert.rejects(second.bound(), 'the second BIND is refused');
      } finally {
        second.close();
      }
      assert.equal(pair.relay.status.snapshot().totals.errors['limit-binds-per-tunnel'], 1);
    } finally {
      first.close();
    }
  });

  it('a second UDP ASSOCIATE over --max-udp is refused', async () => {
    await waitFor(() => pair.relay.status.snapshot().totals.streams === 0, { what: 'earlier streams to close' });
    const first = await socksAssociate(pair.socksPort, { host: '0.0.0.0', port: 0 });
    try {
      await assert.rejects(socksAssociate(pair.socksPort, { host: '0.0.0.0', port: 0 }), 'the second association is refused');
      assert.equal(pair.relay.status.snapshot().totals.errors['limit-udp-per-tunnel'], 1);
    } finally {
      first.control.destroy();
    }
  });
});

describe('tunnels per token', () => {
  it('a tunnel over --max-tunnels-per-token gets HTTP 429 and the first tunnel keeps serving', async () => {
    const echo = await startEchoTarget();
    const pair = await startPair({ relay: { maxTunnelsPerToken: 1 } });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(pair.relay.url, [WS_SUBPROTOCOL], { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => {
          ws.terminate();
          reject(new Error('a second tunnel was accepted'));
        });
        ws.on('error', () => {});
      });
      assert.equal(status, 429);
      assert.equal(pair.relay.status.snapshot().totals.errors['limit-tunnels-per-token'], 1);
      const result = await rawSocks5Connect(pair.socksPort, echo.port);
      assert.equal(result.rep, REP_SUCCEEDED, 'the existing tunnel still serves');
      result.socket.destroy();
    } finally {
      await pair.close();
      await echo.close();
    }
  });
});

describe('handshake timeout', () => {
  it('a tunnel that upgrades but never says HELLO is closed with a go-away after --handshake-timeout', async () => {
    const pair = await startPair({ relay: { handshakeTimeoutMs: 300 } });
    try {
      const started = Date.now();
      const frames: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(pair.relay.url, [WS_SUBPROTOCOL], { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
        const timer = setTimeout(() => {
          ws.terminate();
          reject(new Error('the silent tunnel was not closed'));
        }, 5_000);
        ws.on('message', (data) => frames.push(data as Buffer));
        ws.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
        ws.on('error', () => {});
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 3_000, `closed after ${elapsed} ms`);
      const goAway = frames.find((frame) => frame[0] === FrameType.GoAway);
      assert.ok(goAway, 'a GO_AWAY came before the close');
      assert.equal(goAway[FRAME_HEADER_SIZE], GoAwayCode.ProtocolError);
      assert.equal(pair.client.tunnel.connections, 1, 'the well-behaved client tunnel is untouched');
    } finally {
      await pair.close();
    }
  });
});
