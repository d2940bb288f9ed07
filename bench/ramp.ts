/**
 * How fast a transfer ran once up to speed, and how long it took to get there, from the
 * bytes it had moved at regular samples. Pure: tested with made-up series.
 *
 * - final rate: over the last `finalMs` of the run;
 * - time to 90 %: the first sample at which the rate over the `windowMs` before it (or
 *   since the start, early on) reached 90 % of the final rate; null if none did.
 */
import { MIB } from './stats.js';

/** Bytes moved by `ms` after the transfer started (request written). */
export interface Sample {
  ms: number;
  bytes: number;
}

export interface RampFigures {
  bytes: number;
  ms: number;
  /** Over the whole run, ramp included. */
  meanMibps: number;
  finalMibps: number;
  timeTo90Ms: number | null;
}

export interface RampWindows {
  windowMs: number;
  finalMs: number;
}

export const REACHED_SHARE = 0.9;

export function rampFigures(samples: readonly Sample[], windows: RampWindows): RampFigures {
  const last = samples[samples.length - 1] ?? { ms: 0, bytes: 0 };
  const finalStart = sampleBefore(samples, last.ms - windows.finalMs);
  const finalMibps = rate(finalStart, last);
  let timeTo90Ms: number | null = null;
  for (const sample of samples) {
    if (sample.ms <= 0) continue;
    if (finalMibps > 0 && rate(sampleBefore(samples, sample.ms - windows.windowMs), sample) >= REACHED_SHARE * finalMibps) {
      timeTo90Ms = sample.ms;
      break;
    }
  }
  return { bytes: last.bytes, ms: last.ms, meanMibps: rate({ ms: 0, bytes: 0 }, last), finalMibps, timeTo90Ms };
}

/** Sums streams sampled at the same instants into one series. */
export function sumSeries(series: readonly (readonly Sample[])[]): Sample[] {
  const length = Math.min(...series.map((s) => s.length));
  return Array.from({ length }, (_, i) => ({ ms: series[0][i].ms, bytes: series.reduce((sum, s) => sum + s[i].bytes, 0) }));
}

/** The latest sample at or before `ms`, or the start (0 bytes at 0 ms). */
function sampleBefore(samples: readonly Sample[], ms: number): Sample {
  let found: Sample = { ms: 0, bytes: 0 };
  for (const sample of samples) {
    if (sample.ms > ms) break;
    found = sample;
  }
  return found;
}

function rate(from: Sample, to: Sample): number {
  const ms = to.ms - from.ms;
  return ms > 0 ? (to.bytes - from.bytes) / MIB / (ms / 1000) : 0;
}
