/**
 * A --direct destination, dialled by the client itself: the OS resolves a name here (the
 * user asked for this destination to bypass the relay), and a failure maps to the same
 * SOCKS reply the relay would send (common/errno-replies.ts).
 */
import { connect, type Socket } from 'node:net';
import { dialErrno, replyForErrno, TIMED_OUT } from '../../common/errno-replies.js';
import { ReplyCode, type Address } from '../../protocol/frame.js';

export type DirectDialResult = { ok: true; socket: Socket } | { ok: false; reply: ReplyCode; code: string };

/** As the relay's --dial-timeout default. */
export const DIRECT_DIAL_TIMEOUT_MS = 10_000;
const ABORTED = 'ABORTED';

/** Resolves with a connected socket (half-open allowed, Nagle off), or the reply and errno of the failure. */
export function dialDirect(target: Address, timeoutMs: number, signal?: AbortSignal): Promise<DirectDialResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true, autoSelectFamily: true });
    const settle = (result: DirectDialResult): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      if (!result.ok) socket.destroy();
      resolve(result);
    };
    const fail = (code: string): void => settle({ ok: false, reply: replyForErrno(code), code });
    const onError = (err: NodeJS.ErrnoException): void => fail(dialErrno(err) ?? err.message);
    const onAbort = (): void => fail(ABORTED);
    // A dial that outlives its timeout answers like the relay's: ETIMEDOUT, host unreachable.
    const timer = setTimeout(() => fail(TIMED_OUT), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('connect', () => {
      // Until the splice listens, a reset must not become an uncaught 'error'; 'close' still follows.
      socket.on('error', () => {});
      settle({ ok: true, socket });
    });
  });
}
