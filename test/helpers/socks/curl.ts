/**
 * curl as an independent SOCKS client. Always run asynchronously: the relay and the
 * client under test live in this process, so a synchronous child would deadlock them.
 */
import { execFile } from 'node:child_process';

export const CURL = '/usr/bin/curl';

export interface CurlResult {
  /** curl's exit code (0 on success; 97 is CURLE_PROXY, 7 a failed connect...). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs curl with `args`, never throwing on a non-zero exit; bounded by --max-time and a kill
 * timer. `env` adds variables (e.g. https_proxy) to the otherwise empty environment.
 */
export function curl(args: string[], timeoutMs = 10_000, extraEnv: Record<string, string> = {}): Promise<CurlResult> {
  const seconds = String(Math.max(1, Math.floor(timeoutMs / 1000)));
  // No inherited proxy settings: the test says which proxy to use.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...extraEnv };
  return new Promise((resolve) => {
    execFile(CURL, ['--silent', '--show-error', '--max-time', seconds, ...args], { env, timeout: timeoutMs + 2_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
