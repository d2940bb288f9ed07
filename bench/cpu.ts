/** CPU time a process has used (user + system), from /proc/PID/stat (Linux). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const FALLBACK_TICKS_PER_SECOND = 100;
/** utime and stime are fields 14 and 15 of /proc/PID/stat; after the ")" ending the name they are 12 and 13. */
const UTIME_AFTER_NAME = 11;
const STIME_AFTER_NAME = 12;

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || FALLBACK_TICKS_PER_SECOND;
    } catch {
      ticksPerSecond = FALLBACK_TICKS_PER_SECOND;
    }
  }
  return ticksPerSecond;
}

/** /proc/PID/stat's parent pid is field 4: the second after the name. */
const PPID_AFTER_NAME = 1;

/**
 * Seconds of CPU used so far by the process and its live children (a relay with --workers N:
 * the primary and its workers), or null when the process is gone.
 */
export function readTreeCpuSeconds(pid: number): number | null {
  const own = readCpuSeconds(pid);
  if (own === null) return null;
  let sum = own;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || parentOf(Number(name)) !== pid) continue;
    sum += readCpuSeconds(Number(name)) ?? 0;
  }
  return sum;
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[PPID_AFTER_NAME]);
  } catch {
    return null;
  }
}

/** Seconds of CPU used so far, or null when the process is gone. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[UTIME_AFTER_NAME]) + Number(fields[STIME_AFTER_NAME])) / clockTicks();
  } catch {
    return null;
  }
}
