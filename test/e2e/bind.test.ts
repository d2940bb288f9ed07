/**
 * BIND (SOCKS4 note, RFC 1928 §4) through a real client and relay, as active FTP uses it:
 * the SOCKS client asks the relay to listen, an "application server" (a plain TCP client
 * here) connects to the announced address, and the two talk through the tunnel. The
 * `socks` package is the SOCKS client; raw bytes where the exact reply matters.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RawPeer } from '../helpers/socks/raw-peer.js';
import { CMD_BIND, SOCKS4_GRANTED, SOCKS4_REJECTED, socks4Request } from '../helpers/socks/socks-encoder.js';
import { BIND_TEARDOWN_PROBE, type BindTeardownReport } from '../helpers/processes/bind-teardown-probe.js';
import { SocketReader } from '../helpers/io/socket-reader.js';
import { connectFrom, findFreePortRange, waitCanListen } from '../helpers/io/tcp-ports.js';
import { socksBind, type BindAttempt } from '../helpers/socks/socks-bind.js';

import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { waitFor } from '../helpers/io/waiting.js';

const LOOPBACK = '127.0.0.1';
/** A second loopback address: all of 127.0.0.0/8 is local on Linux. */
const LOOPBACK_ALIAS = '127.0.0.2';
/** An FTP server's data port, as an active-FTP client would name it; the relay checks only the host. */
const FTP_DATA_PORT = 20;
const WAIT_MS = 5_000;
const BIND_TIMEOUT_MS = 300;
const PUBLIC_ADDRESS = '203.0.113.7';
const SOCKS4_REPLY_LENGTH = 8;
/** Connections raced against the relay's handling of a BIND named by host name. */
const RACE_ROUNDS = 20;

/** Writes `text` on `from` and checks that `to` reads exactly it. */
async function pass(from: Socket, to: SocketReader, text: string): Promise<void> {
  from.write(text);
  assert.equal((await to.read(Buffer.byteLength(text))).toString(), text);
}

/** Streams open on the relay, over all its sessions. */
function relayStreams(pair: TunnelPair): number {
  let count = 0;
  for (const session of pair.relay.sessions) count += session.streams.size;
  return count;
}

/** Streams open on the client's current session. */
function clientStreams(pair: TunnelPair): number {
  return pair.client.tunnel.current?.streams.size ?? 0;
}

/**
 * Every test's BINDs and application sockets, closed in `finally`. It then waits until
 * neither side holds a stream, so the next test starts clean and no BIND is still waiting
 * when a pair closes (see the last test for why that matters).
 */
class Cleanup {
  private readonly items: Array<{ destroy(): void }> = [];
  constructor(private readonly pair: TunnelPair) {}
  add<T extends { destroy(): void }>(item: T): T {
    this.items.push(item);
    return item;
  }
  bind(attempt: BindAttempt): BindAttempt {
    this.items.push({ destroy: () => attempt.close() });
    return attempt;
  }
  async run(): Promise<void> {
    for (const item of this.items.splice(0)) item.destroy();
    await waitFor(() => relayStreams(this.pair) === 0 && clientStreams(this.pair) === 0, { what: 'both sides to drop their streams', timeoutMs: WAIT_MS });
  }
}

describe('BIND through the tunnel', () => {
  let pair: TunnelPair;

  before(async () => {
    pair = await startPair();
  });
  after(async () => {
    await pair?.close();
  });

  test('SOCKS4 BIND: the app server connects, the second reply names it, data flows both ways, the app server half-closes first', async () => {
    const cleanup = new Cleanup(pair);
    try {
      const bind = cleanup.bind(await socksBind(pair.socksPort, 4, { host: LOOPBACK, port: FTP_DATA_PORT }));
      const announced = await bind.bound();
      assert.equal(announced.host, LOOPBACK, 'the relay listens on its address toward the named host');
      assert.ok(announced.port > 0);

      const app = cleanup.add(await connectFrom(announced.host, announced.port, LOOPBACK));
      const second = await bind.established();
      assert.deepEqual(second, { host: app.localAddress, port: app.localPort }, 'second reply: the app server address and port');

      const client = new SocketReader(bind.socket);
      const server = new SocketReader(app);
      await pass(bind.socket, server, 'PORT data from the client');
      await pass(app, client, 'listing from the server');

      app.end();
      await client.waitEnd();
      assert.equal(client.isClosed, false, 'the client side stays open for writing');
      await pass(bind.socket, server, 'still talking after your FIN');
      bind.socket.end();
      await server.waitEnd();
      await Promise.all([client.waitClosed(), server.waitClosed()]);
      await waitFor(() => relayStreams(pair) === 0, { what: 'the relay to drop the stream', timeoutMs: WAIT_MS });
    } finally {
      await cleanup.run();
    }
  });

  test('SOCKS5 BIND: second reply names the app server, data both ways, the client half-closes first, one connection per BIND', async () => {
    const cleanup = new Cleanup(pair);
    try {
      const bind = cleanup.bind(await socksBind(pair.socksPort, 5, { host: LOOPBACK, port: FTP_DATA_PORT }));
      const announced = await bind.bound();
      assert.equal(announced.host, LOOPBACK);

      const app = cleanup.add(await connectFrom(announced.host, announced.port, LOOPBACK));
      const second = await bind.established();
      assert.deepEqual(second, { host: app.localAddress, port: app.localPort });

      await assert.rejects(connectFrom(announced.host, announced.port, LOOPBACK), { code: 'ECONNREFUSED' }, 'a second app server is refused');

      const client = new SocketReader(bind.socket);
      const server = new SocketReader(app);
      await pass(app, client, '220 data connection open');
      await pass(bind.socket, server, 'upload');

      bind.socket.end();
      await server.waitEnd();
      assert.equal(server.isClosed, false, 'the app server side stays open for writing');
      await pass(app, client, '226 transfer complete');
      app.end();
      await client.waitEnd();
      await Promise.all([client.waitClosed(), server.waitClosed()]);
      await waitFor(() => relayStreams(pair) === 0, { what: 'the relay to drop the stream', timeoutMs: WAIT_MS });
    } finally {
      await cleanup.run();
    }
  });

  test(`SOCKS4 BIND naming ${LOOPBACK_ALIAS}: a connection from ${LOOPBACK} is rejected and both connections close`, async () => {
    const cleanup = new Cleanup(pair);
    try {
      const bind = cleanup.bind(await socksBind(pair.socksPort, 4, { host: LOOPBACK_ALIAS, port: FTP_DATA_PORT }));
      const announced = await bind.bound();
      const app = cleanup.add(await connectFrom(announced.host, announced.port, LOOPBACK));
      const server = new SocketReader(app);
      await assert.rejects(bind.established(), /rejected incoming bound connection/);
      await server.waitEnd(); // the relay closed it: FIN (this socket allows half-open, so it does not close by itself)
      assert.equal(server.unread, 0, 'the unexpected peer got no bytes');
      await new SocketReader(bind.socket).waitClosed();
      await waitFor(() => relayStreams(pair) === 0, { what: 'the relay to drop the stream', timeoutMs: WAIT_MS });
    } finally {
      await cleanup.run();
    }
  });

  test(`SOCKS4 BIND naming ${LOOPBACK_ALIAS}: a connection from ${LOOPBACK_ALIAS} is accepted`, async () => {
    const cleanup = new Cleanup(pair);
    try {
      const bind = cleanup.bind(await socksBind(pair.socksPort, 4, { host: LOOPBACK_ALIAS, port: FTP_DATA_PORT }));
      const announced = await bind.bound();
      const app = cleanup.add(await connectFrom(announced.host, announced.port, LOOPBACK_ALIAS));
      assert.deepEqual(await bind.established(), { host: LOOPBACK_ALIAS, port: app.localPort });
      app.write('ok');
      assert.equal((await new SocketReader(bind.socket).read(2)).toString(), 'ok');
    } finally {
      await cleanup.run();
    }
  });

  test(`SOCKS5 BIND naming ${LOOPBACK_ALIAS}: a connection from ${LOOPBACK} is rejected with REP 0x02 (not allowed)`, async () => {
    const cleanup = new Cleanup(pair);
    try {
      const bind = cleanup.bind(await socksBind(pair.socksPort, 5, { host: LOOPBACK_ALIAS, port: FTP_DATA_PORT }));
      const announced = await bind.bound();
      const app = cleanup.add(await connectFrom(announced.host, announced.port, LOOPBACK));
      await assert.rejects(bind.established(), /rejected incoming bound connection - NotAllowed/);
      await new SocketReader(app).waitEnd();
      await waitFor(() => relayStreams(pair) === 0, { what: 'the relay to drop the stream', timeoutMs: WAIT_MS });
    } finally {
      await cleanup.run();
    }
  });

  test('SOCKS5 BIND naming 0.0.0.0 accepts a peer from any address', async () => {
    const cleanup = new Cleanup(pair);
    try {
      const bind = cleanup.bind(await socksBind(pair.socksPort, 5, { host: '0.0.0.0', port: 0 }));
      const announced = await bind.bound();
      assert.equal(announced.host, LOOPBACK, 'unspecified peer: the relay announces its own tunnel address');
      const app = cleanup.add(await connectFrom(announced.host, announced.port, LOOPBACK_ALIAS));
      assert.deepEqual(await bind.established(), { host: LOOPBACK_ALIAS, port: app.localPort });
      bind.socket.write('hi');
      assert.equal((await new SocketReader(app).read(2)).toString(), 'hi');
    } finally {
      await cleanup.run();
    }
  });

  test("SOCKS5 BIND naming 'localhost': an app server that connects and closes at once → second reply, then end of stream", async (t) => {
    const addresses = (await lookup('localhost', { all: true })).map((entry) => entry.address);
    if (!addresses.includes(LOOPBACK)) return t.skip(`'localhost' resolves to ${addresses.join(', ')}, not ${LOOPBACK}`);
    const cleanup = new Cleanup(pair);
    try {
      for (let i = 0; i < RACE_ROUNDS; i++) {
        const bind = cleanup.bind(await socksBind(pair.socksPort, 5, { host: 'localhost', port: FTP_DATA_PORT }));
        const announced = await bind.bound();
        const app = cleanup.add(await connectFrom(announced.host, announced.port, LOOPBACK));
        app.end(); // an empty file in active FTP: connect, send nothing, close
        assert.deepEqual(await bind.established(), { host: LOOPBACK, port: app.localPort }, `round ${i}`);
        await new SocketReader(bind.socket).waitEnd();
        bind.close();
      }
    } finally {
      await cleanup.run();
    }
  });

  test("SOCKS5 BIND naming 'localhost': app servers from elsewhere that reset at once are refused, and the relay stays up", async () => {
    const cleanup = new Cleanup(pair);
    try {
      for (let i = 0; i < RACE_ROUNDS; i++) {
        const bind = cleanup.bind(await socksBind(pair.socksPort, 5, { host: 'localhost', port: FTP_DATA_PORT }));
        const announced = await bind.bound();
        const app = cleanup.add(await connectFrom(announced.host, announced.port, LOOPBACK_ALIAS));
        app.on('error', () => {});
        app.resetAndDestroy();
        await assert.rejects(bind.established(), /rejected incoming bound connection - NotAllowed/, `round ${i}`);
        bind.close();
      }
      const bind = cleanup.bind(await socksBind(pair.socksPort, 5, { host: LOOPBACK, port: FTP_DATA_PORT }));
      assert.ok((await bind.bound()).port > 0, 'the relay still serves BIND');
    } finally {
      await cleanup.run();
    }
  });

  test('bytes the client sends before the app server connects reach it after the second reply', async () => {
    const cleanup = new Cleanup(pair);
    try {
      const bind = cleanup.bind(await socksBind(pair.socksPort, 5, { host: LOOPBACK, port: FTP_DATA_PORT }));
      const announced = await bind.bound();
      bind.socket.write('sent while waiting');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const app = cleanup.add(await connectFrom(announced.host, announced.port, LOOPBACK));
      await bind.established();
      assert.equal((await new SocketReader(app).read(18)).toString(), 'sent while waiting');
    } finally {
      await cleanup.run();
    }
  });

  test('a BIND abandoned after the first reply: the announced port stops accepting', async () => {
    const cleanup = new Cleanup(pair);
    try {
      const bind = cleanup.bind(await socksBind(pair.socksPort, 5, { host: LOOPBACK, port: FTP_DATA_PORT }));
      const announced = await bind.bound();
      assert.equal(relayStreams(pair), 1);
      bind.socket.destroy();
      await waitFor(() => relayStreams(pair) === 0, { what: 'the relay to drop the abandoned BIND', timeoutMs: WAIT_MS });
      await assert.rejects(connectFrom(announced.host, announced.port, LOOPBACK), { code: 'ECONNREFUSED' });
    } finally {
      await cleanup.run();
    }
  });
});

describe(`BIND with a ${BIND_TIMEOUT_MS} ms accept timeout`, () => {
  let pair: TunnelPair;

  before(async () => {
    pair = await startPair({ relay: { bindTimeoutMs: BIND_TIMEOUT_MS } });
  });
  after(async () => {
    await pair?.close();
  });

  test('SOCKS5: nobody connects → failure reply, the connection closes, the port is released', async () => {
    const cleanup = new Cleanup(pair);
    try {
      const bind = cleanup.bind(await socksBind(pair.socksPort, 5, { host: LOOPBACK, port: FTP_DATA_PORT }));
      const announced = await bind.bound();
      const boundAt = Date.now();
      const control = new SocketReader(bind.socket);
      await assert.rejects(bind.established(), /rejected incoming bound connection - Failure/);
      assert.ok(Date.now() - boundAt >= BIND_TIMEOUT_MS - 50, 'not before the timeout');
      await control.waitClosed();
      await waitCanListen(announced.host, announced.port);
      await waitFor(() => relayStreams(pair) === 0, { what: 'the relay to drop the stream', timeoutMs: WAIT_MS });
    } finally {
      await cleanup.run();
    }
  });

  test('SOCKS4, raw bytes: granted, then after the timeout CD 91 and end of stream', async () => {
    const peer = await RawPeer.connect(pair.socksPort);
    try {
      peer.write(socks4Request(CMD_BIND, LOOPBACK, FTP_DATA_PORT));
      const first = await peer.read(SOCKS4_REPLY_LENGTH);
      assert.equal(first[0], 0x00, 'VN');
      assert.equal(first[1], SOCKS4_GRANTED);
      const port = first.readUInt16BE(2);
      assert.equal(first.subarray(4).join('.'), LOOPBACK);
      const second = await peer.read(SOCKS4_REPLY_LENGTH);
      assert.deepEqual([...second.subarray(0, 2)], [0x00, SOCKS4_REJECTED]);
      await peer.waitEnd();
      assert.equal(peer.peek().length, 0, 'nothing after the rejection');
      await waitCanListen(LOOPBACK, port);
    } finally {
      peer.destroy();
    }
  });
});

describe('BIND ports and the announced address', () => {
  test('bindPorts restricts the listener to the range; a full range fails the BIND; a freed port is reused', async () => {
    const range = await findFreePortRange(3);
    const pair = await startPair({ relay: { bindPorts: range } });
    const cleanup = new Cleanup(pair);
    try {
      const binds = await Promise.all([0, 1, 2].map(() => socksBind(pair.socksPort, 5, { host: LOOPBACK, port: FTP_DATA_PORT })));
      binds.forEach((bind) => cleanup.bind(bind));
      const ports = (await Promise.all(binds.map((bind) => bind.bound()))).map((announced) => announced.port);
      for (const port of ports) assert.ok(port >= range.low && port <= range.high, `port ${port} in ${range.low}-${range.high}`);
      assert.equal(new Set(ports).size, 3, 'each BIND has its own port');

      const overflow = cleanup.bind(await socksBind(pair.socksPort, 5, { host: LOOPBACK, port: FTP_DATA_PORT }));
      await assert.rejects(overflow.bound(), /Socks5 proxy rejected connection - Failure/);

      binds[1].close();
      await waitFor(() => relayStreams(pair) === 3 - 1, { what: 'the relay to drop the closed BIND', timeoutMs: WAIT_MS });
      const again = cleanup.bind(await socksBind(pair.socksPort, 5, { host: LOOPBACK, port: FTP_DATA_PORT }));
      assert.equal((await again.bound()).port, ports[1], 'the only free port in the range');
    } finally {
      try {
        await cleanup.run();
      } finally {
        await pair.close();
      }
    }
  });

  test(`publicAddress ${PUBLIC_ADDRESS} is what the first reply announces (SOCKS5 and SOCKS4)`, async () => {
    const pair = await startPair({ relay: { publicAddress: PUBLIC_ADDRESS } });
    const cleanup = new Cleanup(pair);
    try {
      for (const type of [5, 4] as const) {
        const bind = cleanup.bind(await socksBind(pair.socksPort, type, { host: LOOPBACK, port: FTP_DATA_PORT }));
        const announced = await bind.bound();
        assert.equal(announced.host, PUBLIC_ADDRESS, `SOCKS${type}`);
        assert.ok(announced.port > 0);
      }
    } finally {
      try {
        await cleanup.run();
      } finally {
        await pair.close();
      }
    }
  });
});

describe('BIND when the tunnel goes down', () => {
  const PROBE_TIMEOUT_MS = 10_000;
  // Regression: the failure reply is written with end(), then the stream closes with a reset;
  // resetting a socket whose shutdown is pending fails in libuv (EINVAL) and Node then leaks
  // the handle, so the client kept the fd and its process could not exit. Run in a child
  // process so that a leak cannot hang this one.
  test('a waiting BIND gets a failure reply and the client releases its socket', async () => {
    const probe = fileURLToPath(new URL('../helpers/processes/bind-teardown-probe.js', import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [probe],
        { env: { ...process.env, SOCKBRIDGE_PROBE: BIND_TEARDOWN_PROBE }, timeout: PROBE_TIMEOUT_MS },
        (err, out, errOut) => (err ? reject(new Error(`probe failed: ${err.message} ${errOut}`)) : resolve(out)),
      );
    });
    const report = JSON.parse(stdout.trim()) as BindTeardownReport;
    assert.match(report.error ?? '', /rejected incoming bound connection - Failure/, 'the second reply is a failure');
    assert.equal(report.closed, true, 'the SOCKS connection closes');
    assert.equal(report.leakedTcpHandles, 0, 'no TCP handle is left open once everything was closed');
  });
});
