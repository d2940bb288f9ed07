/** The WAN scenario's ramp figures, from made-up series of bytes moved over time. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rampFigures, sumSeries, type Sample } from '../../bench/ramp.js';
import { MIB } from '../../bench/stats.js';

const WINDOWS = { windowMs: 500, finalMs: 2_000 };

/** Every 100 ms for `seconds`, moving `mibpsAt(t)` MiB/s in the 100 ms before t. */
function series(seconds: number, mibpsAt: (ms: number) => number): Sample[] {
  const samples: Sample[] = [];
  let bytes = 0;
  for (let ms = 100; ms <= seconds * 1000; ms += 100) {
    bytes += mibpsAt(ms) * MIB * 0.1;
    samples.push({ ms, bytes });
  }
  return samples;
}

describe('ramp figures', () => {
  it('a steady transfer is at its rate from the first window on', () => {
    const figures = rampFigures(series(6, () => 100), WINDOWS);
    assert.ok(Math.abs(figures.finalMibps - 100) < 1e-9);
    assert.ok(Math.abs(figures.meanMibps - 100) < 1e-9);
    assert.equal(figures.timeTo90Ms, 100);
  });

  it('a transfer that doubles its rate every 500 ms reaches 90 % once its windowed rate does', () => {
    // 10, 20, 40, 80, 160 MiB/s, then 160 for good from 2 s on.
    const figures = rampFigures(series(8, (ms) => Math.min(160, 10 * 2 ** Math.floor((ms - 1) / 500))), WINDOWS);
    assert.ok(Math.abs(figures.finalMibps - 160) < 1e-9);
    assert.ok(figures.meanMibps < 160);
    // The window ending at 2.4 s holds 100 ms at 80 and 400 ms at 160: 144 MiB/s, the first at 90 %.
    assert.equal(figures.timeTo90Ms, 2_400);
  });

  it('a transfer that never moved anything has no time to 90 %', () => {
    const figures = rampFigures(series(3, () => 0), WINDOWS);
    assert.equal(figures.finalMibps, 0);
    assert.equal(figures.timeTo90Ms, null);
    assert.equal(rampFigures([], WINDOWS).bytes, 0);
  });

  it('parallel streams sum sample by sample', () => {
    const summed = sumSeries([series(3, () => 10), series(3, () => 30)]);
    assert.ok(Math.abs(rampFigures(summed, WINDOWS).finalMibps - 40) < 1e-9);
  });
});
