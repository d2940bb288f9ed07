/** CPU time a process has used (user + system), from /proc/PID/stat (Linux). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
