/** The pool's pure parts: whose fault a failed OPEN is (open-health.ts) and which relay a tunnel dials (relay-board.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyCode } from '../../protocol/frame.js';
import { OpenHealth } from '../../client/pool/open-health.js';
import { RelayBoard } from '../../client/pool/relay-board.js';
import { isLoopbackHost, OPEN_HEALTH_WINDOW_MS, RELAY_COOLDOWN_MAX_MS, RELAY_COOLDOWN_MIN_MS } from '../../client/pool/constants.js';

describe('OPEN health', () => {
  const cases: Array<[string, ReplyCode, boolean]> = [
    ['general failure is the relay side', ReplyCode.GeneralFailure, true],
    ['network unreachable is the relay side', ReplyCode.NetworkUnreachable, true],
    ['host unreachable is the relay side', ReplyCode.HostUnreachable, true],
    ['TTL expired is the relay side', ReplyCode.TtlExpired, true],
    ['connection refused is the target', ReplyCode.ConnectionRefused, false],
    ["the relay's policy refusal is no network fault", ReplyCode.NotAllowed, false],
    ['an unsupported command is no network fault', ReplyCode.CommandNotSupported, false],
    ['success', ReplyCode.Succeeded, false],
  ];
  for (const [name, reply, counts] of cases) {
    it(`${name}: three in a row ${counts ? 'make' : 'do not make'} the tunnel unhealthy`, () => {
      const health = new OpenHealth();
      for (let i = 0; i < 3; i++) health.record(reply, 1_000);
      assert.equal(health.failing(1_000), counts);
    });
  }

  it('needs three failures, at least half of the recent OPENs, within the window', () => {
    const health = new OpenHealth();
    health.record(ReplyCode.HostUnreachable, 0);
    health.record(ReplyCode.HostUnreachable, 0);
    assert.equal(health.failing(0), false, 'two are not enough');
    for (let i = 0; i < 4; i++) health.record(ReplyCode.Succeeded, 0);
    health.record(ReplyCode.HostUnreachable, 0);
    assert.equal(health.failing(0), false, 'three of seven is under half');
    health.record(ReplyCode.NetworkUnreachable, 0);
    assert.equal(health.failing(0), true, 'four of eight is half');
    assert.equal(health.failing(OPEN_HEALTH_WINDOW_MS + 1), false, 'old outcomes no longer count');
    health.clear();
    assert.equal(health.failing(0), false);
  });
});

describe('relay board', () => {
  const [a, b, c] = ['ws://a/tunnel', 'ws://b/tunnel', 'ws://c/tunnel'];

  it('picks the relay with the fewest tunnels, ties to the preferred', () => {
    const board = new RelayBoard([a, b, c]);
    assert.equal(board.choose(() => 0, 0), a);
    assert.equal(board.choose((r) => (r === a ? 1 : 0), 0), b);
    assert.equal(board.choose((r) => (r === c ? 0 : 1), 0), c);
    assert.deepEqual([a, b, c].map((r) => board.rank(r)), [0, 1, 2]);
  });

  it('skips a relay cooling down after a failure, longer for each in a row, until it works again', () => {
    const board = new RelayBoard([a, b]);
    board.failed(a, 0);
    assert.equal(board.choose(() => 0, 0), b);
    assert.equal(board.choose(() => 0, RELAY_COOLDOWN_MIN_MS), a, 'the first cooldown is over');
    board.failed(a, 0);
    assert.equal(board.choose(() => 0, RELAY_COOLDOWN_MIN_MS), b, 'the second one is twice as long');
    for (let i = 0; i < 10; i++) board.failed(a, 0);
    assert.equal(board.choose(() => 0, RELAY_COOLDOWN_MAX_MS), a, 'capped');
    board.failed(a, 0);
    board.succeeded(a);
    assert.equal(board.choose(() => 0, 0), a, 'a success ends the cooldown');
  });

  it('a tunnel coming up ends the cooldown, but failures stay in a row until one has proven itself', () => {
    const board = new RelayBoard([a, b]);
    board.failed(a, 0);
    board.failed(a, 0);
    board.succeeded(a);
    assert.equal(board.isReady(a, 0), true, 'no cooldown once a tunnel came up');
    board.failed(a, 0); // dropped again soon: the third in a row
    assert.equal(board.isReady(a, 2 * RELAY_COOLDOWN_MIN_MS), false, 'four times the first cooldown, not one');
    assert.equal(board.isReady(a, 4 * RELAY_COOLDOWN_MIN_MS), true);
    board.proven(a);
    board.failed(a, 0);
    assert.equal(board.isReady(a, RELAY_COOLDOWN_MIN_MS), true, 'after a tunnel stayed up, the count starts again');
    assert.equal(board.isReady('ws://unknown/tunnel', 0), false);
  });

  it('with every relay cooling down, tries the one done first; a lone relay is always the one', () => {
    const board = new RelayBoard([a, b]);
    board.failed(a, 0);
    board.failed(a, 0);
    board.failed(b, 0);
    assert.equal(board.choose(() => 0, 10), b);
    const lone = new RelayBoard([a]);
    lone.failed(a, 0);
    assert.equal(lone.choose(() => 0, 0), a);
  });
});

describe('--status-listen addresses', () => {
  it('takes loopback only', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', 'localhost']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'example.com', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
  });
});
