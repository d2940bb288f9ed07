/**
 * The status model on its own, fed by fake counters: registration and removal of tunnels
 * and streams, totals that survive a closed tunnel, rates from byte counters, the
 * throughput ring, errors by reason, and the Prometheus view of the same numbers.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command, ReplyCode } from '../../protocol/frame.js';
import { StatusModel, type StreamCounters, type TunnelCounters } from '../../server/status/status-model.js';
import { ThroughputRing } from '../../server/status/throughput-ring.js';
import { TokenChecker } from '../../server/tunnel/auth.js';
import { resolveRelayConfig, ConfigError } from '../../server/config.js';
import { metricValue } from '../helpers/status/status-http.js';
import { waitFor } from '../helpers/io/waiting.js';

class FakeStream implements StreamCounters {
  state = 'open';
  bytesSent = 0;
  bytesReceived = 0;
  readonly openedAt = Date.now();
  private listeners: Array<() => void> = [];
  constructor(
    readonly id: number,
    readonly command: Command = Command.Connect,
  ) {}
  whenClosed(listener: () => void): void {
    if (this.state === 'closed') listener();
    else this.listeners.push(listener);
  }
  close(): void {
    this.state = 'closed';
    for (const listener of this.listeners.splice(0)) listener();
  }
}

const counters = (): TunnelCounters & { bytesSent: number; bytesReceived: number; rttMs: number | null } => ({ bytesSent: 0, bytesReceived: 0, rttMs: null });

describe('status model', () => {
  let model: StatusModel;
  afterEach(() => model?.close());

  it('registers tunnels and streams and forgets them when they close', () => {
    model = new StatusModel({ version: '9.9.9' });
    const tunnel = model.addTunnel({ remote: '127.0.0.1:5000', tokenName: 'token-2', counters: counters() });
    const a = new FakeStream(1);
    const b = new FakeStream(3, Command.UdpAssociate);
    tunnel.addStream(a, Command.Connect, { host: 'example.com', port: 443 });
    tunnel.addStream(b, Command.UdpAssociate, { host: '0.0.0.0', port: 0 });
    tunnel.addStream(a, Command.Connect, { host: 'example.com', port: 443 }); // twice is once
    model.opened(a, { host: '93.184.216.34', port: 443 }, 12);

    let snap = model.snapshot();
    assert.equal(snap.version, '9.9.9');
    assert.deepEqual(snap.tunnels.map((t) => [t.id, t.remote, t.tokenName, t.streams]), [['1', '127.0.0.1:5000', 'token-2', 2]]);
    assert.deepEqual(
      snap.streams.map((s) => [s.id, s.kind, s.tunnelKind, s.destination, s.resolved, s.state]),
      [
        ['1/1', 'CONNECT', 'tunnel', 'example.com:443', '93.184.216.34:443', 'open'],
        ['1/3', 'UDP', 'tunnel', '0.0.0.0:0', null, 'open'],
      ],
    );
    assert.equal(snap.totals.streamsOpened, 2);

    a.close();
    a.close();
    snap = model.snapshot();
    assert.deepEqual(snap.streams.map((s) => s.id), ['1/3']);
    assert.equal(snap.tunnels[0].streams, 1);

    tunnel.close();
    tunnel.close();
    snap = model.snapshot();
    assert.equal(snap.tunnels.length, 0);
    assert.equal(snap.totals.tunnels, 0);
    assert.equal(snap.totals.tunnelsOpened, 1);
  });

  it("gives each stream its tunnel's kind, so a Wisp connection's streams can be told apart", () => {
    model = new StatusModel();
    const tunnel = model.addTunnel({ remote: '127.0.0.1:5000', tokenName: 'token-1', counters: counters() });
    const wisp = model.addTunnel({ remote: '127.0.0.1:5001', tokenName: 'token-1', counters: counters(), kind: 'wisp' });
    tunnel.addStream(new FakeStream(1), Command.Connect, { host: 'example.com', port: 443 });
    wisp.addStream(new FakeStream(1), Command.Connect, { host: 'example.com', port: 443 });
    wisp.addStream(new FakeStream(2, Command.UdpAssociate), Command.UdpAssociate, { host: 'example.com', port: 53 });
    const snap = model.snapshot();
    assert.deepEqual(snap.tunnels.map((t) => [t.id, t.kind]), [['1', 'tunnel'], ['2', 'wisp']]);
    assert.deepEqual(
      snap.streams.map((s) => [s.id, s.kind, s.tunnelKind]),
      [
        ['1/1', 'CONNECT', 'tunnel'],
        ['2/1', 'CONNECT', 'wisp'],
        ['2/2', 'UDP', 'wisp'],
      ],
    );
  });

  it('keeps the bytes of closed tunnels in the totals; up is what the relay received', () => {
    model = new StatusModel();
    const c1 = counters();
    const c2 = counters();
    const t1 = model.addTunnel({ remote: 'a:1', tokenName: 'token-1', counters: c1 });
    model.addTunnel({ remote: 'b:2', tokenName: 'token-1', counters: c2 });
    c1.bytesReceived = 100;
    c1.bytesSent = 1000;
    c2.bytesReceived = 5;
    c2.bytesSent = 7;
    t1.close();
    c1.bytesSent = 999_999; // a closed tunnel no longer counts
    const { totals } = model.snapshot();
    assert.equal(totals.bytesUp, 105);
    assert.equal(totals.bytesDown, 1007);
  });

  it('turns byte counters into rates once a tick and keeps a throughput ring', async () => {
    model = new StatusModel({ tickMs: 50 });
    const c = counters();
    const tunnel = model.addTunnel({ remote: 'a:1', tokenName: 'token-1', counters: c });
    const stream = new FakeStream(1);
    tunnel.addStream(stream, Command.Connect, { host: '127.0.0.1', port: 9 });
    const ticks: string[] = [];
    model.on('tick', () => ticks.push(model.tickJson()));
    const feed = setInterval(() => {
      c.bytesSent += 1000;
      stream.bytesSent += 1000;
    }, 10);
    try {
      await waitFor(() => (ticks.length >= 3 ? true : undefined), { what: 'three ticks', timeoutMs: 5_000 });
    } finally {
      clearInterval(feed);
    }
    const snap = model.snapshot();
    assert.ok(snap.totals.rateDown > 0, `rate ${snap.totals.rateDown}`);
    assert.equal(snap.totals.rateUp, 0);
    assert.ok(snap.streams[0].rateDown > 0);
    assert.ok(snap.tunnels[0].rateDown > 0);
    assert.ok(snap.throughput.length >= 3);
    assert.ok(snap.throughput.some((sample) => sample.down > 0));
    // The event stream's copy is serialized once per tick and shared.
    assert.equal(model.tickJson(), model.tickJson());
    assert.equal((JSON.parse(ticks.at(-1)!) as { version: string }).version, snap.version);
  });

  it('counts failures by reason and by reply code, and feeds the metrics', async () => {
    model = new StatusModel();
    const tunnel = model.addTunnel({ remote: 'a:1', tokenName: 'token-1', counters: counters() });
    const refused = new FakeStream(1);
    tunnel.addStream(refused, Command.Connect, { host: '127.0.0.1', port: 1 });
    model.refused(refused, ReplyCode.ConnectionRefused, 'ECONNREFUSED', 1);
    refused.close();
    const open = new FakeStream(3, Command.Bind);
    tunnel.addStream(open, Command.Bind, { host: '127.0.0.1', port: 0 });
    model.countError('unauthorized-tunnel');
    model.countError('unauthorized-tunnel');

    assert.deepEqual(model.snapshot().totals.errors, { ECONNREFUSED: 1, 'unauthorized-tunnel': 2 });
    const text = await model.metrics.registry.metrics();
    assert.equal(metricValue(text, 'sockbridge_tunnels'), 1);
    assert.equal(metricValue(text, 'sockbridge_open_streams{kind="BIND"}'), 1);
    assert.equal(metricValue(text, 'sockbridge_open_streams{kind="CONNECT"}'), 0);
    assert.equal(metricValue(text, 'sockbridge_stream_opens_total{kind="CONNECT"}'), 1);
    assert.equal(metricValue(text, 'sockbridge_stream_open_failures_total{kind="CONNECT",reply_code="0x05",reply="connection_refused"}'), 1);
    assert.equal(metricValue(text, 'sockbridge_errors_total{reason="unauthorized-tunnel"}'), 2);
    assert.equal(metricValue(text, 'sockbridge_dial_duration_seconds_count{outcome="failed"}'), 1);
    assert.match(text, /^process_cpu_user_seconds_total /m); // prom-client's process metrics
  });

  it("serves prom-client's Node metrics but not GC durations, whose observer costs the data path full collections", async () => {
    model = new StatusModel();
    const text = await model.metrics.registry.metrics();
    for (const name of ['process_resident_memory_bytes', 'process_open_fds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_heap_space_size_used_bytes', 'nodejs_version_info']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} on /metrics`);
    }
    assert.doesNotMatch(text, /nodejs_gc_duration_seconds/);
  });

  it('reports bytes as a counter that only grows, even as tunnels come and go', async () => {
    model = new StatusModel();
    const c = counters();
    const tunnel = model.addTunnel({ remote: 'a:1', tokenName: 'token-1', counters: c });
    c.bytesReceived = 10;
    c.bytesSent = 20;
    let text = await model.metrics.registry.metrics();
    assert.equal(metricValue(text, 'sockbridge_bytes_total{direction="up"}'), 10);
    assert.equal(metricValue(text, 'sockbridge_bytes_total{direction="down"}'), 20);
    c.bytesSent = 50;
    tunnel.close();
    text = await model.metrics.registry.metrics();
    assert.equal(metricValue(text, 'sockbridge_bytes_total{direction="down"}'), 50);
    assert.equal(metricValue(text, 'sockbridge_tunnels'), 0);
  });

  it('emits close once and stops ticking', () => {
    model = new StatusModel({ tickMs: 10 });
    let closes = 0;
    model.on('close', () => (closes += 1));
    model.close();
    model.close();
    assert.equal(closes, 1);
  });
});

describe('throughput ring', () => {
  it('keeps the newest samples, oldest first', () => {
    const ring = new ThroughputRing(3);
    for (let t = 1; t <= 5; t++) ring.push({ t, up: t, down: 0 });
    assert.deepEqual(ring.toArray().map((s) => s.t), [3, 4, 5]);
    const short = new ThroughputRing(3);
    short.push({ t: 1, up: 0, down: 0 });
    assert.deepEqual(short.toArray().map((s) => s.t), [1]);
  });
});

describe('token names', () => {
  it('names command-line tokens by position and says which one matched', () => {
    const checker = new TokenChecker(['alpha', 'beta', 'alpha']);
    assert.equal(checker.match('beta'), 'token-2');
    assert.equal(checker.match('alpha'), 'token-1'); // the first of equal tokens
    assert.equal(checker.match('gamma'), null);
    assert.equal(checker.match(null), null);
    assert.equal(checker.accepts('beta'), true);
    assert.equal(checker.accepts('gamma'), false);
  });

  it('refuses an admin token that is empty or equal to a tunnel token', () => {
    assert.throws(() => resolveRelayConfig({ tokens: ['t'], adminToken: 't' }), (err: unknown) => err instanceof ConfigError && err.setting === '--admin-token');
    assert.throws(() => resolveRelayConfig({ tokens: ['t'], adminToken: '' }), (err: unknown) => err instanceof ConfigError && err.setting === '--admin-token');
    assert.equal(resolveRelayConfig({ tokens: ['t'], adminToken: 'a' }).adminToken, 'a');
    assert.equal(resolveRelayConfig({ tokens: ['t'] }).adminToken, null);
  });
});
