/**
 * The page's receive window (browser/receive-credit.ts): credit goes back only for bytes read,
 * a quarter window at a time; the window doubles for a reader that keeps up with the path's
 * round trip, never for one that reads slowly or before a round trip was measured; DATA beyond
 * the credit is refused. esbuild compiles the module for Node at test time.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { INITIAL_STREAM_WINDOW, MAX_STREAM_WINDOW } from '../../protocol/frame.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const QUARTER = INITIAL_STREAM_WINDOW / 4;

interface ReceiveCredit {
  size: number;
  readonly credit: number;
  accept(bytes: number): boolean;
  consume(bytes: number): number;
}
let ReceiveCreditClass: new (rttMs: () => number | null) => ReceiveCredit;

before(async () => {
  const dir = await mkdtemp(`${tmpdir()}/sockbridge-receive-credit-`);
  try {
    const outfile = `${dir}/receive-credit.mjs`;
    await build({ entryPoints: [`${ROOT}browser/receive-credit.ts`], outfile, bundle: true, format: 'esm', platform: 'neutral', logLevel: 'warning' });
    ({ ReceiveCredit: ReceiveCreditClass } = (await import(pathToFileURL(outfile).href)) as { ReceiveCredit: typeof ReceiveCreditClass });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Receives and reads `bytes` in 64 KiB frames; returns the increments sent. */
function readThrough(window: ReceiveCredit, bytes: number): number[] {
  const increments: number[] = [];
  for (let done = 0; done < bytes; done += 65_536) {
    assert.ok(window.accept(65_536), `refused at ${done}`);
    const increment = window.consume(65_536);
    if (increment > 0) increments.push(increment);
  }
  return increments;
}

describe('the page receive window', () => {
  it('grants nothing for bytes received but not read, and refuses DATA beyond the credit', () => {
    const window = new ReceiveCreditClass(() => 10);
    assert.ok(window.accept(INITIAL_STREAM_WINDOW));
    assert.equal(window.credit, 0);
    assert.equal(window.accept(1), false);
    assert.equal(window.consume(QUARTER - 1), 0, 'credit before a quarter window was read');
    assert.equal(window.consume(1), QUARTER);
    assert.equal(window.credit, QUARTER);
  });

  it('doubles for a reader that keeps up, up to the cap', () => {
    const window = new ReceiveCreditClass(() => 1_000);
    readThrough(window, 64 * INITIAL_STREAM_WINDOW);
    assert.equal(window.size, MAX_STREAM_WINDOW);
    assert.ok(window.credit <= window.size);
  });

  it('stays at the initial window before a round trip is measured', () => {
    const window = new ReceiveCreditClass(() => null);
    const increments = readThrough(window, 8 * INITIAL_STREAM_WINDOW);
    assert.equal(window.size, INITIAL_STREAM_WINDOW);
    assert.ok(increments.every((increment) => increment === QUARTER), `increments ${increments}`);
  });
});
