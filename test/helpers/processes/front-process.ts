/**
 * A server program the tests put in front of the relay (nginx, haproxy): started with its own
 * config in a temporary folder, ready once it accepts on its port, stopped with SIGTERM (a
 * master then stops its workers too; a SIGKILLed one would orphan them) and the folder removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { connectTcp } from '../io/socket-io.js';
import { waitFor } from '../io/waiting.js';

const START_WAIT_MS = 10_000;
const STOP_WAIT_MS = 5_000;

export interface FrontProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  readonly output: string;
  stop(): Promise<void>;
}

/** Runs `command args`, waits until `port` accepts; `dir` is removed when it stops. */
export async function startFrontProcess(name: string, command: string, args: string[], port: number, dir: string): Promise<FrontProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WAIT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}:\n${output}`);
        (await connectTcp(port)).destroy();
        return true;
      },
      { what: `${name} to accept connections`, timeoutMs: START_WAIT_MS },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    child,
    get output() {
      return output;
    },
    stop,
  };
}
