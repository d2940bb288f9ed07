/**
 * The relay over TLS (--tls-cert/--tls-key) and the client's ways to trust it: a private CA
 * (--ca), a pinned fingerprint (--fingerprint), and neither (Node's default verification,
 * which a self-signed relay fails). Also the client reaching the relay through an HTTP
 * CONNECT proxy (--http-proxy), over ws and over wss, and a proxy that refuses.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, type Logger } from '../../common/log.js';
import type { ClientConfig } from '../../client/config.js';
import type { RelayConfig } from '../../server/config.js';
import { curl } from '../helpers/socks/curl.js';
import { startHttpTarget, type Target } from '../helpers/targets/targets.js';
import { rawSocks5Connect } from '../helpers/socks/socks-dial.js';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { makeSelfSignedCert, opensslMissing, type TestCert } from '../helpers/fixtures/self-signed-cert.js';
import { startConnectProxy, type ConnectProxy } from '../helpers/links/connect-proxy.js';
import { REP_GENERAL_FAILURE } from '../helpers/socks/socks-replies.js';

const BODY = 'hello over a tunnel that went through TLS or a proxy\n';
/** Short: the failing cases wait this long for a tunnel that must never come. */
const TUNNEL_WAIT_MS = 1_000;
const FAST_RECONNECT: Partial<ClientConfig> = { reconnectMinMs: 50, reconnectMaxMs: 200, tunnelWaitMs: TUNNEL_WAIT_MS };
const WRONG_FINGERPRINT = 'ab'.repeat(32);

interface Captured {
  logger: Logger;
  lines: string[];
}

function capture(name: string): Captured {
  const lines: string[] = [];
  return { lines, logger: createLogger(name, 'info', (line) => lines.push(line)) };
}

async function fetchThrough(pair: TunnelPair, target: Target): Promise<void> {
  const result = await curl(['--socks5-hostname', `127.0.0.1:${pair.socksPort}`, `http://127.0.0.1:${target.port}/`]);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 0);
  assert.equal(result.stdout, BODY);
}

/** The tunnel never came up: a request fails with 0x01 after tunnelWaitMs, no connection counted. */
async function assertNoTunnel(pair: TunnelPair, target: Target): Promise<void> {
  const { rep, socket } = await rawSocks5Connect(pair.socksPort, target.port, TUNNEL_WAIT_MS + 5_000);
  socket.destroy();
  assert.equal(rep, REP_GENERAL_FAILURE);
  assert.equal(pair.client.tunnel.connections, 0);
  assert.equal(pair.relay.sessions.size, 0);
}

const skipTls = opensslMissing();
if (skipTls) console.log(`# ${skipTls}`);

describe('relay over TLS', { skip: skipTls, timeout: 60_000 }, () => {
  let cert: TestCert;
  let target: Target;
  let tlsRelay: Partial<RelayConfig>;

  before(async () => {
    cert = await makeSelfSignedCert();
    target = await startHttpTarget(BODY);
    tlsRelay = { tls: { cert: cert.cert, key: cert.key } };
  });
  after(async () => {
    await target?.close();
    await cert?.remove();
  });

  it('serves wss:// and https://, and a client with --ca tunnels through it', async () => {
    const pair = await startPair({ relay: tlsRelay, client: { ca: cert.cert } });
    try {
      assert.match(pair.relay.url, /^wss:\/\/127\.0\.0\.1:\d+\/tunnel$/);
      assert.match(pair.relay.httpUrl, /^https:\/\//);
      await fetchThrough(pair, target);
      const health = await curl(['--cacert', cert.certFile, `${pair.relay.httpUrl}healthz`]);
      assert.equal(health.code, 0, health.stderr);
    } finally {
      await pair.close();
    }
  });

  it('without --ca the self-signed relay is refused, the error names --ca, and the client keeps retrying', async () => {
    const log = capture('client');
    const pair = await startPair({ relay: tlsRelay, client: { ...FAST_RECONNECT, logger: log.logger } });
    try {
      await assertNoTunnel(pair, target);
      const errors = log.lines.filter((line) => / error .*relay connection failed.*--ca/.test(line));
      assert.ok(errors.length >= 2, `expected repeated errors naming --ca:\n${log.lines.join('')}`);
    } finally {
      await pair.close();
    }
  });

  for (const [form, pin] of [
    ['colon-separated uppercase', () => cert.fingerprint],
    ['plain lowercase hex', () => cert.fingerprint.replace(/:/g, '').toLowerCase()],
  ] as const) {
    it(`the right --fingerprint (${form}) without --ca works`, async () => {
      const pair = await startPair({ relay: tlsRelay, client: { fingerprint: pin() } });
      try {
        await fetchThrough(pair, target);
      } finally {
        await pair.close();
      }
    });
  }

  it('a wrong --fingerprint never opens a session: the relay sees no upgrade, the error names --fingerprint', async () => {
    const clientLog = capture('client');
    const relayLog = capture('relay');
    const pair = await startPair({ relay: { ...tlsRelay, logger: relayLog.logger }, client: { ...FAST_RECONNECT, fingerprint: WRONG_FINGERPRINT, logger: clientLog.logger } });
    try {
      await assertNoTunnel(pair, target);
      assert.ok(clientLog.lines.some((line) => / error .*--fingerprint/.test(line)), clientLog.lines.join(''));
      // Not even a refused upgrade: the token never left the client.
      assert.ok(!relayLog.lines.some((line) => /tunnel (opened|refused)/.test(line)), relayLog.lines.join(''));
    } finally {
      await pair.close();
    }
  });

  it('through an HTTP CONNECT proxy over wss:// with --ca', async () => {
    const proxy = await startConnectProxy();
    try {
      const pair = await startPair({ relay: tlsRelay, client: { ca: cert.cert, httpProxy: `http://127.0.0.1:${proxy.port}` } });
      try {
        await fetchThrough(pair, target);
        assert.deepEqual(proxy.requests, [`127.0.0.1:${pair.relay.address.port}`]);
      } finally {
        await pair.close();
      }
    } finally {
      await proxy.close();
    }
  });

  it('through an HTTP CONNECT proxy over wss:// with a pinned --fingerprint', async () => {
    const proxy = await startConnectProxy();
    try {
      const pair = await startPair({ relay: tlsRelay, client: { fingerprint: cert.fingerprint, httpProxy: `http://127.0.0.1:${proxy.port}` } });
      try {
        await fetchThrough(pair, target);
        assert.equal(proxy.established, 1);
      } finally {
        await pair.close();
      }
    } finally {
      await proxy.close();
    }
  });
});

describe('client through an HTTP CONNECT proxy (--http-proxy)', { timeout: 60_000 }, () => {
  let target: Target;
  before(async () => {
    target = await startHttpTarget(BODY);
  });
  after(async () => {
    await target?.close();
  });

  it('reaches a ws:// relay through a proxy that checks Basic credentials', async () => {
    const proxy = await startConnectProxy({ credentials: { username: 'proxy user', password: 'p@ss:word' } });
    try {
      const httpProxy = `http://${encodeURIComponent('proxy user')}:${encodeURIComponent('p@ss:word')}@127.0.0.1:${proxy.port}`;
      const pair = await startPair({ client: { httpProxy } });
      try {
        await fetchThrough(pair, target);
        assert.deepEqual(proxy.requests, [`127.0.0.1:${pair.relay.address.port}`]);
        assert.equal(proxy.established, 1);
      } finally {
        await pair.close();
      }
    } finally {
      await proxy.close();
    }
  });

  for (const [what, proxyOptions, userInfo] of [
    ['a proxy answering 407', { forceAnswer: '407 Proxy Authentication Required' }, ''],
    ['a proxy refusing wrong credentials', { credentials: { username: 'u', password: 'right' } }, 'u:wrong@'],
  ] as const) {
    it(`${what}: no tunnel, and the error names --http-proxy and the status line`, async () => {
      const proxy = await startConnectProxy(proxyOptions);
      const log = capture('client');
      try {
        const pair = await startPair({ client: { ...FAST_RECONNECT, httpProxy: `http://${userInfo}127.0.0.1:${proxy.port}`, logger: log.logger } });
        try {
          await assertNoTunnel(pair, target);
          const errors = log.lines.filter((line) => / error .*--http-proxy.*407/.test(line));
          assert.ok(errors.length >= 2, `expected repeated errors naming --http-proxy:\n${log.lines.join('')}`);
          assert.ok(!log.lines.join('').includes('wrong'), 'the proxy password must not be logged');
          assert.ok(proxy.requests.length >= 2, 'the client retries');
        } finally {
          await pair.close();
        }
      } finally {
        await proxy.close();
      }
    });
  }
});
