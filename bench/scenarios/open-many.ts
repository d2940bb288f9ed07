/** Opening streams by the hundred: each opened, checked with an echo, then held open. */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ScenarioContext } from '../messages.js';
import { readExactly } from '../net-io.js';
import { openRoute } from '../route.js';
import type { ErrorTally } from './error-tally.js';

export interface Opened {
  socket: Socket;
  /** From the start of the batch until the echo was back. */
  ms: number;
}

/** Opens `count` streams at once; those that fail are tallied and left out. */
export async function openAndEcho(ctx: ScenarioContext, count: number, payload: Buffer, timeoutMs: number, errors: ErrorTally): Promise<Opened[]> {
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: count }, async (): Promise<Opened | null> => {
      let socket: Socket | null = null;
      try {
        socket = await openRoute(ctx.route, ctx.ports.echo, timeoutMs);
        socket.write(payload);
        const echoed = await readExactly(socket, payload.length, timeoutMs);
        if (!echoed.equals(payload)) throw new Error('echo differs from what was sent');
        return { socket, ms: performance.now() - t0 };
      } catch (err) {
        errors.add(err);
        socket?.destroy();
        return null;
      }
    }),
  );
  return results.filter((opened): opened is Opened => opened !== null);
}

/** Sends one byte on each socket, `batch` at a time, and counts those whose echo came back. */
export async function echoEach(sockets: readonly Socket[], batch: number, timeoutMs: number, errors: ErrorTally): Promise<number> {
  const probe = Buffer.from([0x3f]);
  let served = 0;
  for (let i = 0; i < sockets.length; i += batch) {
    const results = await Promise.all(
      sockets.slice(i, i + batch).map(async (socket) => {
        try {
          socket.write(probe);
          await readExactly(socket, 1, timeoutMs);
          return true;
        } catch (err) {
          errors.add(err);
          return false;
        }
      }),
    );
    served += results.filter(Boolean).length;
  }
  return served;
}

/** Ends every socket and waits (bounded) for them to close. */
export async function closeAll(sockets: readonly Socket[], timeoutMs: number): Promise<void> {
  const closed = sockets.map((socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve()))));
  for (const socket of sockets) {
    socket.resume(); // a paused socket never sees the peer's FIN, so it would never close
    socket.end();
  }
  const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
  await Promise.race([Promise.all(closed), timer]);
  for (const socket of sockets) socket.destroy();
}
