/** Numbers for the report: percentiles, rates and their formatting. */

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export const MIB = 1024 * 1024;

/** Megabytes (10^6 bytes) per second, as throughput is usually quoted. */
export function megabytesPerSecond(bytes: number, ms: number): number {
  if (bytes === 0) return 0; // nothing arrived: a rate of zero, not "unknown"
  return ms > 0 ? bytes / 1e6 / (ms / 1000) : NaN;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Three significant-ish digits: 1234, 123, 12.3, 1.23, 0.123. */
export function compact(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export interface Percentiles {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** p50, p90, p99 and max of `values` (NaN for none). */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = ascending(values);
  return {
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
  };
}
