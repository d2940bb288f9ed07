/** Resident memory of a process from /proc/PID/status (Linux), in KiB. */
import { readFileSync } from 'node:fs';

/** VmRSS in KiB, or null when the process is gone or /proc is unavailable. */
export function readRssKiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Sum over processes; null if any could not be read. */
export function readTotalRssKiB(pids: readonly number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    const rss = readRssKiB(pid);
    if (rss === null) return null;
    total += rss;
  }
  return total;
}
