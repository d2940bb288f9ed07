/**
 * What a SOCKS client sees when its request cannot be served: the REP code of RFC 1928 §6
 * (or SOCKS4's CD 91), then the connection closes. Raw sockets, so every byte is checked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startClient, type Client } from '../../client/client.js';
import { createLogger, type LogLevel } from '../../common/log.js';
import { RawPeer, readSocks5Reply } from '../helpers/socks/raw-peer.js';
import {
  CMD_CONNECT,
  CMD_UDP_ASSOCIATE,
  greeting,
  METHOD_NO_AUTH,
  methodSelection,
  SOCKS4_REJECTED,
  socks4Request,
  socks5Reply,
  socks5Request,
} from '../helpers/socks/socks-encoder.js';
import { startStalledTarget, type StalledTarget } from '../helpers/targets/stalled-target.js';
import { closedPort } from '../helpers/targets/targets.js';
import { startPair, TEST_TOKEN, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';

const LOG_LEVEL = (process.env.SOCKBRIDGE_TEST_LOG_LEVEL ?? 'silent') as LogLevel;
const DIAL_TIMEOUT_MS = 300;
const UNRESOLVABLE = 'no-such-host.invalid';

const REP = {
  GeneralFailure: 0x01,
  HostUnreachable: 0x04,
  ConnectionRefused: 0x05,
  CommandNotSupported: 0x07,
  AddressTypeNotSupported: 0x08,
} as const;

/** Sends a no-auth greeting and `request`; asserts the REP, that nothing follows and that the proxy closes. */
async function expectSocks5Failure(socksPort: number, request: Buffer, rep: number, timeoutMs = 5_000): Promise<void> {
  const peer = await RawPeer.connect(socksPort);
  try {
    peer.write(greeting(METHOD_NO_AUTH));
    assert.deepEqual(await peer.read(2), methodSelection(METHOD_NO_AUTH), 'method selection');
    peer.write(request);
    const reply = await readSocks5Reply(peer, timeoutMs);
    assert.equal(hex(reply.reply), hex(rep), 'REP');
    assert.deepEqual(reply.bytes, socks5Reply(rep), 'a failure reply carries no bound address (0.0.0.0:0)');
    await peer.waitEnd();
    assert.equal(peer.peek().length, 0, 'nothing after the reply');
  } finally {
    peer.destroy();
  }
}

/** Sends a SOCKS4 request; asserts VN 0 CD 91 in an 8-byte reply and that the proxy closes. */
async function expectSocks4Rejected(socksPort: number, request: Buffer, timeoutMs = 5_000): Promise<void> {
  const peer = await RawPeer.connect(socksPort);
  try {
    peer.write(request);
    const reply = await peer.read(8, timeoutMs);
    assert.equal(reply[0], 0x00, 'VN of a SOCKS4 reply');
    assert.equal(reply[1], SOCKS4_REJECTED, 'CD');
    await peer.waitEnd();
    assert.equal(peer.peek().length, 0, 'nothing after the reply');
  } finally {
    peer.destroy();
  }
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

describe('SOCKS failure replies', () => {
  let pair: TunnelPair;
  let refusedPort: number;
  let stalled: StalledTarget | { failed: string };

  before(async () => {
    pair = await startPair({ relay: { dialTimeoutMs: DIAL_TIMEOUT_MS } });
    refusedPort = await closedPort();
    stalled = await startStalledTarget();
  });

  after(async () => {
    await pair?.close();
    if (stalled && 'close' in stalled) await stalled.close();
  });

  test('SOCKS5 connect to a closed port: 0x05 connection refused', async () => {
    await expectSocks5Failure(pair.socksPort, socks5Request(CMD_CONNECT, '127.0.0.1', refusedPort), REP.ConnectionRefused);
  });

  test('SOCKS5 connect to an unresolvable name: 0x04 host unreachable', async () => {
    await expectSocks5Failure(pair.socksPort, socks5Request(CMD_CONNECT, UNRESOLVABLE, 80), REP.HostUnreachable);
  });

  test('SOCKS5 connect that outlives the relay dial timeout: 0x04 host unreachable, after the timeout', async (t) => {
    if ('failed' in stalled) return t.skip(`cannot build a never-answering loopback target: ${stalled.failed}`);
    const started = Date.now();
    await expectSocks5Failure(pair.socksPort, socks5Request(CMD_CONNECT, '127.0.0.1', stalled.port), REP.HostUnreachable);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= DIAL_TIMEOUT_MS - 50, `answered after ${elapsed} ms, before the ${DIAL_TIMEOUT_MS} ms dial timeout`);
    assert.ok(elapsed < DIAL_TIMEOUT_MS + 3_000, `answered after ${elapsed} ms`);
  });

  for (const command of [0x00, 0x04, 0x09, 0xff]) {
    test(`SOCKS5 unknown command ${hex(command)}: 0x07 command not supported`, async () => {
      await expectSocks5Failure(pair.socksPort, socks5Request(command, '127.0.0.1', refusedPort), REP.CommandNotSupported);
    });
  }

  test('SOCKS5 unknown address type 0x05: 0x08 address type not supported', async () => {
    const request = Buffer.from([0x05, CMD_CONNECT, 0x00, 0x05, 127, 0, 0, 1, 0x00, 0x50]);
    await expectSocks5Failure(pair.socksPort, request, REP.AddressTypeNotSupported);
  });

  test('SOCKS4 connect to a closed port: CD 91', async () => {
    await expectSocks4Rejected(pair.socksPort, socks4Request(CMD_CONNECT, '127.0.0.1', refusedPort));
  });

  test('SOCKS4a connect to an unresolvable name: CD 91', async () => {
    await expectSocks4Rejected(pair.socksPort, socks4Request(CMD_CONNECT, UNRESOLVABLE, 80, 'me'));
  });

  test('SOCKS4 connect that outlives the relay dial timeout: CD 91', async (t) => {
    if ('failed' in stalled) return t.skip(`cannot build a never-answering loopback target: ${stalled.failed}`);
    await expectSocks4Rejected(pair.socksPort, socks4Request(CMD_CONNECT, '127.0.0.1', stalled.port));
  });

  test('SOCKS4 UDP ASSOCIATE (a SOCKS5-only command) and an unknown command: CD 91', async () => {
    await expectSocks4Rejected(pair.socksPort, socks4Request(CMD_UDP_ASSOCIATE, '127.0.0.1', refusedPort));
    await expectSocks4Rejected(pair.socksPort, socks4Request(0x09, '127.0.0.1', refusedPort));
  });

  test('SOCKS4 destination 0.0.0.0: CD 91', async () => {
    await expectSocks4Rejected(pair.socksPort, socks4Request(CMD_CONNECT, '0.0.0.0', 80));
  });
});

describe('SOCKS failure replies while the relay is unreachable', () => {
  const TUNNEL_WAIT_MS = 300;
  let client: Client;

  before(async () => {
    const port = await closedPort();
    client = await startClient({
      relayUrl: `ws://127.0.0.1:${port}/tunnel`,
      token: TEST_TOKEN,
      socks: { host: '127.0.0.1', port: 0 },
      tunnelWaitMs: TUNNEL_WAIT_MS,
      reconnectMinMs: 1_000,
      reconnectMaxMs: 2_000,
      logger: createLogger('client', LOG_LEVEL),
    });
  });

  after(async () => {
    await client?.close();
  });

  test('SOCKS5 connect: 0x01 general failure once the tunnel wait is over', async () => {
    const started = Date.now();
    await expectSocks5Failure(client.socksAddress.port, socks5Request(CMD_CONNECT, '127.0.0.1', 9), REP.GeneralFailure);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= TUNNEL_WAIT_MS - 50, `answered after ${elapsed} ms, before the ${TUNNEL_WAIT_MS} ms tunnel wait`);
  });

  test('SOCKS4 connect: CD 91', async () => {
    await expectSocks4Rejected(client.socksAddress.port, socks4Request(CMD_CONNECT, '127.0.0.1', 9));
  });
});
