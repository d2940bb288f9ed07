/**
 * Learned fast open, through a real relay and client in this process with a link between them
 * that can freeze: whatever the client answers while the link is frozen, it answered before the
 * relay's dial. A destination seen for the first time waits for the true reply; one the relay
 * dialed before is answered at once, with 64 KiB of early data behind it; one that then fails
 * is reset and forgotten, so the next request gets the true code. --fast-open never and always.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startClient, type Client } from '../../client/client.js';
import type { FastOpenMode } from '../../client/fast-open.js';
import { createLogger } from '../../common/log.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { startFreezeProxy, type FreezeProxy } from '../helpers/links/freeze-proxy.js';
import { RawPeer, readSocks5Reply, sleep, type Socks5Reply } from '../helpers/socks/raw-peer.js';
import { REP_SUCCEEDED } from '../helpers/socks/socks-replies.js';
/** RFC 1928 §6 "Connection refused". */
const REP_CONNECTION_REFUSED = 0x05;
import { CMD_CONNECT, greeting, METHOD_NO_AUTH, socks5Request } from '../helpers/socks/socks-encoder.js';
import { closedPort, startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { TEST_TOKEN } from '../helpers/tunnel/tunnel-pair.js';
import { Keystream, KiB } from '../helpers/workloads/bulk-data.js';

/** How long a reply that must not come yet is given to come anyway. */
const NO_REPLY_WAIT_MS = 300;
const EARLY_DATA = 64 * KiB;

interface FastOpenPair {
  relay: Relay;
  link: FreezeProxy;
  client: Client;
  close(): Promise<void>;
}

async function startFastOpenPair(fastOpen: FastOpenMode): Promise<FastOpenPair> {
  const relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TEST_TOKEN], rules: loopbackRules(), logger: createLogger('relay', 'silent') });
  const link = await startFreezeProxy(relay.address.port);
  const client = await startClient({
    relayUrl: `ws://127.0.0.1:${link.port}/tunnel`,
    token: TEST_TOKEN,
    socks: { host: '127.0.0.1', port: 0 },
    fastOpen,
    logger: createLogger('client', 'silent'),
  });
  assert.ok(await client.tunnel.getSession(), 'the tunnel is up');
  return {
    relay,
    link,
    client,
    async close() {
      link.thaw();
      await client.close();
      await link.close();
      await relay.close();
    },
  };
}

/** Greets and sends CONNECT 127.0.0.1:port; the reply is left to the caller. */
async function requestConnect(pair: FastOpenPair, port: number): Promise<RawPeer> {
  const peer = await RawPeer.connect(pair.client.socksAddress.port);
  peer.write(greeting(METHOD_NO_AUTH));
  await peer.read(2);
  peer.write(socks5Request(CMD_CONNECT, '127.0.0.1', port));
  return peer;
}

/** The reply, or null when none came within NO_REPLY_WAIT_MS. */
async function replyIfAny(reply: Promise<Socks5Reply>): Promise<Socks5Reply | null> {
  return Promise.race([reply, sleep(NO_REPLY_WAIT_MS).then(() => null)]);
}

/** With the link frozen, a CONNECT to `port` gets no reply; once it thaws, success: the reply waited for the dial. */
async function assertAnsweredAfterDial(pair: FastOpenPair, port: number): Promise<void> {
  pair.link.freeze();
  const peer = await requestConnect(pair, port);
  try {
    const reply = readSocks5Reply(peer);
    assert.equal(await replyIfAny(reply), null, 'no reply while the relay cannot be reached');
    pair.link.thaw();
    assert.equal((await reply).reply, REP_SUCCEEDED);
  } finally {
    pair.link.thaw();
    peer.destroy();
  }
}

/** One CONNECT through an unfrozen link, echoing a byte: the relay dials it, so the client learns it. Returns the reply. */
async function learn(pair: FastOpenPair, port: number): Promise<Socks5Reply> {
  const peer = await requestConnect(pair, port);
  try {
    const reply = await readSocks5Reply(peer);
    assert.equal(reply.reply, REP_SUCCEEDED);
    peer.write('x');
    assert.equal((await peer.read(1)).toString(), 'x');
    return reply;
  } finally {
    peer.destroy();
  }
}

describe('--fast-open auto (the default)', () => {
  let pair: FastOpenPair;
  let echo: Target;
  before(async () => {
    echo = await startEchoTarget();
    pair = await startFastOpenPair('auto');
  });
  after(async () => {
    await pair.close();
    await echo.close();
  });

  it('a destination seen for the first time is answered only after the relay has dialed', async () => {
    await assertAnsweredAfterDial(pair, echo.port);
  });

  it('a destination the relay dialed before is answered at once, and 64 KiB sent behind the reply arrive intact', async () => {
    const fresh = await startEchoTarget(); // never seen, so learn()'s reply is the true one, after the dial
    const learned = await learn(pair, fresh.port);
    pair.link.freeze();
    const peer = await requestConnect(pair, fresh.port);
    try {
      const reply = await replyIfAny(readSocks5Reply(peer));
      assert.equal(reply?.reply, REP_SUCCEEDED, 'answered with the link frozen: before the dial');
      assert.deepEqual({ host: reply.host, port: reply.port }, { host: learned.host, port: learned.port }, 'BND: the last bound address seen');
      const data = new Keystream('fast open').next(EARLY_DATA);
      peer.write(data); // rides behind the OPEN, before the relay has dialed
      pair.link.thaw();
      assert.ok((await peer.read(EARLY_DATA)).equals(data), 'the early bytes came back through the echo');
    } finally {
      pair.link.thaw();
      peer.destroy();
      await fresh.close();
    }
  });

  it('a remembered destination that fails is reset and forgotten: the next request gets the true reply', async () => {
    const target = await startEchoTarget();
    const port = target.port;
    await learn(pair, port);
    await target.close(); // now the port refuses
    const fast = await requestConnect(pair, port);
    try {
      assert.equal((await readSocks5Reply(fast)).reply, REP_SUCCEEDED, 'still remembered: answered at once');
      await fast.waitEnd();
    } finally {
      fast.destroy();
    }
    const again = await requestConnect(pair, port);
    try {
      assert.equal((await readSocks5Reply(again)).reply, REP_CONNECTION_REFUSED, 'forgotten: the true reply');
    } finally {
      again.destroy();
    }
  });
});

describe('--fast-open never and always', () => {
  let echo: Target;
  before(async () => {
    echo = await startEchoTarget();
  });
  after(async () => {
    await echo.close();
  });

  it('never: even a destination dialed before waits for the dial', async () => {
    const pair = await startFastOpenPair('never');
    try {
      await learn(pair, echo.port);
      await assertAnsweredAfterDial(pair, echo.port);
    } finally {
      await pair.close();
    }
  });

  it('always: a destination never seen is answered at once, then reset when the dial fails', async () => {
    const pair = await startFastOpenPair('always');
    try {
      const peer = await requestConnect(pair, await closedPort());
      try {
        assert.equal((await readSocks5Reply(peer)).reply, REP_SUCCEEDED, 'answered before the dial');
        await peer.waitEnd();
      } finally {
        peer.destroy();
      }
    } finally {
      await pair.close();
    }
  });
});
