/**
 * Idle keepalive pings come at jittered gaps, interval × (0.75–1.25), never on a metronome, and
 * the flags keep the longest gap well below a CDN's 100 s idle cut-off and below the timeout.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../common/config-error.js';
import { checkKeepaliveConfig } from '../../common/keepalive-config.js';
import { resolveClientConfig } from '../../client/config.js';
import { resolveRelayConfig } from '../../server/config.js';
import { Keepalive, maxPingGapMs, nextPingGapMs } from '../../protocol/keepalive.js';
import { KEEPALIVE_JITTER } from '../../protocol/session-defaults.js';
import { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS, MAX_KEEPALIVE_INTERVAL_MS } from '../../protocol/session-options.js';
import { seededRandom } from '../helpers/fixtures/seeded-random.js';
import { withTimeout } from '../helpers/io/waiting.js';

const CDN_IDLE_CUTOFF_MS = 100_000;

/** Runs a Keepalive on an idle link until it has sent `count` pings; returns the gaps between them. */
async function idlePingGaps(intervalMs: number, count: number, random?: () => number): Promise<number[]> {
  const sentAt: number[] = [];
  let keepalive: Keepalive | undefined;
  const done = new Promise<void>((resolve) => {
    keepalive = new Keepalive({
      intervalMs,
      timeoutMs: 60_000,
      sendPing: () => {
        sentAt.push(performance.now());
        keepalive?.received(); // the answer, so the link stays alive
        if (sentAt.length === count) resolve();
      },
      isBusy: () => false,
      onTick: () => {},
      onRtt: () => {},
      onDead: () => {},
      random,
    });
  });
  try {
    await withTimeout(done, { what: () => `${count} pings (got ${sentAt.length})`, timeoutMs: intervalMs * count * 3 });
  } finally {
    keepalive?.stop();
  }
  // The first ping goes out at the first tick (the session's opening probe); gaps count from it.
  return sentAt.slice(1).map((at, i) => at - sentAt[i]);
}

describe('keepalive jitter', () => {
  test('each gap is interval × (0.75 + 0.5 × random), within ±25 %', () => {
    assert.equal(nextPingGapMs(1_000, () => 0), 750);
    assert.equal(nextPingGapMs(1_000, () => 0.5), 1_000);
    assert.ok(Math.abs(nextPingGapMs(1_000, () => 0.999999) - 1_249.9995) < 1e-6);
    assert.equal(maxPingGapMs(1_000), 1_250);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_KEEPALIVE_INTERVAL_MS }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (interval, r) => {
        const gap = nextPingGapMs(interval, () => r);
        return gap >= interval * (1 - KEEPALIVE_JITTER) && gap <= maxPingGapMs(interval);
      }),
    );
  });

  test('gaps drawn with Math.random vary and spread across the band', () => {
    const gaps = Array.from({ length: 1_000 }, () => nextPingGapMs(15_000));
    assert.ok(gaps.every((gap) => gap >= 11_250 && gap < 18_750), 'all within 11.25–18.75 s');
    assert.ok(new Set(gaps).size > 990, 'not a metronome');
    assert.ok(Math.min(...gaps) < 12_000 && Math.max(...gaps) > 18_000, `spread: ${Math.min(...gaps)}–${Math.max(...gaps)}`);
  });

  test('a real idle Keepalive waits the injected gap: 0.75 × interval for random 0, 1.25 × for random → 1', async () => {
    const interval = 200;
    // Pings leave on a tick (every interval / 8 = 25 ms), so a gap is its draw plus up to a tick and
    // some timer lateness; an unjittered ping would come at 200 ms, which both bounds exclude.
    const short = await idlePingGaps(interval, 4, () => 0);
    const long = await idlePingGaps(interval, 4, () => 0.999);
    for (const gap of short) assert.ok(gap >= 150 - 2 && gap < interval - 1, `short gap ${gap.toFixed(1)} ms`);
    for (const gap of long) assert.ok(gap >= 250 - 2 && gap < 250 + 60, `long gap ${gap.toFixed(1)} ms`);
  });

  test('a real idle Keepalive with a seeded random sends pings at gaps that differ', async () => {
    const gaps = await idlePingGaps(200, 7, seededRandom(7));
    assert.ok(gaps.every((gap) => gap >= 148 && gap < 250 + 65), `gaps ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
    assert.ok(Math.max(...gaps) - Math.min(...gaps) >= 25, `gaps vary: ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
  });
});

describe('keepalive flags', () => {
  /** Asserts a ConfigError for `flag` whose message matches `pattern`. */
  function assertRefused(config: { keepaliveIntervalMs: number; keepaliveTimeoutMs: number }, flag: string, pattern: RegExp): void {
    assert.throws(
      () => checkKeepaliveConfig(config),
      (err: unknown) => err instanceof ConfigError && err.setting === flag && pattern.test(err.message),
    );
  }

  test('the defaults hold: timeout 30 s above the longest gap 1.25 × 15 s, pings well below 100 s', () => {
    checkKeepaliveConfig({ keepaliveIntervalMs: DEFAULT_KEEPALIVE_INTERVAL_MS, keepaliveTimeoutMs: DEFAULT_KEEPALIVE_TIMEOUT_MS });
    assert.ok(DEFAULT_KEEPALIVE_TIMEOUT_MS > maxPingGapMs(DEFAULT_KEEPALIVE_INTERVAL_MS));
    assert.ok(maxPingGapMs(MAX_KEEPALIVE_INTERVAL_MS) <= 0.75 * CDN_IDLE_CUTOFF_MS, 'the longest allowed gap is 75 s');
  });

  test('--keepalive-interval above 60 s is refused, naming the flag', () => {
    checkKeepaliveConfig({ keepaliveIntervalMs: 60_000, keepaliveTimeoutMs: 90_000 });
    assertRefused({ keepaliveIntervalMs: 60_001, keepaliveTimeoutMs: 200_000 }, '--keepalive-interval', /^--keepalive-interval: at most 60 s, got 60\.001 s .*100 s idle cut-off/);
  });

  test('--keepalive-timeout not above 1.25 × the interval is refused, naming both flags', () => {
    checkKeepaliveConfig({ keepaliveIntervalMs: 20_000, keepaliveTimeoutMs: 25_001 });
    assertRefused({ keepaliveIntervalMs: 20_000, keepaliveTimeoutMs: 25_000 }, '--keepalive-timeout', /^--keepalive-timeout: must be above 1\.25 × --keepalive-interval \(25 s.*got 25 s with --keepalive-interval 20 s/);
  });

  test('zero or negative values are still refused', () => {
    assertRefused({ keepaliveIntervalMs: 0, keepaliveTimeoutMs: 30_000 }, '--keepalive-interval', /positive/);
    assertRefused({ keepaliveIntervalMs: 15_000, keepaliveTimeoutMs: -1 }, '--keepalive-timeout', /positive/);
  });

  test('the client and the relay both apply the check', () => {
    const tooLong = { keepaliveIntervalMs: 90_000, keepaliveTimeoutMs: 300_000 };
    assert.throws(() => resolveClientConfig({ relayUrl: 'ws://relay.example/tunnel', token: 't', ...tooLong }), /^ConfigError: --keepalive-interval: at most 60 s/);
    assert.throws(() => resolveRelayConfig({ tokens: ['t'], ...tooLong }), /^ConfigError: --keepalive-interval: at most 60 s/);
    const tooShortTimeout = { keepaliveIntervalMs: 15_000, keepaliveTimeoutMs: 18_000 };
    assert.throws(() => resolveClientConfig({ relayUrl: 'ws://relay.example/tunnel', token: 't', ...tooShortTimeout }), /--keepalive-timeout: must be above/);
    assert.throws(() => resolveRelayConfig({ tokens: ['t'], ...tooShortTimeout }), /--keepalive-timeout: must be above/);
  });
});
