/**
 * UDP ASSOCIATE (RFC 1928 §7) through a real client and relay: the `socks` package builds
 * and parses the UDP request header, plain dgram sockets play the application and its
 * targets. Echo to IPv4, IPv6 and a domain; 10,000 datagrams; the largest payloads;
 * datagrams the client must drop; the association's lifetime; and a DNS lookup end to end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { SocksClient } from 'socks';
import { waitClose } from '../helpers/io/socket-io.js';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import {
  UdpInbox,
  bindUdp,
  ipv6LoopbackAvailable,
  socksAssociate,
  startUdpEcho,
  waitUdpPortClosed,
  type Association,
  type UdpEcho,
} from '../helpers/io/udp-io.js';
import { spyOnUdpRelays, type UdpRelaySpy } from '../helpers/socks/udp-relay-spy.js';
import {
  DNS_CLASS_IN,
  DNS_RCODE_NOERROR,
  DNS_RCODE_NXDOMAIN,
  DNS_TEST_ADDRESS,
  DNS_TEST_NAME,
  DNS_TTL_SECONDS,
  DNS_TYPE_A,
  dnsQuery,
  parseDnsResponse,
  startDnsServer,
} from '../helpers/targets/dns-message.js';
import { waitFor } from '../helpers/io/waiting.js';

const LOOPBACK = '127.0.0.1';
const LOOPBACK6 = '::1';
const UNKNOWN_CLIENT = { host: '0.0.0.0', port: 0 };
const SILENCE_MS = 300;
const WAIT_MS = 5_000;
/** Largest UDP payload over IPv4: 65,535 − 20 (IP header) − 8 (UDP header). */
const MAX_UDP_PAYLOAD_IPV4 = 65_507;
/** RSV(2) FRAG(1) ATYP(1) IPv4(4) PORT(2): the SOCKS header on a datagram to an IPv4 target. */
const SOCKS_UDP_HEADER_IPV4 = 10;

/** Two addresses are the same host (the socks package writes IPv6 in full). */
function sameHost(a: string, b: string): boolean {
  return ipaddr.parse(a).toNormalizedString() === ipaddr.parse(b).toNormalizedString();
}

/** Relay-side streams over all sessions. */
function relayStreams(pair: TunnelPair): number {
  let count = 0;
  for (const session of pair.relay.sessions) count += session.streams.size;
  return count;
}

/** Wraps `data` for `target`, sends it to the client's UDP relay, and returns the parsed answer. */
async function roundTrip(app: UdpInbox, association: Association, target: { host: string; port: number }, data: Buffer) {
  await app.send(SocksClient.createUDPFrame({ remoteHost: target, data }), association.relay.port, association.relay.host);
  const answer = await app.next(WAIT_MS);
  assert.equal(answer.from.port, association.relay.port, 'answers come from the relay address of the reply');
  return SocksClient.parseUDPFrame(answer.data);
}

function payloadFor(seq: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  buf.writeUInt32BE(seq, 0);
  for (let i = 4; i < length; i++) buf[i] = (seq * 31 + i) & 0xff;
  return buf;
}

describe('UDP ASSOCIATE through the tunnel', () => {
  let pair: TunnelPair;
  let echo: UdpEcho;
  let echo6: UdpEcho | null = null;
  let spy: UdpRelaySpy;
  const open: Array<{ close(): void }> = [];

  /** An application socket and an association for it; both closed in `after`. */
  async function associateApp(declare: 'unknown' | 'port' = 'unknown', host = LOOPBACK): Promise<{ app: UdpInbox; association: Association }> {
    const app = await UdpInbox.bind(host);
    open.push(app);
    const declared = declare === 'port' ? { host, port: app.port } : UNKNOWN_CLIENT;
    const association = await socksAssociate(pair.socksPort, declared);
    open.push({ close: () => association.control.destroy() });
    return { app, association };
  }

  before(async () => {
    spy = spyOnUdpRelays();
    pair = await startPair();
    echo = await startUdpEcho(LOOPBACK);
    if (await ipv6LoopbackAvailable()) echo6 = await startUdpEcho(LOOPBACK6);
  });

  after(async () => {
    for (const item of open.splice(0)) item.close();
    echo?.close();
    echo6?.close();
    await pair?.close();
    spy?.restore();
  });

  test('IPv4 target: the echo comes back with the target as its source', async () => {
    const { app, association } = await associateApp();
    assert.equal(association.relay.host, LOOPBACK, 'the client relays UDP next to its SOCKS listener');
    const reply = await roundTrip(app, association, { host: LOOPBACK, port: echo.port }, Buffer.from('ping v4'));
    assert.equal(reply.frameNumber, 0);
    assert.deepEqual(reply.remoteHost, { host: LOOPBACK, port: echo.port });
    assert.equal(reply.data.toString(), 'ping v4');
  });

  test('IPv6 target [::1]: the echo comes back with an IPv6 source', async (t) => {
    if (!echo6) return t.skip('::1 is not available on this machine');
    const { app, association } = await associateApp();
    const reply = await roundTrip(app, association, { host: LOOPBACK6, port: echo6.port }, Buffer.from('ping v6'));
    assert.ok(sameHost(reply.remoteHost.host, LOOPBACK6), `source ${reply.remoteHost.host}`);
    assert.equal(reply.remoteHost.port, echo6.port);
    assert.equal(reply.data.toString(), 'ping v6');
  });

  test("domain target 'localhost': the relay resolves it and the source is the address it resolved to", async (t) => {
    const resolved = await lookup('localhost');
    const target = resolved.family === 6 ? echo6 : echo;
    if (!target) return t.skip(`'localhost' resolves to ${resolved.address}, and ::1 is not available`);
    const { app, association } = await associateApp();
    const reply = await roundTrip(app, association, { host: 'localhost', port: target.port }, Buffer.from('ping by name'));
    assert.ok(sameHost(reply.remoteHost.host, resolved.address), `source ${reply.remoteHost.host}`);
    assert.equal(reply.remoteHost.port, target.port);
    assert.equal(reply.data.toString(), 'ping by name');
  });

  test('10,000 datagrams, at most 64 in flight: every one comes back intact, none lost', async () => {
    const COUNT = 10_000;
    const WINDOW = 64;
    const SIZE = 512;
    const STALL_MS = 2_000;
    const { app, association } = await associateApp();
    const target = { host: LOOPBACK, port: echo.port };
    const seen = new Uint8Array(COUNT);
    let next = 0;
    let received = 0;
    const send = (): void => {
      const seq = next++;
      app.socket.send(SocksClient.createUDPFrame({ remoteHost: target, data: payloadFor(seq, SIZE) }), association.relay.port, association.relay.host);
    };
    const relayBefore = { ...spy.latest().counters };
    await new Promise<void>((resolve, reject) => {
      let stall = setTimeout(() => stalled(), STALL_MS);
      const fail = (err: Error): void => {
        clearTimeout(stall);
        app.socket.off('message', onMessage);
        reject(err);
      };
      const stalled = (): void => {
        const missing: number[] = [];
        for (let i = 0; i < next && missing.length < 10; i++) if (!seen[i]) missing.push(i);
        const counters = JSON.stringify(spy.latest().counters);
        fail(new Error(`stalled: ${received} of ${COUNT} back after sending ${next}; first missing ${missing.join(',')}; client relay ${counters}`));
      };
      const onMessage = (msg: Buffer): void => {
        try {
          const { remoteHost, data } = SocksClient.parseUDPFrame(msg);
          const seq = data.readUInt32BE(0);
          assert.deepEqual(remoteHost, target);
          assert.ok(seq < next && data.equals(payloadFor(seq, SIZE)), `payload of datagram ${seq}`);
          assert.equal(seen[seq], 0, `datagram ${seq} came back twice`);
          seen[seq] = 1;
        } catch (err) {
          fail(err as Error);
          return;
        }
        received += 1;
        clearTimeout(stall);
        if (received === COUNT) {
          app.socket.off('message', onMessage);
          resolve();
          return;
        }
        stall = setTimeout(() => stalled(), STALL_MS);
        if (next < COUNT) send();
      };
      app.socket.on('message', onMessage);
      for (let i = 0; i < WINDOW; i++) send();
    });
    assert.equal(received, COUNT);
    const counters = spy.latest().counters;
    assert.equal(counters.forwarded - relayBefore.forwarded, COUNT);
    assert.equal(counters.returned - relayBefore.returned, COUNT);
    assert.equal(counters.droppedCongested, 0);
  });

  test(`the largest payload an IPv4 client can send (${MAX_UDP_PAYLOAD_IPV4 - SOCKS_UDP_HEADER_IPV4} bytes) round-trips; one more byte is refused by the kernel`, async () => {
    // 65,507 bytes of payload plus the 10-byte SOCKS header do not fit one IPv4 datagram to the
    // client's relay; the full 65,507 is covered over an IPv6 listener below.
    const largest = MAX_UDP_PAYLOAD_IPV4 - SOCKS_UDP_HEADER_IPV4;
    const { app, association } = await associateApp();
    const target = { host: LOOPBACK, port: echo.port };
    const data = payloadFor(1, largest);
    const reply = await roundTrip(app, association, target, data);
    assert.equal(reply.data.length, largest);
    assert.ok(reply.data.equals(data));
    await assert.rejects(
      app.send(SocksClient.createUDPFrame({ remoteHost: target, data: payloadFor(2, largest + 1) }), association.relay.port, association.relay.host),
      { code: 'EMSGSIZE' },
    );
  });

  test('a datagram from a foreign source port gets no answer and is counted', async () => {
    const { app, association } = await associateApp('port');
    const foreign = await UdpInbox.bind(LOOPBACK);
    open.push(foreign);
    const relay = spy.latest();
    const echoedBefore = echo.count;
    const frame = SocksClient.createUDPFrame({ remoteHost: { host: LOOPBACK, port: echo.port }, data: Buffer.from('not yours') });
    await foreign.send(frame, association.relay.port, association.relay.host);
    await foreign.expectSilence(SILENCE_MS);
    assert.equal(relay.counters.droppedForeign, 1);
    assert.equal(echo.count, echoedBefore, 'nothing reached the target');
    const reply = await roundTrip(app, association, { host: LOOPBACK, port: echo.port }, Buffer.from('mine'));
    assert.equal(reply.data.toString(), 'mine', 'the declared port still works');
    await app.expectSilence(50);
  });

  test('FRAG ≠ 0 and malformed headers are dropped without an answer', async () => {
    const { app, association } = await associateApp();
    const relay = spy.latest();
    const target = { host: LOOPBACK, port: echo.port };
    await roundTrip(app, association, target, Buffer.from('learn my port'));
    const echoedBefore = echo.count;
    await app.send(SocksClient.createUDPFrame({ remoteHost: target, data: Buffer.from('fragment 1'), frameNumber: 1 }), association.relay.port, association.relay.host);
    const unknownAtyp = Buffer.from([0x00, 0x00, 0x00, 0x02, 127, 0, 0, 1, 0, 53, 0x61]);
    await app.send(unknownAtyp, association.relay.port, association.relay.host);
    await app.expectSilence(SILENCE_MS);
    assert.equal(relay.counters.droppedFragment, 1);
    assert.equal(relay.counters.droppedMalformed, 1);
    assert.equal(echo.count, echoedBefore, 'nothing reached the target');
  });
});

describe('the lifetime of a UDP association', () => {
  const closings = [
    { name: 'closed normally (FIN)', close: (control: Association['control']) => control.destroy() },
    { name: 'reset (RST)', close: (control: Association['control']) => control.resetAndDestroy() },
  ];
  for (const closing of closings) {
    test(`a control connection ${closing.name} ends the association on both sides`, async () => {
      const DROP_MS = 2_000;
      const pair = await startPair();
      const echo = await startUdpEcho(LOOPBACK);
      const app = await UdpInbox.bind(LOOPBACK);
      let control: Association['control'] | null = null;
      try {
        const association = await socksAssociate(pair.socksPort, UNKNOWN_CLIENT);
        control = association.control;
        const target = { host: LOOPBACK, port: echo.port };
        await roundTrip(app, association, target, Buffer.from('before'));
        const relayUdp = echo.lastFrom!;
        assert.equal(relayStreams(pair), 1);

        closing.close(control);
        await waitFor(() => relayStreams(pair) === 0, { what: 'the relay to drop the association stream', timeoutMs: DROP_MS });
        const echoedBefore = echo.count;
        await app.send(SocksClient.createUDPFrame({ remoteHost: target, data: Buffer.from('after') }), association.relay.port, association.relay.host);
        await app.expectSilence(SILENCE_MS);
        assert.equal(echo.count, echoedBefore, 'nothing reached the target');
        await waitUdpPortClosed(association.relay.host, association.relay.port, DROP_MS);
        await waitUdpPortClosed(relayUdp.address, relayUdp.port, DROP_MS);
      } finally {
        control?.destroy();
        app.close();
        echo.close();
        await pair.close();
      }
    });
  }

  test('an idle association (udpIdleTimeoutMs 300) closes its control connection; traffic keeps it open', async () => {
    const IDLE_MS = 300;
    const pair = await startPair({ client: { udpIdleTimeoutMs: IDLE_MS } });
    const echo = await startUdpEcho(LOOPBACK);
    const app = await UdpInbox.bind(LOOPBACK);
    let control: Association['control'] | null = null;
    try {
      const association = await socksAssociate(pair.socksPort, UNKNOWN_CLIENT);
      control = association.control;
      const target = { host: LOOPBACK, port: echo.port };
      const ROUNDS = 7;
      for (let i = 0; i < ROUNDS; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, IDLE_MS / 3));
        await roundTrip(app, association, target, Buffer.from(`keepalive ${i}`));
      }
      assert.equal(control.destroyed, false, `traffic every ${IDLE_MS / 3} ms for ${2 * IDLE_MS} ms keeps the association`);
      const quietSince = Date.now();
      await waitClose(control, WAIT_MS);
      assert.ok(Date.now() - quietSince >= IDLE_MS - 50, 'not before the idle timeout');
      await waitFor(() => relayStreams(pair) === 0, { what: 'the relay to drop the association stream', timeoutMs: WAIT_MS });
    } finally {
      control?.destroy();
      app.close();
      echo.close();
      await pair.close();
    }
  });
});

describe('the largest UDP payload through an IPv6 SOCKS listener', () => {
  test(`${MAX_UDP_PAYLOAD_IPV4} bytes to an IPv4 target and back`, async (t) => {
    if (!(await ipv6LoopbackAvailable())) return t.skip('::1 is not available on this machine');
    // Over IPv6 a UDP payload may be 65,527 bytes, so the SOCKS header fits beside a maximal
    // IPv4 payload on the application's leg; the target leg is plain IPv4.
    const pair = await startPair({ client: { socks: { host: LOOPBACK6, port: 0 } } });
    const echo = await startUdpEcho(LOOPBACK);
    const app = await UdpInbox.bind(LOOPBACK6);
    let control: Association['control'] | null = null;
    try {
      const association = await socksAssociate(pair.socksPort, UNKNOWN_CLIENT, LOOPBACK6);
      control = association.control;
      assert.ok(isIPv6(association.relay.host), `relay address ${association.relay.host}`);
      const data = payloadFor(7, MAX_UDP_PAYLOAD_IPV4);
      const reply = await roundTrip(app, association, { host: LOOPBACK, port: echo.port }, data);
      assert.deepEqual(reply.remoteHost, { host: LOOPBACK, port: echo.port });
      assert.equal(reply.data.length, MAX_UDP_PAYLOAD_IPV4);
      assert.ok(reply.data.equals(data));
    } finally {
      control?.destroy();
      app.close();
      echo.close();
      await pair.close();
    }
  });
});

/** Any 16-bit id: the answer must carry it back. */
const QUERY_ID = 0x5bd1;

describe('a real UDP application: DNS through SOCKS5 UDP ASSOCIATE', () => {
  test(`an A query for ${DNS_TEST_NAME} is answered with ${DNS_TEST_ADDRESS}; an unknown name with NXDOMAIN`, async () => {
    const pair = await startPair();
    const dns = await startDnsServer(LOOPBACK);
    const app = await UdpInbox.bind(LOOPBACK);
    let control: Association['control'] | null = null;
    try {
      const association = await socksAssociate(pair.socksPort, UNKNOWN_CLIENT);
      control = association.control;
      const server = { host: LOOPBACK, port: dns.port };

      const reply = await roundTrip(app, association, server, dnsQuery(QUERY_ID, DNS_TEST_NAME));
      assert.deepEqual(reply.remoteHost, server, 'the answer comes from the DNS server');
      const answer = parseDnsResponse(reply.data);
      assert.equal(answer.id, QUERY_ID);
      assert.equal(answer.isResponse, true);
      assert.equal(answer.rcode, DNS_RCODE_NOERROR);
      assert.deepEqual(answer.records, [{ name: DNS_TEST_NAME, type: DNS_TYPE_A, cls: DNS_CLASS_IN, ttl: DNS_TTL_SECONDS, address: DNS_TEST_ADDRESS }]);

      const missing = parseDnsResponse((await roundTrip(app, association, server, dnsQuery(QUERY_ID + 1, 'nothing.test'))).data);
      assert.equal(missing.id, QUERY_ID + 1);
      assert.equal(missing.rcode, DNS_RCODE_NXDOMAIN);
      assert.deepEqual(missing.records, []);
    } finally {
      control?.destroy();
      app.close();
      dns.socket.close();
      await pair.close();
    }
  });
});

/**
 * A target that answers each datagram twice: first from a second port the client never sent
 * to, then from the port it was sent to.
 */
async function startTwoPortReplier(): Promise<{ port: number; otherPort: number; close(): void }> {
  const [front, side] = await Promise.all([UdpInbox.bind(LOOPBACK), UdpInbox.bind(LOOPBACK)]);
  front.socket.on('message', (_data, from) => {
    side.socket.send(Buffer.from('from the other port'), from.port, from.address);
    // Later than the side reply, so an app that gets only this one saw the other dropped.
    setTimeout(() => front.socket.send(Buffer.from('from the port it was sent to'), from.port, from.address), SILENCE_MS / 3);
  });
  return { port: front.port, otherPort: side.port, close: () => (front.close(), side.close()) };
}

describe('UDP replies from sources the client never sent to (--udp-replies)', () => {
  /** The replies the application gets to one datagram, each named by the port it came from. */
  async function replies(udpReplies: 'contacted' | 'any', expected: number): Promise<Array<{ from: string; text: string }>> {
    const pair = await startPair({ relay: { udpReplies } });
    const target = await startTwoPortReplier();
    const app = await UdpInbox.bind(LOOPBACK);
    let control: Association['control'] | null = null;
    try {
      const association = await socksAssociate(pair.socksPort, UNKNOWN_CLIENT);
      control = association.control;
      await app.send(SocksClient.createUDPFrame({ remoteHost: { host: LOOPBACK, port: target.port }, data: Buffer.from('hello') }), association.relay.port, association.relay.host);
      const got: Array<{ port: number; text: string }> = [];
      for (let i = 0; i < expected; i += 1) {
        const frame = SocksClient.parseUDPFrame((await app.next(WAIT_MS)).data);
        got.push({ port: frame.remoteHost.port, text: frame.data.toString() });
      }
      await app.expectSilence(SILENCE_MS);
      const portName = (port: number): string => (port === target.port ? 'port sent to' : port === target.otherPort ? 'other port' : `port ${port}`);
      return got.map(({ port, text }) => ({ from: portName(port), text }));
    } finally {
      control?.destroy();
      app.close();
      target.close();
      await pair.close();
    }
  }

  test('by default only the address and port the client sent to can answer; the other port is dropped', async () => {
    assert.deepEqual(await replies('contacted', 1), [{ from: 'port sent to', text: 'from the port it was sent to' }]);
  });

  test('with "any", the answer from the other port reaches the application too, with its own source', async () => {
    assert.deepEqual(await replies('any', 2), [
      { from: 'other port', text: 'from the other port' },
      { from: 'port sent to', text: 'from the port it was sent to' },
    ]);
  });
});
