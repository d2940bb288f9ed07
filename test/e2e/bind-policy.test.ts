/**
 * BIND judged by the destination rules with command `bind`: the peer the request names
 * (refused: first reply 0x02, nothing listens) and the peer that actually connects
 * (refused: it is disconnected, second reply 0x02, the stream closes). Real relay and
 * client, the `socks` package and raw SOCKS5 bytes where the exact reply byte matters;
 * each refusal's log line names the rule.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../common/log.js';
import { parseTargetRule, type TargetRule } from '../../server/policy/target-rule.js';
import { RawPeer, readSocks5Reply, type Socks5Reply } from '../helpers/socks/raw-peer.js';
import { CMD_BIND, CMD_CONNECT, greeting, METHOD_NO_AUTH, methodSelection, socks5Request } from '../helpers/socks/socks-encoder.js';
import { SocketReader } from '../helpers/io/socket-reader.js';
import { socksBind } from '../helpers/socks/socks-bind.js';

import { connectFrom } from '../helpers/io/tcp-ports.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import { REP_NOT_ALLOWED, REP_SUCCEEDED } from '../helpers/socks/socks-replies.js';
import { waitFor } from '../helpers/io/waiting.js';

const LOOPBACK = '127.0.0.1';
/** Other loopback addresses: all of 127.0.0.0/8 is local on Linux. */
const DENIED_PEER = '127.0.0.2';
const DENIED_EXPECTED = '127.0.0.3';
const FTP_DATA_PORT = 20;

const bindOnly = (action: 'allow' | 'deny', target: string): TargetRule => parseTargetRule(action, target, { commands: ['bind'] });

/** A pair whose relay log lines are kept, so a test can read the line naming a rule. */
async function pairWithRules(rules: TargetRule[]): Promise<{ pair: TunnelPair; log: string[] }> {
  const log: string[] = [];
  const pair = await startPair({ relay: { rules, logger: createLogger('relay', 'info', (line) => log.push(line)) } });
  return { pair, log };
}

/** A raw SOCKS5 request; resolves with the peer, past the method selection, and the first reply. */
async function rawSocks5(socksPort: number, command: number, host: string, port: number): Promise<{ peer: RawPeer; first: Socks5Reply }> {
  const peer = await RawPeer.connect(socksPort);
  try {
    peer.write(greeting(METHOD_NO_AUTH));
    assert.deepEqual(await peer.read(2), methodSelection(METHOD_NO_AUTH));
    peer.write(socks5Request(command, host, port));
    return { peer, first: await readSocks5Reply(peer) };
  } catch (err) {
    peer.destroy();
    throw err;
  }
}

const logged = (log: string[], message: string, rule: string): boolean => log.some((line) => line.includes(message) && line.includes(rule));

describe('BIND under a bind-only allow rule', () => {
  let pair: TunnelPair;
  let echo: Target;
  before(async () => {
    echo = await startEchoTarget();
    ({ pair } = await pairWithRules([bindOnly('allow', '127.0.0.0/8')]));
  });
  after(async () => {
    await pair.close();
    await echo.close();
  });

  test('a BIND naming loopback is allowed, its peer is accepted and data flows; a CONNECT to the same place is still refused', async () => {
    const bind = await socksBind(pair.socksPort, 5, { host: LOOPBACK, port: FTP_DATA_PORT });
    try {
      const announced = await bind.bound();
      const app = await connectFrom(announced.host, announced.port, LOOPBACK);
      try {
        assert.deepEqual(await bind.established(), { host: app.localAddress, port: app.localPort });
        app.write('220 hello');
        assert.equal((await new SocketReader(bind.socket).read(9)).toString(), '220 hello');
      } finally {
        app.destroy();
      }
    } finally {
      bind.close();
    }
    const connect = await rawSocks5(pair.socksPort, CMD_CONNECT, LOOPBACK, echo.port);
    try {
      assert.equal(connect.first.reply, REP_NOT_ALLOWED, 'the rule names bind only; CONNECT falls to the safe default');
    } finally {
      connect.peer.destroy();
    }
  });
});

describe('BIND refused by the rules', () => {
  let pair: TunnelPair;
  let log: string[];
  before(async () => {
    ({ pair, log } = await pairWithRules([bindOnly('deny', DENIED_EXPECTED), bindOnly('deny', DENIED_PEER), bindOnly('allow', '127.0.0.0/8')]));
  });
  after(async () => {
    await pair.close();
  });

  test(`a BIND naming ${DENIED_EXPECTED} (a deny rule): first reply 0x02, the connection ends, the log names the rule`, async () => {
    const { peer, first } = await rawSocks5(pair.socksPort, CMD_BIND, DENIED_EXPECTED, FTP_DATA_PORT);
    try {
      assert.equal(first.reply, REP_NOT_ALLOWED);
      await peer.waitEnd();
      assert.ok(logged(log, 'bind refused by policy', `deny ${DENIED_EXPECTED} (bind)`), log.join(''));
    } finally {
      peer.destroy();
    }
  });

  test(`a BIND naming 0.0.0.0: a peer from ${DENIED_PEER} is disconnected, the second reply is 0x02 and the stream closes`, async () => {
    const { peer, first } = await rawSocks5(pair.socksPort, CMD_BIND, '0.0.0.0', 0);
    try {
      assert.equal(first.reply, REP_SUCCEEDED, 'any peer may be expected; the one that connects is judged');
      const appSocket = await connectFrom(first.host, first.port, DENIED_PEER);
      const app = new SocketReader(appSocket);
      try {
        assert.equal((await readSocks5Reply(peer)).reply, REP_NOT_ALLOWED);
        await peer.waitEnd();
        await app.waitEnd(); // the relay disconnected the refused peer
        assert.equal(app.unread, 0, 'the refused peer got no bytes');
      } finally {
        appSocket.destroy();
      }
      assert.ok(logged(log, 'bind: refused a connection by policy', `deny ${DENIED_PEER} (bind)`), log.join(''));
      await waitFor(() => [...pair.relay.sessions].every((session) => session.streams.size === 0), { what: 'the relay to drop the stream' });
    } finally {
      peer.destroy();
    }
  });

  test(`a BIND naming 0.0.0.0: a peer from ${LOOPBACK} is allowed by the rule after the deny rules`, async () => {
    const { peer, first } = await rawSocks5(pair.socksPort, CMD_BIND, '0.0.0.0', 0);
    try {
      assert.equal(first.reply, REP_SUCCEEDED);
      const app = await connectFrom(first.host, first.port, LOOPBACK);
      try {
        const second = await readSocks5Reply(peer);
        assert.equal(second.reply, REP_SUCCEEDED);
        assert.equal(second.port, app.localPort);
      } finally {
        app.destroy();
      }
    } finally {
      peer.destroy();
    }
  });
});

describe('BIND under the safe default (no rules)', () => {
  let pair: TunnelPair;
  let log: string[];
  before(async () => {
    ({ pair, log } = await pairWithRules([]));
  });
  after(async () => {
    await pair.close();
  });

  test('a BIND naming loopback: first reply 0x02, the log names the default; so does a BIND naming localhost', async () => {
    for (const host of [LOOPBACK, 'localhost']) {
      const { peer, first } = await rawSocks5(pair.socksPort, CMD_BIND, host, FTP_DATA_PORT);
      try {
        assert.equal(first.reply, REP_NOT_ALLOWED, host);
        await peer.waitEnd();
      } finally {
        peer.destroy();
      }
    }
    assert.ok(logged(log, 'bind refused by policy', 'default: loopback'), log.join(''));
  });

  test('a BIND naming 0.0.0.0 listens, but a peer from loopback is refused with 0x02', async () => {
    const { peer, first } = await rawSocks5(pair.socksPort, CMD_BIND, '0.0.0.0', 0);
    try {
      assert.equal(first.reply, REP_SUCCEEDED);
      const app = await connectFrom(first.host, first.port, LOOPBACK);
      try {
        assert.equal((await readSocks5Reply(peer)).reply, REP_NOT_ALLOWED);
        await peer.waitEnd();
      } finally {
        app.destroy();
      }
      assert.ok(logged(log, 'bind: refused a connection by policy', 'default: loopback'), log.join(''));
    } finally {
      peer.destroy();
    }
  });
});
