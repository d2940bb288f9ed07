/** The real `sockbridge` command as a child process, with its output collected and bounded waits. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Waiters, withTimeout } from '../io/waiting.js';

/** dist/bin/sockbridge.js, seen from dist/test/helpers/processes/. */
export const SOCKBRIDGE_BIN = fileURLToPath(new URL('../../../bin/sockbridge.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private exitInfo: Exit | null = null;
  private readonly waiters = new Waiters();

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [SOCKBRIDGE_BIN, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text;
      this.waiters.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
      this.waiters.wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.waiters.wake();
        resolve(this.exitInfo);
      });
    });
  }

  /** Everything the process printed, stdout then stderr. */
  get output(): string {
    return this.stdout + this.stderr;
  }

  /** Waits until `pattern` matches stdout or stderr; rejects if the process exits first or on timeout. */
  async waitFor(pattern: RegExp, timeoutMs = 5_000): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    const matchedOrExited = (): boolean => (match = this.stdout.match(pattern) ?? this.stderr.match(pattern)) !== null || this.exitInfo !== null;
    await this.waiters.until(matchedOrExited, { what: () => `${pattern}:\n${this.output}`, timeoutMs });
    if (!match) throw new Error(`exited (${JSON.stringify(this.exitInfo)}) before printing ${pattern}:\n${this.output}`);
    return match;
  }

  /** Waits for the exit; rejects after `timeoutMs`. */
  waitExit(timeoutMs = 5_000): Promise<Exit> {
    return withTimeout(this.exited, { what: () => `the process to exit:\n${this.output}`, timeoutMs });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitInfo === null) this.child.kill(signal);
  }

  /** For finally blocks: kills the process if it still runs and waits (bounded) for it to go. */
  async stop(): Promise<void> {
    if (this.exitInfo !== null) return;
    this.child.kill('SIGKILL');
    await this.waitExit(5_000).catch(() => {});
  }
}

/** Runs the command to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 10_000): Promise<Exit & { stdout: string; stderr: string }> {
  const proc = new CliProcess(args, env);
  try {
    const exit = await proc.waitExit(timeoutMs);
    return { ...exit, stdout: proc.stdout, stderr: proc.stderr };
  } finally {
    await proc.stop();
  }
}

/** The parent's environment without sockbridge's own variables or test-runner state, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('SOCKBRIDGE_') || name.startsWith('NODE_TEST') || name === 'NODE_OPTIONS') delete env[name];
  }
  return { ...env, ...extra };
}
