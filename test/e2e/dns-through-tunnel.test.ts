/**
 * --dns-listen end to end: dig and a raw DNS client ask the client's listener over UDP and
 * TCP; every query crosses the tunnel to a TCP zone server the test starts
 * (test/helpers/targets/dns-zone-server.ts) on one pipelined upstream connection. Also:
 * 100 concurrent queries whose IDs collide, truncation to 512 bytes or the EDNS0 size, an
 * upstream that closes its connection, SERVFAIL when the relay refuses the upstream, when it
 * does not answer, when 1024 are in flight and when the tunnel is down; and the real CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../common/log.js';
import type { ClientConfig } from '../../client/config.js';
import type { RelayConfig } from '../../server/config.js';
import { TcpDnsConnection, udpExchange } from '../helpers/io/dns-client.js';
import { waitFor } from '../helpers/io/waiting.js';
import { dig, digMissing, shortAddresses } from '../helpers/processes/dig.js';
import { CliProcess, runCli } from '../helpers/processes/cli-process.js';
import { freePort, startRelayProcess, STACK_TOKEN, type RelayProcess } from '../helpers/processes/cli-stack.js';
import { DNS_RCODE_NOERROR, DNS_RCODE_NXDOMAIN, dnsQuery, parseDnsResponse } from '../helpers/targets/dns-message.js';
import { numberedAddress, startZoneServer, TEST_ZONE, withEdns, type ZoneServer } from '../helpers/targets/dns-zone-server.js';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';

const DNS_RCODE_SERVFAIL = 2;
const DNS_FLAG_TC = 0x0200;
const DNS_TIMEOUT_MS = 1_500;
/** --dns-timeout for the overload test: long enough that the extra queries' SERVFAILs beat it on a loaded machine. */
const OVERLOAD_TIMEOUT_MS = 3_000;
const SILENT_NAME = 'silent.zone.test';
const BIG = TEST_ZONE['big.zone.test'];
const skipDig = digMissing();

interface DnsPair {
  pair: TunnelPair;
  port: number;
  /** Every line the client logged, at debug. */
  logs: string[];
}

async function startDnsPair(upstreamPort: number, options: { relay?: Partial<RelayConfig>; client?: Partial<ClientConfig> } = {}): Promise<DnsPair> {
  const logs: string[] = [];
  const pair = await startPair({
    relay: options.relay,
    client: {
      dnsListen: { host: '127.0.0.1', port: 0 },
      dnsUpstream: { host: '127.0.0.1', port: upstreamPort },
      dnsTimeoutMs: DNS_TIMEOUT_MS,
      logger: createLogger('client', 'debug', (line) => logs.push(line)),
      ...options.client,
    },
  });
  return { pair, port: pair.client.dns!.address.port, logs };
}

function flagsOf(message: Buffer): number {
  return message.readUInt16BE(2);
}

describe('DNS through the tunnel', () => {
  let zone: ZoneServer;
  let dns: DnsPair;

  before(async () => {
    zone = await startZoneServer({ silent: new Set([SILENT_NAME]), delayMs: (name) => (Number(/^www(\d+)/.exec(name)?.[1] ?? 0) * 7) % 50 });
    dns = await startDnsPair(zone.port);
  });
  after(async () => {
    await dns?.pair.close();
    await zone?.close();
  });

  test('dig over UDP and over TCP gets the zone server\'s answers', { skip: skipDig ?? false }, async () => {
    assert.deepEqual(shortAddresses(await dig(dns.port, ['one.zone.test', 'A', '+short'])), ['192.0.2.1']);
    assert.deepEqual(shortAddresses(await dig(dns.port, ['two.zone.test', 'A', '+short', '+tcp'])), ['192.0.2.2']);
    const missing = await dig(dns.port, ['nowhere.zone.test', 'A']);
    assert.match(missing.stdout, /status: NXDOMAIN/);
    assert.ok(dns.pair.client.dns!.counters.queries.udp >= 2 && dns.pair.client.dns!.counters.queries.tcp >= 1);
  });

  test('truncation: dig without EDNS sees TC over UDP and gets all 60 records by retrying over TCP; with EDNS 4096 they fit UDP', { skip: skipDig ?? false }, async () => {
    const counters = dns.pair.client.dns!.counters;
    const truncatedBefore = counters.truncated;
    const cut = await dig(dns.port, ['big.zone.test', 'A', '+noedns', '+ignore']);
    assert.match(cut.stdout, /flags:[^;]*\btc\b/, cut.stdout);
    assert.match(cut.stdout, /ANSWER: 0,/);
    assert.equal(counters.truncated, truncatedBefore + 1);
    const retried = await dig(dns.port, ['big.zone.test', 'A', '+noedns']);
    assert.match(retried.stdout, /Truncated, retrying in TCP mode/);
    assert.deepEqual(shortAddresses(await dig(dns.port, ['big.zone.test', 'A', '+noedns', '+short'])).sort(), [...BIG].sort());
    const tcpBefore = counters.queries.tcp;
    assert.equal(shortAddresses(await dig(dns.port, ['big.zone.test', 'A', '+bufsize=4096', '+short'])).length, BIG.length);
    assert.equal(counters.queries.tcp, tcpBefore, 'with EDNS 4096 the answer came over UDP');
  });

  test('truncation with a raw client: 512 without EDNS0, the OPT size with it', async () => {
    const plain = await udpExchange(dns.port, dnsQuery(0x0101, 'big.zone.test'));
    assert.equal(flagsOf(plain) & DNS_FLAG_TC, DNS_FLAG_TC);
    assert.equal(parseDnsResponse(plain).records.length, 0);
    assert.ok(plain.length <= 512);
    const small = await udpExchange(dns.port, withEdns(dnsQuery(0x0102, 'big.zone.test'), 600));
    assert.equal(flagsOf(small) & DNS_FLAG_TC, DNS_FLAG_TC, 'EDNS0 600: 991 bytes do not fit');
    const large = await udpExchange(dns.port, withEdns(dnsQuery(0x0103, 'big.zone.test'), 4096));
    assert.equal(flagsOf(large) & DNS_FLAG_TC, 0);
    assert.equal(parseDnsResponse(large).records.length, BIG.length);
    assert.equal(parseDnsResponse(large).id, 0x0103);
  });

  test('100 concurrent queries: 50 UDP clients all using ID 0x4242 and 50 pipelined on one TCP connection; each gets its own answer and ID, over one upstream connection', async () => {
    const connectionsBefore = zone.connections;
    const seenBefore = zone.queries.length;
    const udp = Array.from({ length: 50 }, (_, i) => udpExchange(dns.port, dnsQuery(0x4242, `www${i}.zone.test`)));
    const tcp = await TcpDnsConnection.open(dns.port);
    try {
      for (let i = 0; i < 50; i++) tcp.send(dnsQuery(1000 + i, `www${50 + i}.zone.test`));
      const tcpAnswers = [];
      for (let i = 0; i < 50; i++) tcpAnswers.push(parseDnsResponse(await tcp.next()));
      const udpAnswers = (await Promise.all(udp)).map(parseDnsResponse);
      udpAnswers.forEach((answer, i) => {
        assert.equal(answer.id, 0x4242);
        assert.deepEqual(answer.records.map((r) => r.address), [numberedAddress(i)], `UDP client ${i}`);
      });
      for (const answer of tcpAnswers) {
        assert.equal(answer.rcode, DNS_RCODE_NOERROR);
        assert.deepEqual(answer.records.map((r) => r.address), [numberedAddress(answer.id - 1000 + 50)], `TCP query ${answer.id}`);
      }
      assert.deepEqual(tcpAnswers.map((a) => a.id).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => 1000 + i));
      assert.notDeepEqual(tcpAnswers.map((a) => a.id), Array.from({ length: 50 }, (_, i) => 1000 + i), 'answers came back in the upstream\'s order, not one by one');
    } finally {
      tcp.close();
    }
    const upstreamIds = new Set(zone.queries.slice(seenBefore).map((q) => q.id));
    assert.equal(upstreamIds.size, 100, 'the upstream saw 100 different IDs at once');
    assert.ok(zone.connections <= Math.max(connectionsBefore, 1), `one upstream connection carried them (${zone.connections})`);
  });

  test('no answer within --dns-timeout: SERVFAIL, its reason logged with the name only', async () => {
    const started = Date.now();
    const answer = await udpExchange(dns.port, dnsQuery(0x0bad, SILENT_NAME), DNS_TIMEOUT_MS + 3_000);
    const elapsed = Date.now() - started;
    assert.equal(parseDnsResponse(answer).rcode, DNS_RCODE_SERVFAIL);
    assert.equal(parseDnsResponse(answer).id, 0x0bad);
    assert.ok(elapsed >= DNS_TIMEOUT_MS - 50, `answered after ${elapsed} ms`);
    const line = dns.logs.find((l) => l.includes('SERVFAIL') && l.includes(`name=${SILENT_NAME}`));
    assert.ok(line, dns.logs.join(''));
    assert.match(line, /reason=timeout/);
  });

  test('a TCP client sending something that is not a query is disconnected; the listener goes on', async () => {
    const tcp = await TcpDnsConnection.open(dns.port);
    tcp.raw(Buffer.from('0003aabbcc', 'hex'));
    await tcp.waitEnd();
    tcp.close();
    const answer = parseDnsResponse(await udpExchange(dns.port, dnsQuery(7, 'one.zone.test')));
    assert.deepEqual(answer.records.map((r) => r.address), ['192.0.2.1']);
    assert.equal(parseDnsResponse(await udpExchange(dns.port, dnsQuery(8, 'nowhere.zone.test'))).rcode, DNS_RCODE_NXDOMAIN);
  });
});

describe('DNS through the tunnel: over 1024 queries in flight', () => {
  // A pair of its own: the 1024 queries left in flight while it runs must not reach the next test.
  test('the extra ones get SERVFAIL at once, before any timeout fires; the rest when they time out', async () => {
    const zone = await startZoneServer({ silent: new Set([SILENT_NAME]) });
    const dns = await startDnsPair(zone.port, { client: { dnsTimeoutMs: OVERLOAD_TIMEOUT_MS } });
    const counters = dns.pair.client.dns!.counters;
    const tcp = await TcpDnsConnection.open(dns.port);
    try {
      for (let i = 0; i < 1030; i++) tcp.send(dnsQuery(i, SILENT_NAME));
      // Generous waits for a loaded machine; what shows "at once" is that no timeout has fired yet.
      const first = [];
      for (let i = 0; i < 6; i++) first.push(parseDnsResponse(await tcp.next(OVERLOAD_TIMEOUT_MS + 5_000)));
      assert.equal(counters.servfail.timeout, 0, 'the extra ones were answered before the first timeout');
      assert.deepEqual(first.map((a) => a.id).sort((a, b) => a - b), [1024, 1025, 1026, 1027, 1028, 1029]);
      assert.ok(first.every((a) => a.rcode === DNS_RCODE_SERVFAIL));
      assert.equal(counters.servfail['too-many-in-flight'], 6);
      const rest = [];
      for (let i = 0; i < 1024; i++) rest.push(parseDnsResponse(await tcp.next(OVERLOAD_TIMEOUT_MS + 5_000)));
      assert.ok(rest.every((a) => a.rcode === DNS_RCODE_SERVFAIL));
      assert.deepEqual(rest.map((a) => a.id).sort((a, b) => a - b), Array.from({ length: 1024 }, (_, i) => i));
      assert.equal(counters.servfail.timeout, 1024);
      assert.ok(dns.logs.some((l) => l.includes('too many queries in flight')));
    } finally {
      tcp.close();
      await dns.pair.close();
      await zone.close();
    }
  });
});

describe('DNS through the tunnel: the upstream connection', () => {
  test('an upstream that closes after every 3 answers: pipelined queries left unanswered go out again, and all 10 are answered', async () => {
    const zone = await startZoneServer({ closeAfterAnswers: 3 });
    const dns = await startDnsPair(zone.port);
    const tcp = await TcpDnsConnection.open(dns.port);
    try {
      for (let i = 0; i < 10; i++) tcp.send(dnsQuery(i, `www${i}.zone.test`));
      const answers = [];
      for (let i = 0; i < 10; i++) answers.push(parseDnsResponse(await tcp.next()));
      for (const answer of answers) assert.deepEqual(answer.records.map((r) => r.address), [numberedAddress(answer.id)]);
      assert.ok(zone.connections >= 4, `the upstream connection was reopened (${zone.connections} connections)`);
      const later = parseDnsResponse(await udpExchange(dns.port, dnsQuery(99, 'one.zone.test')));
      assert.deepEqual(later.records.map((r) => r.address), ['192.0.2.1']);
    } finally {
      tcp.close();
      await dns.pair.close();
      await zone.close();
    }
  });
});

describe('DNS through the tunnel: closing the listener', () => {
  test('close lets a query in flight finish, takes no new ones, and is idempotent', async () => {
    const zone = await startZoneServer({ delayMs: () => 300 });
    const dns = await startDnsPair(zone.port);
    try {
      const inFlight = udpExchange(dns.port, dnsQuery(0x0c10, 'one.zone.test'));
      await waitFor(() => zone.queries.length === 1, { what: 'the upstream to see the query' });
      const closing = dns.pair.client.dns!.close(5_000);
      const answer = parseDnsResponse(await inFlight);
      assert.equal(answer.id, 0x0c10);
      assert.deepEqual(answer.records.map((r) => r.address), ['192.0.2.1'], 'answered during the grace period');
      await closing;
      await dns.pair.client.dns!.close();
      await assert.rejects(TcpDnsConnection.open(dns.port), /ECONNREFUSED/);
      assert.ok(dns.logs.some((l) => l.includes('DNS listener closed udp=1 tcp=0 answered=1 servfail=0')), dns.logs.join(''));
    } finally {
      await dns.pair.close();
      await zone.close();
    }
  });
});

describe('DNS through the tunnel: SERVFAIL', () => {
  test('the relay refuses the upstream (loopback not allowed): SERVFAIL, and the log says why', { skip: skipDig ?? false }, async () => {
    const zone = await startZoneServer();
    const dns = await startDnsPair(zone.port, { relay: { rules: [] } });
    try {
      const result = await dig(dns.port, ['one.zone.test', 'A']);
      assert.match(result.stdout, /status: SERVFAIL/, result.stdout);
      assert.equal(dns.pair.client.dns!.counters.servfail['upstream-refused'], 1);
      assert.equal(zone.connections, 0);
      const line = dns.logs.find((l) => l.includes('DNS upstream failed'));
      assert.ok(line, dns.logs.join(''));
      assert.match(line, /reason=upstream-refused/);
      assert.match(line, /reply 0x02/);
      // Over TCP too, with the client's ID:
      const tcp = await TcpDnsConnection.open(dns.port);
      try {
        tcp.send(dnsQuery(0x7777, 'one.zone.test'));
        const answer = parseDnsResponse(await tcp.next());
        assert.equal(answer.rcode, DNS_RCODE_SERVFAIL);
        assert.equal(answer.id, 0x7777);
      } finally {
        tcp.close();
      }
    } finally {
      await dns.pair.close();
      await zone.close();
    }
  });

  test('nothing listens at the upstream: SERVFAIL (reply 0x05)', async () => {
    const dns = await startDnsPair(await freePort());
    try {
      const answer = parseDnsResponse(await udpExchange(dns.port, dnsQuery(5, 'one.zone.test')));
      assert.equal(answer.rcode, DNS_RCODE_SERVFAIL);
      assert.ok(dns.logs.some((l) => l.includes('reason=upstream-refused') && l.includes('reply 0x05')), dns.logs.join(''));
    } finally {
      await dns.pair.close();
    }
  });

  test('the tunnel is down: SERVFAIL once --tunnel-wait passes, before --dns-timeout', { skip: skipDig ?? false }, async () => {
    const zone = await startZoneServer();
    const dns = await startDnsPair(zone.port, { client: { tunnelWaitMs: 300, reconnectMaxMs: 500 } });
    try {
      assert.deepEqual(shortAddresses(await dig(dns.port, ['one.zone.test', '+short'])), ['192.0.2.1']);
      await dns.pair.relay.close();
      await waitFor(() => dns.pair.client.tunnel.current === null, { what: 'the tunnel to go down' });
      const started = Date.now();
      const result = await dig(dns.port, ['one.zone.test', 'A']);
      assert.match(result.stdout, /status: SERVFAIL/, result.stdout);
      assert.ok(Date.now() - started < DNS_TIMEOUT_MS, 'answered when the tunnel wait ran out, before --dns-timeout');
      assert.ok(dns.pair.client.dns!.counters.servfail['tunnel-down'] >= 1);
      assert.ok(dns.logs.some((l) => l.includes('reason=tunnel-down')), dns.logs.join(''));
    } finally {
      await dns.pair.close();
      await zone.close();
    }
  });
});

describe('sockbridge client --dns-listen (the real CLI)', () => {
  test('dig over UDP and TCP through a client process; SIGTERM exits 0', { skip: skipDig ?? false }, async () => {
    const zone = await startZoneServer();
    let relay: RelayProcess | null = null;
    let client: CliProcess | null = null;
    try {
      relay = await startRelayProcess();
      client = new CliProcess([
        'client', '--relay', `ws://127.0.0.1:${relay.port}/tunnel`, '--token', STACK_TOKEN, '--socks', '127.0.0.1:0',
        '--dns-listen', '127.0.0.1:0', '--dns-upstream', `127.0.0.1:${zone.port}`, '--dns-timeout', '3',
      ]);
      const [, address] = await client.waitFor(/DNS listening address=(\S+)/, 15_000);
      await client.waitFor(/tunnel up/, 15_000);
      const port = Number(address.split(':').pop());
      assert.deepEqual(shortAddresses(await dig(port, ['one.zone.test', '+short'])), ['192.0.2.1']);
      assert.deepEqual(shortAddresses(await dig(port, ['two.zone.test', '+short', '+tcp'])), ['192.0.2.2']);
      assert.match((await dig(port, ['nowhere.zone.test'])).stdout, /status: NXDOMAIN/);
      client.signal('SIGTERM');
      assert.deepEqual(await client.waitExit(10_000), { code: 0, signal: null }, client.output);
      assert.match(client.output, /DNS listener closed udp=2 tcp=1 answered=3 servfail=0/);
    } finally {
      await client?.stop();
      await relay?.proc.stop();
      await zone.close();
    }
  });

  test('bad DNS flags: exit 2 and a message naming the flag; --help lists them', async () => {
    const base = ['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', 'x', '--socks', '127.0.0.1:0'];
    for (const [flag, value] of [['--dns-listen', '5353'], ['--dns-upstream', '1.1.1.1'], ['--dns-upstream', '1.1.1.1:0'], ['--dns-timeout', '0']]) {
      const result = await runCli([...base, flag, value]);
      assert.equal(result.code, 2, `${flag} ${value}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`^sockbridge: ${flag}`), `${flag} ${value}`);
    }
    const sameAsSocks = await runCli(['client', '--relay', 'ws://127.0.0.1:9/tunnel', '--token', 'x', '--socks', '127.0.0.1:5399', '--dns-listen', '127.0.0.1:5399']);
    assert.equal(sameAsSocks.code, 2);
    assert.match(sameAsSocks.stderr, /--dns-listen: 127\.0\.0\.1:5399 is the --socks address too/);
    const help = await runCli(['client', '--help']);
    for (const flag of ['--dns-listen', '--dns-upstream', '--dns-timeout']) assert.ok(help.stdout.includes(flag), flag);
  });
});
