/**
 * Is the machine quiet? The figures compare processes sharing a few cores, so anything
 * else running skews them. Measures how busy all CPUs are for a moment and names the
 * busiest processes that are not ours, so the report can warn.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readCpuSeconds } from './cpu.js';

export interface MachineLoad {
  /** Share of all CPUs busy during the sample, 0..1. */
  busy: number;
  /** Other processes that used more than a tenth of a core, busiest first. */
  hogs: string[];
}

const HOG_SHARE = 0.1;

function cpuTotals(): { idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = values[3] + (values[4] ?? 0); // idle + iowait
  return { idle, total: values.reduce((a, b) => a + b, 0) };
}

function processCpu(): Map<number, number> {
  const usage = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const seconds = readCpuSeconds(Number(entry));
    if (seconds !== null) usage.set(Number(entry), seconds);
  }
  return usage;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 100);
  } catch {
    return `pid ${pid}`;
  }
}

/** Samples for `ms`; `ours` are pids to leave out of the hog list. */
export async function sampleMachineLoad(ms: number, ours: readonly number[]): Promise<MachineLoad> {
  const before = cpuTotals();
  const perProcessBefore = processCpu();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = cpuTotals();
  const total = after.total - before.total;
  const busy = total > 0 ? 1 - (after.idle - before.idle) / total : 0;
  const hogs: { pid: number; share: number }[] = [];
  for (const [pid, seconds] of processCpu()) {
    const start = perProcessBefore.get(pid);
    if (start === undefined || ours.includes(pid)) continue;
    const share = (seconds - start) / (ms / 1000);
    if (share >= HOG_SHARE) hogs.push({ pid, share });
  }
  hogs.sort((a, b) => b.share - a.share);
  return { busy, hogs: hogs.map((h) => `pid ${h.pid} at ${(h.share * 100).toFixed(0)} % of a core: ${commandLine(h.pid)}`) };
}

/** The 1-minute load average, for the report's header. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  } catch {
    return 'n/a';
  }
}
