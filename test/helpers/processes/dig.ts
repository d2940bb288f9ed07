/**
 * dig (bind9-dnsutils) as an independent DNS client. Always run asynchronously: the relay and
 * the client under test may live in this process, so a synchronous child would deadlock them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const DIG = '/usr/bin/dig';

export interface DigResult {
  /** dig's exit code: 0 for any answer (SERVFAIL included), 9 for no reply. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Why the dig tests cannot run here, or null when they can; under CI=true a missing dig fails instead of skipping. */
export function digMissing(): string | null {
  if (existsSync(DIG)) return null;
  if (process.env.CI === 'true') throw new Error(`${DIG} is missing (apt-get install -y bind9-dnsutils; .ci/run installs it)`);
  return `${DIG} is not installed (apt-get install -y bind9-dnsutils)`;
}

/** `dig @127.0.0.1 -p PORT ...args`, one try, no .digrc; never throws on a non-zero exit. */
export function dig(port: number, args: string[], timeoutSeconds = 5): Promise<DigResult> {
  const base = ['@127.0.0.1', '-p', String(port), '+tries=1', `+time=${timeoutSeconds}`];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' };
  return new Promise((resolve) => {
    execFile(DIG, [...base, ...args], { env, timeout: (timeoutSeconds + 5) * 1000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The A records in dig's answer section (+short prints one address a line). */
export function shortAddresses(result: DigResult): string[] {
  return result.stdout.split('\n').map((line) => line.trim()).filter((line) => /^\d+\.\d+\.\d+\.\d+$/.test(line));
}
