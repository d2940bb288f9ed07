/**
 * The receive-window controller alone, with an injected clock and round-trip time: when it
 * grows, when it must not, the cap, the budget and its fair shares, giving growth back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_BUFFER_ALLOWANCE, ReceiveWindow, type WindowSettings } from '../../protocol/receive-window.js';
import { GROWTH_IDLE_GIVE_BACK_MS, WindowBudget } from '../../protocol/window-budget.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const INITIAL = 256 * KiB;
const CHUNK = 16 * KiB;

interface Harness {
  settings: WindowSettings;
  clock: { now: number };
}

function harness(options: { budget?: number; maxWindow?: number; rttMs?: number | null; growthAfterBytes?: number } = {}): Harness {
  const clock = { now: 1_000 };
  const settings: WindowSettings = {
    initial: INITIAL,
    maxWindow: () => options.maxWindow ?? 64 * MiB,
    budget: new WindowBudget(options.budget ?? 1024 * MiB),
    rttMs: () => (options.rttMs === undefined ? 50 : options.rttMs),
    now: () => clock.now,
    growthAfterBytes: options.growthAfterBytes ?? 0,
  };
  return { settings, clock };
}

/** The peer's view of one stream: it sends whenever it has credit, as a sender must. */
class Peer {
  credit: number;
  constructor(readonly window: ReceiveWindow, initial: number) {
    this.credit = initial;
  }

  /** Sends up to `n` bytes within credit; returns what was sent. */
  send(n: number): number {
    const sent = Math.min(n, this.credit);
    assert.ok(this.window.accept(sent), 'a sender within its credit is always accepted');
    this.credit -= sent;
    return sent;
  }

  /** The local reader takes `n` bytes; credit comes back at once (the round trip is the clock's business). */
  consume(n: number): void {
    this.credit += this.window.consume(n);
  }
}

/**
 * Moves `total` bytes as across a path whose round trip is longer than the window lasts: the
 * peer sends all the credit it has, then the reader takes it chunk by chunk, `msPerChunk` apart.
 */
function transfer(h: Harness, peer: Peer, total: number, msPerChunk: number): void {
  for (let moved = 0; moved < total; ) {
    const burst: number[] = [];
    for (let sent = peer.send(CHUNK); sent > 0; sent = peer.send(CHUNK)) burst.push(sent);
    assert.ok(burst.length > 0, 'a consuming reader never leaves the sender without credit');
    for (const sent of burst) {
      h.clock.now += msPerChunk;
      peer.consume(sent);
      moved += sent;
    }
  }
}

describe('ReceiveWindow', () => {
  it('grows when a fast reader drains half a window within two round trips, doubling up to the cap', () => {
    const h = harness({ maxWindow: 4 * MiB, rttMs: 50 });
    const window = new ReceiveWindow(h.settings);
    const peer = new Peer(window, INITIAL);
    transfer(h, peer, 64 * MiB, 0.1); // 16 KiB per 0.1 ms: 160 MB/s, a window drained far within a round trip
    assert.equal(window.size, 4 * MiB, 'doubled up to the cap, never past it');
    assert.equal(h.settings.budget.largestWindow, 4 * MiB);
  });

  it('does not grow for a reader slower than the window per two round trips', () => {
    const h = harness({ rttMs: 50 });
    const window = new ReceiveWindow(h.settings);
    const peer = new Peer(window, INITIAL);
    transfer(h, peer, 8 * MiB, 14); // 8 chunks (half a window) take 112 ms: over two round trips
    assert.equal(window.size, INITIAL);
    assert.equal(h.settings.budget.used, 0);
  });

  it("earns nothing for what a local socket's kernel buffers could have taken without the application reading", () => {
    const h = harness({ rttMs: 50, growthAfterBytes: LOCAL_BUFFER_ALLOWANCE });
    const window = new ReceiveWindow(h.settings);
    const peer = new Peer(window, INITIAL);
    transfer(h, peer, LOCAL_BUFFER_ALLOWANCE, 0.01); // taken at once, as a kernel takes it for a reader that never reads
    assert.equal(window.size, INITIAL, 'within the allowance: no growth');
    transfer(h, peer, 4 * MiB, 0.01);
    assert.ok(window.size > INITIAL, 'consumption beyond it proves a reader and the window grows');
  });

  it('does not grow before a round trip has been measured', () => {
    const h = harness({ rttMs: null });
    const window = new ReceiveWindow(h.settings);
    transfer(h, new Peer(window, INITIAL), 16 * MiB, 0.01);
    assert.equal(window.size, INITIAL);
  });

  it('a stalled reader earns nothing, and the peer can never send past the credit granted', () => {
    const h = harness();
    const window = new ReceiveWindow(h.settings);
    const peer = new Peer(window, INITIAL);
    assert.equal(peer.send(10 * MiB), INITIAL, 'only the initial window is ever sent');
    assert.equal(window.accept(1), false, 'one byte beyond the credit is refused');
    h.clock.now += 60_000;
    assert.equal(window.size, INITIAL);
    assert.equal(window.buffered, INITIAL, 'what it holds is exactly its window');
  });

  it('never advertises more than its window beyond what the reader took', () => {
    const h = harness({ maxWindow: 2 * MiB });
    const window = new ReceiveWindow(h.settings);
    const peer = new Peer(window, INITIAL);
    for (let i = 0; i < 4_000; i++) {
      peer.send(CHUNK);
      h.clock.now += 0.05;
      peer.consume(CHUNK / 2); // the reader keeps half of each chunk back for a while
      assert.ok(peer.credit + window.buffered <= window.size, 'credit plus what is held never exceeds the window');
      peer.consume(CHUNK / 2);
    }
  });

  it('stops growing when the budget is spent', () => {
    const h = harness({ budget: MiB, rttMs: 50 });
    const window = new ReceiveWindow(h.settings);
    transfer(h, new Peer(window, INITIAL), 64 * MiB, 0.1);
    assert.equal(window.size, INITIAL + MiB, 'the initial window plus the whole budget, no more');
    assert.equal(h.settings.budget.used, MiB);
  });

  it('shares a spent budget fairly: a busy newcomer makes the first stream shrink to an equal share', () => {
    const h = harness({ budget: 4 * MiB, rttMs: 50 });
    const first = new ReceiveWindow(h.settings);
    const firstPeer = new Peer(first, INITIAL);
    transfer(h, firstPeer, 64 * MiB, 0.1);
    assert.equal(first.size, INITIAL + 4 * MiB, 'alone, the first stream takes the whole budget');

    const second = new ReceiveWindow(h.settings);
    const secondPeer = new Peer(second, INITIAL);
    for (let round = 0; round < 400; round++) {
      transfer(h, firstPeer, 256 * KiB, 0.1);
      transfer(h, secondPeer, 256 * KiB, 0.1);
    }
    assert.equal(first.size, INITIAL + 2 * MiB, 'the first stream shrank to half the budget');
    assert.equal(second.size, INITIAL + 2 * MiB, 'the second grew to the other half');
    assert.ok(h.settings.budget.used <= 4 * MiB);
  });

  it('gives its growth back after idling, and a stalled one only as its bytes are read', () => {
    const h = harness({ rttMs: 50 });
    const idle = new ReceiveWindow(h.settings);
    transfer(h, new Peer(idle, INITIAL), 16 * MiB, 0.1);
    const stalled = new ReceiveWindow(h.settings);
    const stalledPeer = new Peer(stalled, INITIAL);
    transfer(h, stalledPeer, 16 * MiB, 0.1);
    const stalledHolds = stalledPeer.send(64 * MiB); // then its reader stops
    assert.ok(idle.size > INITIAL && stalled.size > INITIAL, 'both grew while busy');

    h.clock.now += GROWTH_IDLE_GIVE_BACK_MS - 200; // the idle one stopped ~100 ms (of the clock) before the stalled one
    h.settings.budget.sweep(h.clock.now);
    assert.ok(idle.size > INITIAL, 'not yet: a pause shorter than the give-back time keeps the window');

    h.clock.now += 200;
    h.settings.budget.sweep(h.clock.now);
    assert.equal(idle.size, INITIAL);
    assert.equal(stalled.size, INITIAL);
    assert.equal(h.settings.budget.used, stalledHolds - INITIAL, "the stalled stream's buffered bytes still count");

    h.clock.now += 1_000;
    stalledPeer.consume(stalledHolds);
    assert.equal(h.settings.budget.used, 0, 'read at last, everything is given back');
  });

  it('a closed stream frees what it held', () => {
    const h = harness({ rttMs: 50 });
    const window = new ReceiveWindow(h.settings);
    transfer(h, new Peer(window, INITIAL), 16 * MiB, 0.1);
    assert.ok(h.settings.budget.used > 0);
    window.release();
    assert.equal(h.settings.budget.used, 0);
  });
});
