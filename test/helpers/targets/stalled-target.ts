/**
 * A loopback address whose TCP handshake never completes, for dial-timeout tests.
 * A child process listens with a backlog of 1 and then blocks its event loop, so it
 * never accepts; once the accept queue is full the kernel drops further SYNs and a
 * connect stays in SYN_SENT. (An in-process server can't do this: Node always accepts.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';

export interface StalledTarget {
  port: number;
  close(): Promise<void>;
}

const CHILD_SCRIPT = `
const server = require('node:net').createServer();
server.listen(0, '127.0.0.1', 1, () => {
  process.stdout.write(server.address().port + '\\n', () => {
    // Block, never accepting, for at most 60 s in case the parent dies without killing us.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
    process.exit(0);
  });
});
`;

/** Resolves with a port where connects hang, or `{ failed }` saying why one could not be built. */
export async function startStalledTarget(timeoutMs = 5_000): Promise<StalledTarget | { failed: string }> {
  const child = spawn(process.execPath, ['-e', CHILD_SCRIPT], { stdio: ['ignore', 'pipe', 'ignore'] });
  const fillers: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const socket of fillers) socket.destroy();
    await killChild(child);
  };
  const port = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    child.stdout!.once('data', (data: Buffer) => {
      clearTimeout(timer);
      resolve(Number(String(data).trim()));
    });
    child.once('exit', () => resolve(null));
  });
  if (port === null) {
    await close();
    return { failed: 'the stalled listener process did not start' };
  }
  // Fill the accept queue until a connect no longer completes.
  for (let i = 0; i < 16; i++) {
    const { socket, connected } = await tryConnect(port, 300);
    fillers.push(socket);
    if (!connected) return { port, close };
  }
  await close();
  return { failed: 'the accept queue never filled: this kernel completes handshakes past the backlog' };
}

function tryConnect(port: number, waitMs: number): Promise<{ socket: Socket; connected: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    const timer = setTimeout(() => resolve({ socket, connected: false }), waitMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket, connected: true });
    });
  });
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGKILL');
  });
}
