/**
 * Child processes of the bench: spawn, watch their output for a line, stop them, and
 * make sure none outlives the bench — on a normal end, an error, or Ctrl-C.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';

const TAIL_LINES = 40;
const STOP_GRACE_MS = 3_000;

export interface Managed {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last lines the process printed (stdout and stderr), for failure reports. */
  tail(): string;
  isAlive(): boolean;
  /** "code 1" or "signal SIGKILL" once it has exited, else null. */
  exitStatus(): string | null;
  /** Resolves with the first line matching `pattern`, or rejects after `timeoutMs` or on exit. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after a grace period. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Runs `node [nodeArgs] script [args]` with piped output. */
export function startNode(name: string, script: string, args: string[], nodeArgs: string[] = []): Managed {
  return startCommand(name, process.execPath, [...nodeArgs, script, ...args]);
}

/** Runs any program (a peer's binary) with piped output. */
export function startCommand(name: string, command: string, args: string[]): Managed {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return manage(name, child);
}

/** Like startNode, with an IPC channel for messages (the load generator). */
export function forkNode(name: string, script: string, args: string[] = []): Managed {
  const child = fork(script, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
  return manage(name, child);
}

function manage(name: string, child: ChildProcess): Managed {
  if (child.pid === undefined) throw new Error(`${name}: could not start`);
  live.add(child);
  // A message sent just as the child exits fails here; the exit itself is what gets reported.
  child.on('error', () => {});
  const lines: string[] = [];
  const lineWatchers = new Set<(line: string) => void>();
  let exited = false;
  let exitStatus: string | null = null;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      exitStatus = signal ? `signal ${signal}` : `code ${code}`;
      live.delete(child);
      resolve();
    }),
  );
  const onLine = (line: string): void => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
    for (const watcher of lineWatchers) watcher(line);
  };
  for (const output of [child.stdout, child.stderr]) {
    let partial = '';
    output?.setEncoding('utf8');
    output?.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) onLine(line);
    });
  }
  return {
    name,
    child,
    pid: child.pid,
    tail: () => lines.join('\n'),
    isAlive: () => !exited,
    exitStatus: () => exitStatus,
    waitForLine(pattern, timeoutMs) {
      const seen = lines.map((line) => line.match(pattern)).find((m) => m !== null);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const finish = (err: Error | null, match?: RegExpMatchArray): void => {
          clearTimeout(timer);
          lineWatchers.delete(watch);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolve(match!);
        };
        const watch = (line: string): void => {
          const match = line.match(pattern);
          if (match) finish(null, match);
        };
        const onExit = (code: number | null, signal: string | null): void =>
          finish(new Error(`${name} exited (code ${code}, signal ${signal}) before printing ${pattern}:\n${lines.join('\n')}`));
        const timer = setTimeout(() => finish(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
        lineWatchers.add(watch);
        child.once('exit', onExit);
      });
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

/** Kills every child still running, synchronously: safe inside an 'exit' handler. */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** No child survives the bench, whichever way it ends. */
export function installExitHandlers(): void {
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping children\n`);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: unhandled rejection: ${(err as Error)?.stack ?? String(err)}\n`);
    killAll();
    process.exit(1);
  });
}
