/** Human-readable bytes, rates and durations for the status page. */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const KIBI = 1024;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < KIBI) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes;
  let unit = 0;
  while (value >= KIBI && unit < BYTE_UNITS.length - 1) {
    value /= KIBI;
    unit += 1;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** 42s, 3m 12s, 2h 05m, 3d 4h: two units at most, the larger first. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < SECOND) return '0s';
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)}s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m ${pad(Math.floor((ms % MINUTE) / SECOND))}s`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)}h ${pad(Math.floor((ms % HOUR) / MINUTE))}m`;
  return `${Math.floor(ms / DAY)}d ${Math.floor((ms % DAY) / HOUR)}h`;
}

/** 0.4 ms, 12 ms: a tenth of a millisecond below 10 ms, whole milliseconds above. */
export function formatRtt(ms: number | null): string {
  if (ms === null) return '–';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
