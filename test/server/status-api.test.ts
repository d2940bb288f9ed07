/**
 * The status API, event stream and metrics against a real relay and client on 127.0.0.1:
 * a CONNECT stream opened through SOCKS shows up with its destination, resolved address and
 * token name, its bytes grow while it transfers, and it disappears when it closes. Refused
 * dials count by reason and reply code. No token ever reaches the API. The demo prints a
 * status URL that works, and never logs its admin token.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { startPair, TEST_TOKEN, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { closedPort, type Target } from '../helpers/targets/targets.js';
import { rawSocks5Connect, socksConnect } from '../helpers/socks/socks-dial.js';
import { waitClose } from '../helpers/io/socket-io.js';
import { CliProcess, runCli } from '../helpers/processes/cli-process.js';
import { ADMIN_TOKEN, basicAuth, bearer, fetchMetrics, fetchStatus, metricValue, startDripTarget } from '../helpers/status/status-http.js';
import type { StatusSnapshot, StreamStatus } from '../../server/status/snapshot.js';
import { waitFor } from '../helpers/io/waiting.js';

const OPEN_CONNECT = 'sockbridge_open_streams{kind="CONNECT"}';

describe('status API and metrics through a real tunnel', () => {
  let pair: TunnelPair;
  let target: Target;
  let base: string;
  const sockets: Socket[] = [];

  before(async () => {
    pair = await startPair({ relay: { adminToken: ADMIN_TOKEN } });
    target = await startDripTarget();
    base = pair.relay.httpUrl;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await pair?.close();
    await target?.close();
  });

  const streamTo = (snap: StatusSnapshot, port: number): StreamStatus | undefined => snap.streams.find((s) => s.destination === `127.0.0.1:${port}`);

  it('shows a CONNECT stream while it transfers, with growing bytes, then forgets it', async () => {
    const before = await fetchStatus(base);
    assert.equal(before.totals.tunnels, 1);
    assert.equal(before.tunnels[0].tokenName, 'token-1');
    assert.match(before.tunnels[0].remote, /^127\.0\.0\.1:\d+$/);

    const socket = await socksConnect(pair.socksPort, target.port);
    sockets.push(socket);
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));

    const first = await waitFor(async () => {
      const stream = streamTo(await fetchStatus(base), target.port);
      return stream && stream.bytesDown > 0 ? stream : undefined;
    }, { what: 'the stream with some bytes' });
    assert.equal(first.kind, 'CONNECT');
    assert.equal(first.tunnelKind, 'tunnel');
    assert.equal(first.resolved, `127.0.0.1:${target.port}`);
    assert.equal(first.state, 'open');
    assert.equal(first.tunnel, before.tunnels[0].id);
    assert.ok(first.ageMs >= 0);

    const later = await waitFor(async () => {
      const stream = streamTo(await fetchStatus(base), target.port);
      return stream && stream.bytesDown > first.bytesDown + 32 * 1024 && stream.rateDown > 0 ? stream : undefined;
    }, { what: 'the byte count and rate to grow' });
    assert.ok(later.bytesDown > first.bytesDown);

    const snap = await fetchStatus(base);
    assert.equal(snap.totals.streams, 1);
    assert.ok(snap.totals.bytesDown >= later.bytesDown);
    assert.ok(snap.tunnels[0].bytesDown >= later.bytesDown);
    assert.equal(snap.tunnels[0].streams, 1);

    const metrics = await fetchMetrics(base);
    assert.equal(metricValue(metrics, OPEN_CONNECT), 1);
    assert.equal(metricValue(metrics, 'sockbridge_tunnels'), 1);
    const bytesDown = metricValue(metrics, 'sockbridge_bytes_total{direction="down"}') ?? 0;
    assert.ok(bytesDown >= later.bytesDown, `metric ${bytesDown} vs stream ${later.bytesDown}`);
    assert.ok((metricValue(metrics, 'sockbridge_dial_duration_seconds_count{outcome="succeeded"}') ?? 0) >= 1);
    const moreBytes = await waitFor(async () => {
      const value = metricValue(await fetchMetrics(base), 'sockbridge_bytes_total{direction="down"}') ?? 0;
      return value > bytesDown ? value : undefined;
    }, { what: 'the bytes metric to grow' });
    assert.ok(moreBytes > bytesDown);

    socket.destroy();
    await waitClose(socket);
    await waitFor(async () => (streamTo(await fetchStatus(base), target.port) ? undefined : true), { what: 'the stream to go away' });
    const afterClose = await fetchMetrics(base);
    assert.equal(metricValue(afterClose, OPEN_CONNECT), 0);
    assert.ok((metricValue(afterClose, 'sockbridge_stream_opens_total{kind="CONNECT"}') ?? 0) >= 1);
    assert.ok(received > 0);
  });

  it('counts a refused dial by reason and by reply code', async () => {
    const port = await closedPort();
    const { rep, socket } = await rawSocks5Connect(pair.socksPort, port);
    socket.destroy();
    assert.equal(rep, 0x05);
    const snap = await waitFor(async () => {
      const s = await fetchStatus(base);
      return (s.totals.errors.ECONNREFUSED ?? 0) >= 1 ? s : undefined;
    }, { what: 'the refusal to be counted' });
    assert.equal(streamTo(snap, port), undefined);
    const metrics = await fetchMetrics(base);
    assert.ok((metricValue(metrics, 'sockbridge_stream_open_failures_total{kind="CONNECT",reply_code="0x05",reply="connection_refused"}') ?? 0) >= 1);
    assert.ok((metricValue(metrics, 'sockbridge_dial_duration_seconds_count{outcome="failed"}') ?? 0) >= 1);
  });

  it('counts a tunnel refused for a wrong token, and never shows a token', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(pair.relay.url, { headers: { authorization: bearer('wrong') } });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('error', () => {});
      ws.on('open', () => reject(new Error('a wrong token opened a tunnel')));
    });
    assert.equal(status, 404, 'answered as any unknown request');
    const snap = await waitFor(async () => {
      const s = await fetchStatus(base);
      return (s.totals.errors['unauthorized-tunnel'] ?? 0) >= 1 ? s : undefined;
    }, { what: 'the refused tunnel to be counted' });
    const everything = JSON.stringify(snap) + (await fetchMetrics(base));
    assert.ok(!everything.includes(TEST_TOKEN), 'the tunnel token leaked');
    assert.ok(!everything.includes(ADMIN_TOKEN), 'the admin token leaked');
  });

  it('streams a snapshot a second as Server-Sent Events', async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 8_000);
    try {
      const response = await fetch(new URL('api/events', base), { headers: { authorization: basicAuth(ADMIN_TOKEN) }, signal: controller.signal });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const decoder = new TextDecoder();
      const reader = response.body!.getReader();
      let text = '';
      const started = Date.now();
      while ((text.match(/\n\n/g) ?? []).length < 3) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const events = text.split('\n\n').filter((block) => block.startsWith('event: status'));
      assert.ok(events.length >= 3, text.slice(0, 500));
      assert.ok(Date.now() - started >= 1_000, 'updates come once a second, not faster');
      const data = JSON.parse(/^data: (.*)$/m.exec(events[1])![1]) as StatusSnapshot;
      assert.equal(data.totals.tunnels, 1);
      assert.match(events[0], /^retry: \d+$/m);
      await reader.cancel();
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    // The relay lets go of the listener once the client has gone.
    await waitFor(() => (pair.relay.status.listenerCount('tick') === 0 ? true : undefined), { what: 'the event stream to be released', timeoutMs: 5_000 });
  });

  it('answers HEAD /api/events with the stream\'s headers and no stream, holding nothing after', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await fetch(new URL('api/events', base), { method: 'HEAD', headers: { authorization: basicAuth(ADMIN_TOKEN) }, signal: AbortSignal.timeout(5_000) });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    }
    await waitFor(() => (pair.relay.status.listenerCount('tick') === 0 ? true : undefined), { what: 'no event stream left behind by HEAD', timeoutMs: 5_000 });
  });

  it('answers 401 over HTTP without the admin token, and keeps /healthz open', async () => {
    for (const path of ['', 'api/status', 'api/events', 'metrics']) {
      const response = await fetch(new URL(path, base), { signal: AbortSignal.timeout(5_000) });
      assert.equal(response.status, 401, path);
      // A neutral realm and body: the prompt names no product.
      assert.equal(response.headers.get('www-authenticate'), 'Basic realm="restricted", charset="UTF-8"');
      assert.doesNotMatch(await response.text(), /sockbridge|tunnel/i);
    }
    const health = await fetch(new URL('healthz', base), { signal: AbortSignal.timeout(5_000) });
    assert.equal(health.status, 200);
  });
});

describe('status routes from the command line', () => {
  it('documents --admin-token in relay --help', async () => {
    const { code, stdout } = await runCli(['relay', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /--admin-token TOKEN/);
    assert.match(stdout, /SOCKBRIDGE_ADMIN_TOKEN/);
  });

  it('sockbridge demo prints a status URL and an admin token that work, and never logs the token', async () => {
    const demo = new CliProcess(['demo', '--socks', '127.0.0.1:0', '--log-level', 'debug']);
    try {
      const [, url] = await demo.waitFor(/status: (http:\/\/127\.0\.0\.1:\d+\/)/, 10_000);
      const [, password] = await demo.waitFor(/password (\S+)/);
      assert.equal((await fetch(url, { signal: AbortSignal.timeout(5_000) })).status, 401);
      const page = await fetch(url, { headers: { authorization: basicAuth(password, 'anyone') }, signal: AbortSignal.timeout(5_000) });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<status-app>/);
      const snap = await fetchStatus(url, password);
      await waitFor(async () => ((await fetchStatus(url, password)).totals.tunnels === 1 ? true : undefined), { what: 'the demo tunnel' });
      assert.equal(snap.version.length > 0, true);
      assert.ok(!demo.stderr.includes(password), 'the admin token appeared in the log');
    } finally {
      demo.signal('SIGTERM');
      await demo.stop();
    }
  });
});
