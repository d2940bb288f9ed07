/**
 * Limits on open streams: --idle-timeout resets a stream with no data either way, and
 * --max-pending-bytes resets the stream holding the most bytes the relay could not yet
 * hand to its target. Each is logged and counted; the tunnel and other streams carry on.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { startEchoTarget, startTarget, type Target } from '../helpers/targets/targets.js';
import { socksConnect } from '../helpers/socks/socks-dial.js';
import { readBytes, waitClose } from '../helpers/io/socket-io.js';
import { idleSweepIntervalMs } from '../../server/tunnel/idle-sweep.js';
import { ConfigError, RELAY_DEFAULTS, resolveRelayConfig } from '../../server/config.js';
import { RELAY_HELP } from '../../cli/relay-command.js';
import { waitFor } from '../helpers/io/waiting.js';

const MIB = 1024 * 1024;

function errors(pair: TunnelPair): Record<string, number> {
  return pair.relay.status.snapshot().totals.errors;
}

function watchClose(socket: Socket): { closed: boolean } {
  const state = { closed: socket.destroyed };
  socket.on('error', () => {});
  socket.once('close', () => {
    state.closed = true;
  });
  return state;
}

describe('idle and pending settings', () => {
  it('default to 1 h and 64 MiB, are in --help, and a bad value names its flag', () => {
    assert.equal(RELAY_DEFAULTS.idleTimeoutMs, 3_600_000);
    assert.equal(RELAY_DEFAULTS.maxPendingBytes, 64 * MIB);
    assert.match(RELAY_HELP, /--idle-timeout SECONDS/);
    assert.match(RELAY_HELP, /--max-pending-bytes N/);
    assert.throws(() => resolveRelayConfig({ tokens: ['t'], idleTimeoutMs: 0 }), (err: Error) => err instanceof ConfigError && err.setting === '--idle-timeout');
    assert.throws(() => resolveRelayConfig({ tokens: ['t'], maxPendingBytes: -1 }), (err: Error) => err instanceof ConfigError && err.setting === '--max-pending-bytes');
    assert.throws(() => resolveRelayConfig({ tokens: ['t'], maxPendingBytes: 1.5 }), (err: Error) => err instanceof ConfigError && err.setting === '--max-pending-bytes');
  });
});

describe('idle sweep interval', () => {
  it('is half the timeout, at most 1 s', () => {
    assert.equal(idleSweepIntervalMs(500), 250);
    assert.equal(idleSweepIntervalMs(3_600_000), 1_000);
    assert.equal(idleSweepIntervalMs(1), 1);
  });
});

describe('--idle-timeout', () => {
  let pair: TunnelPair;
  let echo: Target;
  before(async () => {
    echo = await startEchoTarget();
    pair = await startPair({ relay: { idleTimeoutMs: 500 } });
  });
  after(async () => {
    await pair.close();
    await echo.close();
  });

  it('resets an idle stream and counts it, while a stream echoing every 100 ms survives', async () => {
    const started = Date.now(); // before the stream opens: a loaded machine may take long over the second connect
    const idle = await socksConnect(pair.socksPort, echo.port);
    const active = await socksConnect(pair.socksPort, echo.port);
    const idleState = watchClose(idle);
    const activeState = watchClose(active);
    let rounds = 0;
    let stop = false;
    const pinger = (async () => {
      while (!stop) {
        active.write('ping');
        assert.equal((await readBytes(active, 4)).toString(), 'ping');
        rounds += 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    try {
      await waitClose(idle, 2_000);
      const closedAfter = Date.now() - started;
      assert.ok(closedAfter >= 400, `closed after ${closedAfter} ms: not before the timeout`);
      assert.equal(idleState.closed, true);
      assert.equal(errors(pair)['idle-timeout'], 1);

      // Well past the timeout again: the active stream is still served.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      assert.equal(activeState.closed, false, 'the active stream survives');
      assert.ok(rounds >= 10, `only ${rounds} echo rounds`);
      assert.equal(errors(pair)['idle-timeout'], 1, 'only the idle stream was counted');
    } finally {
      stop = true;
      await pinger.catch(() => {});
      active.destroy();
      idle.destroy();
    }
  });
});

describe('--max-pending-bytes', () => {
  // One stream can hold at most its receive window (1 MiB, kept from growing) pending, so only two stalled
  // streams together exceed this, and one stalled stream plus the echo stream's few bytes never do.
  const LIMIT = 1.5 * MIB;
  let pair: TunnelPair;
  let echo: Target;
  let stalled: Target;
  before(async () => {
    echo = await startEchoTarget();
    // Accepts and never reads: the relay's writes pile up in its socket buffers.
    stalled = await startTarget((socket) => socket.pause());
    pair = await startPair({ relay: { maxPendingBytes: LIMIT, maxStreamWindow: MIB } });
  });
  after(async () => {
    await pair.close();
    await stalled.close();
    await echo.close();
  });

  it('resets the stream holding the most pending bytes; the other streams and the tunnel carry on', async () => {
    const session = [...pair.relay.sessions][0];
    const uploads = [await socksConnect(pair.socksPort, stalled.port), await socksConnect(pair.socksPort, stalled.port)];
    const states = uploads.map(watchClose);
    const payload = Buffer.alloc(32 * MIB, 0x61);
    const third = await socksConnect(pair.socksPort, echo.port);
    const thirdState = watchClose(third);
    try {
      for (const socket of uploads) socket.write(payload);
      await waitFor(() => (errors(pair)['limit-pending-bytes-per-tunnel'] ?? 0) >= 1, { what: 'a stream to be reset over the pending limit', timeoutMs: 20_000 });
      await waitFor(() => states.some((state) => state.closed), { what: 'the reset stream to close at the SOCKS client' });
      assert.ok(session.pendingBytes <= LIMIT, `tunnel holds ${session.pendingBytes} pending bytes`);

      third.write('still here');
      assert.equal((await readBytes(third, 10)).toString(), 'still here', 'a stream to an echo target keeps working');
      assert.equal(thirdState.closed, false);
      assert.equal(states.filter((state) => state.closed).length, 1, 'only one stalled stream was reset');
      assert.equal(errors(pair)['limit-pending-bytes-per-tunnel'], 1);
      assert.equal(pair.relay.sessions.size, 1, 'the tunnel is still up');
    } finally {
      for (const socket of [...uploads, third]) socket.destroy();
      // The surviving upload still waits for its target to read (its FIN queues behind the data): end it there.
      for (const socket of stalled.sockets) socket.destroy();
    }
    // Closed streams take their pending bytes with them: the running total returns to zero.
    await waitFor(() => session.streams.size === 0, { what: 'the streams to close on the relay' });
    assert.equal(session.pendingBytes, 0);
  });
});
