/**
 * Destination access control end to end, real sockets on loopback only: with no rules the
 * safe default keeps the relay out of its own host (CONNECT refused with REP 0x02 / CD 91
 * before any dial, names checked after they resolve, UDP dropped), --allow opens it,
 * --deny ahead of an --allow closes one port or one name, and the relay command takes the
 * rules in the order given and refuses a bad one with exit 2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SocksClient } from 'socks';
import { startClient, type Client } from '../../client/client.js';
import { createLogger, type LogLevel, type Logger } from '../../common/log.js';
import { parseTargetRule, type TargetRule } from '../../server/policy/target-rule.js';
import { CliProcess, runCli } from '../helpers/processes/cli-process.js';
import { curl } from '../helpers/socks/curl.js';
import { RawPeer, readSocks5Reply } from '../helpers/socks/raw-peer.js';
import {
  CMD_CONNECT,
  greeting,
  METHOD_NO_AUTH,
  methodSelection,
  SOCKS4_GRANTED,
  SOCKS4_REJECTED,
  socks4Request,
  socks5Request,
} from '../helpers/socks/socks-encoder.js';

import { startEchoTarget, startHttpTarget, type Target } from '../helpers/targets/targets.js';
import { startPair, TEST_TOKEN, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { UdpInbox, socksAssociate, startUdpEcho, type UdpEcho } from '../helpers/io/udp-io.js';
import { REP_NOT_ALLOWED, REP_SUCCEEDED } from '../helpers/socks/socks-replies.js';
import { waitFor } from '../helpers/io/waiting.js';

const LOOPBACK = '127.0.0.1';
const BODY = 'behind the policy\n';
/** curl's CURLE_PROXY: the proxy answered and refused (7 would mean the proxy was unreachable). */
const CURLE_PROXY = 97;
const EXIT_USAGE = 2;
const WAIT_MS = 5_000;
/** How long a dropped datagram is given to come back anyway. */
const SILENCE_MS = 400;
/** A process start loads the whole program; on a loaded CI machine that can take seconds. */
const START_WAIT_MS = 15_000;
const LOG_LEVEL = (process.env.SOCKBRIDGE_TEST_LOG_LEVEL ?? 'silent') as LogLevel;

const allow = (text: string): TargetRule => parseTargetRule('allow', text);
const deny = (text: string): TargetRule => parseTargetRule('deny', text);

/** A relay logger keeping every line, so a test can look for the refusal and the rule it names. */
function captureLogs(): { logger: Logger; lines: string[]; waitForRefusal(rule: string): Promise<void> } {
  const lines: string[] = [];
  const logger = createLogger('relay', 'debug', (line) => {
    lines.push(line);
    if (LOG_LEVEL !== 'silent') process.stderr.write(line);
  });
  const refusalNaming = (rule: string) => lines.some((line) => /refused/i.test(line) && line.includes(rule));
  return {
    logger,
    lines,
    waitForRefusal: async (rule) => {
      await waitFor(() => refusalNaming(rule), { what: () => `a relay log line "refused … ${rule}"\n${lines.join('')}`, timeoutMs: WAIT_MS });
    },
  };
}

/** How many connections `target` has accepted so far. */
function connectionCounter(target: Target): () => number {
  let count = 0;
  target.server.on('connection', () => (count += 1));
  return () => count;
}

/**
 * A no-auth SOCKS5 CONNECT to host:port (an IP gets its ATYP, anything else goes as a name;
 * `asName` sends even an IP as a name); the REP and the open peer.
 */
async function socks5Connect(socksPort: number, host: string, port: number, asName = false): Promise<{ rep: number; peer: RawPeer }> {
  const peer = await RawPeer.connect(socksPort);
  try {
    peer.write(greeting(METHOD_NO_AUTH));
    assert.deepEqual(await peer.read(2), methodSelection(METHOD_NO_AUTH), 'method selection');
    peer.write(socks5Request(CMD_CONNECT, host, port, { asName }));
    const reply = await readSocks5Reply(peer, WAIT_MS);
    return { rep: reply.reply, peer };
  } catch (err) {
    peer.destroy();
    throw err;
  }
}

/** Asserts REP 0x02 for host:port and that the proxy then closes. */
async function expectNotAllowed(socksPort: number, host: string, port: number, asName = false): Promise<void> {
  const { rep, peer } = await socks5Connect(socksPort, host, port, asName);
  try {
    assert.equal(rep, REP_NOT_ALLOWED, `REP for ${host}:${port}`);
    await peer.waitEnd();
  } finally {
    peer.destroy();
  }
}

/** Asserts REP 0x00 for host:port and that bytes go through to the echo target and back. */
async function expectEchoed(socksPort: number, host: string, port: number): Promise<void> {
  const { rep, peer } = await socks5Connect(socksPort, host, port);
  try {
    assert.equal(rep, REP_SUCCEEDED, `REP for ${host}:${port}`);
    peer.write('through the policy');
    assert.equal((await peer.read(18)).toString(), 'through the policy');
  } finally {
    peer.destroy();
  }
}

/** A SOCKS4 (IPv4) or SOCKS4a (name) CONNECT; resolves with CD. */
async function socks4Cd(socksPort: number, host: string, port: number): Promise<number> {
  const peer = await RawPeer.connect(socksPort);
  try {
    peer.write(socks4Request(CMD_CONNECT, host, port, 'me'));
    const reply = await peer.read(8);
    assert.equal(reply[0], 0x00, 'VN of a SOCKS4 reply');
    return reply[1];
  } finally {
    peer.destroy();
  }
}

/** An associate through `socksPort`, one datagram to host:echoPort; resolves with the answer's payload, or null after SILENCE_MS. */
async function udpRoundTrip(socksPort: number, host: string, echoPort: number, payload: string): Promise<string | null> {
  const app = await UdpInbox.bind(LOOPBACK);
  let control: { destroy(): void } | null = null;
  try {
    const association = await socksAssociate(socksPort, { host: '0.0.0.0', port: 0 });
    control = association.control;
    const frame = SocksClient.createUDPFrame({ remoteHost: { host, port: echoPort }, data: Buffer.from(payload) });
    await app.send(frame, association.relay.port, association.relay.host);
    try {
      const answer = await app.next(SILENCE_MS);
      return SocksClient.parseUDPFrame(answer.data).data.toString();
    } catch {
      return null;
    }
  } finally {
    control?.destroy();
    app.close();
  }
}

describe('access control: no rules, the safe default refuses loopback', () => {
  let pair: TunnelPair;
  let http: Target;
  let echo: Target;
  let udpEcho: UdpEcho;
  let httpConnections: () => number;
  let echoConnections: () => number;
  const logs = captureLogs();

  before(async () => {
    http = await startHttpTarget(BODY);
    echo = await startEchoTarget();
    udpEcho = await startUdpEcho(LOOPBACK);
    httpConnections = connectionCounter(http);
    echoConnections = connectionCounter(echo);
    pair = await startPair({ relay: { rules: [], logger: logs.logger } });
  });

  after(async () => {
    await pair?.close();
    await http?.close();
    await echo?.close();
    udpEcho?.close();
  });

  test('curl --socks5-hostname to http://127.0.0.1 fails as refused by the proxy; the target sees no connection; the relay logs the default rule', async () => {
    const result = await curl(['--socks5-hostname', `${LOOPBACK}:${pair.socksPort}`, `http://${LOOPBACK}:${http.port}/`]);
    assert.equal(result.code, CURLE_PROXY, `curl exit; stderr: ${result.stderr}`);
    assert.equal(result.stdout, '');
    assert.equal(httpConnections(), 0, 'the relay never dialed');
    await logs.waitForRefusal('default: loopback');
  });

  test('raw SOCKS5 CONNECT to 127.0.0.1:port: REP 0x02, no dial', async () => {
    await expectNotAllowed(pair.socksPort, LOOPBACK, echo.port);
    assert.equal(echoConnections(), 0);
  });

  test('names resolving to loopback are judged by the address they resolve to: localhost, LocalHost, 127.1, 0x7f000001, 2130706433, "127.0.0.1" as a name', async () => {
    for (const name of ['localhost', 'LocalHost', '127.1', '0x7f000001', '2130706433']) {
      await expectNotAllowed(pair.socksPort, name, echo.port);
    }
    await expectNotAllowed(pair.socksPort, LOOPBACK, echo.port, true); // "127.0.0.1" sent as ATYP DOMAIN
    assert.equal(echoConnections(), 0, 'DNS did not slip past the policy');
  });

  test('an IPv6 address carrying a private IPv4 one (NAT64 64:ff9b::a00:1, as behind DNS64) is refused before any dial; the log names the form', async () => {
    await expectNotAllowed(pair.socksPort, '64:ff9b::a00:1', echo.port);
    await logs.waitForRefusal('default: private (via NAT64 64:ff9b::/96)');
  });

  test('other addresses reaching this host are refused too: ::ffff:127.0.0.1 (ATYP IPv6), 0.0.0.0, the name "0", ::1', async () => {
    for (const host of ['::ffff:127.0.0.1', '0.0.0.0', '0', '::1']) {
      await expectNotAllowed(pair.socksPort, host, echo.port);
    }
    assert.equal(echoConnections(), 0);
  });

  test('SOCKS4 CONNECT to 127.0.0.1 and SOCKS4a to localhost: CD 91', async () => {
    assert.equal(await socks4Cd(pair.socksPort, LOOPBACK, echo.port), SOCKS4_REJECTED, 'SOCKS4');
    assert.equal(await socks4Cd(pair.socksPort, 'localhost', echo.port), SOCKS4_REJECTED, 'SOCKS4a');
    assert.equal(echoConnections(), 0);
  });

  test('a UDP datagram to a 127.0.0.1 echo, by address or as localhost, is dropped: no reply, the echo never sees it', async () => {
    assert.equal(await udpRoundTrip(pair.socksPort, LOOPBACK, udpEcho.port, 'should not pass'), null);
    assert.equal(await udpRoundTrip(pair.socksPort, 'localhost', udpEcho.port, 'nor by name'), null);
    assert.equal(udpEcho.count, 0);
  });
});

describe('access control: --allow 127.0.0.0/8', () => {
  let pair: TunnelPair;
  let http: Target;
  let echo: Target;
  let udpEcho: UdpEcho;

  before(async () => {
    http = await startHttpTarget(BODY);
    echo = await startEchoTarget();
    udpEcho = await startUdpEcho(LOOPBACK);
    pair = await startPair({ relay: { rules: [allow('127.0.0.0/8')] } });
  });

  after(async () => {
    await pair?.close();
    await http?.close();
    await echo?.close();
    udpEcho?.close();
  });

  test('curl --socks5-hostname, a raw SOCKS5 CONNECT, a name resolving to 127.0.0.1 and SOCKS4 all go through', async () => {
    const result = await curl(['--socks5-hostname', `${LOOPBACK}:${pair.socksPort}`, `http://${LOOPBACK}:${http.port}/`]);
    assert.equal(result.stdout, BODY, `curl exit ${result.code}: ${result.stderr}`);
    await expectEchoed(pair.socksPort, LOOPBACK, echo.port);
    await expectEchoed(pair.socksPort, 'localhost', echo.port);
    assert.equal(await socks4Cd(pair.socksPort, LOOPBACK, echo.port), SOCKS4_GRANTED);
  });

  test('an IPv4 rule does not open ::1: REP 0x02', async () => {
    await expectNotAllowed(pair.socksPort, '::1', echo.port);
  });

  test('a UDP datagram to the 127.0.0.1 echo comes back', async () => {
    assert.equal(await udpRoundTrip(pair.socksPort, LOOPBACK, udpEcho.port, 'allowed datagram'), 'allowed datagram');
  });
});

describe('access control: a --deny ahead of an --allow', () => {
  let pair: TunnelPair;
  let closedOne: Target;
  let openOne: Target;
  let closedConnections: () => number;
  const logs = captureLogs();

  before(async () => {
    closedOne = await startEchoTarget();
    openOne = await startEchoTarget();
    closedConnections = connectionCounter(closedOne);
    const rules = [deny(`${LOOPBACK}:${closedOne.port}`), deny('localhost'), allow('127.0.0.0/8')];
    pair = await startPair({ relay: { rules, logger: logs.logger } });
  });

  after(async () => {
    await pair?.close();
    await closedOne?.close();
    await openOne?.close();
  });

  test('deny 127.0.0.1:PORT then allow 127.0.0.0/8: that port refused and logged by its rule, another port served', async () => {
    await expectNotAllowed(pair.socksPort, LOOPBACK, closedOne.port);
    assert.equal(closedConnections(), 0);
    await logs.waitForRefusal(`--deny ${LOOPBACK}:${closedOne.port}`);
    await expectEchoed(pair.socksPort, LOOPBACK, openOne.port);
  });

  test('deny localhost (a name rule) refuses localhost in any case while 127.0.0.1 itself is allowed', async () => {
    await expectNotAllowed(pair.socksPort, 'localhost', openOne.port);
    await expectNotAllowed(pair.socksPort, 'LOCALHOST', openOne.port);
    await logs.waitForRefusal('--deny localhost');
    await expectEchoed(pair.socksPort, LOOPBACK, openOne.port);
  });
});

describe('access control: --allow localhost (a name rule)', () => {
  let pair: TunnelPair;
  let echo: Target;

  before(async () => {
    echo = await startEchoTarget();
    pair = await startPair({ relay: { rules: [allow('localhost')] } });
  });

  after(async () => {
    await pair?.close();
    await echo?.close();
  });

  test('the name is served though it resolves to loopback; 127.0.0.1 asked by address is still refused', async () => {
    await expectEchoed(pair.socksPort, 'localhost', echo.port);
    await expectNotAllowed(pair.socksPort, LOOPBACK, echo.port);
  });
});

describe('access control: the relay command', () => {
  let http: Target;
  let second: Target;

  before(async () => {
    http = await startHttpTarget(BODY);
    second = await startHttpTarget(BODY);
  });

  after(async () => {
    await http?.close();
    await second?.close();
  });

  /** A relay process with `rules` and an in-process client to it; all of it pushed to `started`. */
  async function relayWithClient(started: Array<{ stop(): Promise<void> }>, rules: string[]): Promise<{ relay: CliProcess; socks: string }> {
    const relay = new CliProcess(['relay', '--listen', '127.0.0.1:0', '--token', TEST_TOKEN, '--log-level', 'info', ...rules]);
    started.push(relay);
    const [, address] = await relay.waitFor(/relay listening address=(\S+)/, START_WAIT_MS);
    const client: Client = await startClient({
      relayUrl: `ws://${address}/tunnel`,
      token: TEST_TOKEN,
      socks: { host: LOOPBACK, port: 0 },
      logger: createLogger('client', LOG_LEVEL),
    });
    started.push({ stop: () => client.close() });
    await client.tunnel.getSession();
    return { relay, socks: `${LOOPBACK}:${client.socksAddress.port}` };
  }

  const fetchThrough = (socks: string, port: number) => curl(['--socks5-hostname', socks, `http://${LOOPBACK}:${port}/`]);

  test('--allow 127.0.0.0/8 serves curl; without it curl is refused and the relay logs the rule; interleaved --allow/--deny keep their order', async () => {
    const started: Array<{ stop(): Promise<void> }> = [];
    try {
      const [allowing, defaulting, ordered] = await Promise.all([
        relayWithClient(started, ['--allow', '127.0.0.0/8']),
        relayWithClient(started, []),
        // Correct order: http's port allowed, the rest of loopback denied. Allows-then-denies
        // would serve `second`; denies-then-allows would refuse `http`.
        relayWithClient(started, ['--allow', `${LOOPBACK}:${http.port}`, '--deny', '127.0.0.0/8', '--allow', '127.0.0.0/8']),
      ]);

      const served = await fetchThrough(allowing.socks, http.port);
      assert.equal(served.stdout, BODY, `with --allow: curl exit ${served.code}: ${served.stderr}`);

      const refused = await fetchThrough(defaulting.socks, http.port);
      assert.equal(refused.code, CURLE_PROXY, `without rules: curl exit; stderr: ${refused.stderr}`);
      assert.equal(refused.stdout, '');
      await defaulting.relay.waitFor(/refused.*default: loopback/, WAIT_MS);

      const first = await fetchThrough(ordered.socks, http.port);
      assert.equal(first.stdout, BODY, `the first --allow decides for its port: curl exit ${first.code}: ${first.stderr}`);
      const other = await fetchThrough(ordered.socks, second.port);
      assert.equal(other.code, CURLE_PROXY, `the --deny ahead of the last --allow decides for another port; stderr: ${other.stderr}`);
      await ordered.relay.waitFor(/refused.*--deny 127\.0\.0\.0\/8/, WAIT_MS);
    } finally {
      await Promise.all(started.reverse().map((item) => item.stop()));
    }
  });

  test('a bad TARGET exits 2 with one stderr line naming the flag and the text', async () => {
    const cases: Array<[string, string]> = [
      ['--allow', '10.0.0.0/33'],
      ['--deny', 'a b'],
      ['--allow', '[::1'],
    ];
    const results = await Promise.all(
      cases.map(([flag, text]) => runCli(['relay', '--listen', '127.0.0.1:0', '--token', TEST_TOKEN, '--allow', '127.0.0.0/8', flag, text], {}, START_WAIT_MS)),
    );
    results.forEach((result, i) => {
      const [flag, text] = cases[i];
      assert.equal(result.code, EXIT_USAGE, `${flag} ${text}: exit code; stderr: ${result.stderr}`);
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
      assert.ok(lines[0].includes(flag), `"${lines[0]}" names ${flag}`);
      assert.ok(lines[0].includes(text), `"${lines[0]}" names ${JSON.stringify(text)}`);
      assert.equal(result.stdout, '');
    });
  });
});
