/** CONNECT on the relay: dial the target with a timeout, IPv4 or IPv6, names resolved here. */
import { connect, type Socket } from 'node:net';
import type { Address } from '../../protocol/frame.js';

export class DialError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DialError';
  }
}

/** Resolves with a connected socket (half-open allowed, Nagle off) or rejects with a DialError. */
export function dialTcp(target: Address, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true, autoSelectFamily: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DialError('ETIMEDOUT', `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      reject(new DialError(firstErrno(err), err.message));
    };
    socket.once('error', onError);
  });
}

/** With happy eyeballs Node may report an AggregateError of every attempt; the first errno is the telling one. */
function firstErrno(err: NodeJS.ErrnoException): string {
  if (err.code) return err.code;
  const inner = (err as unknown as AggregateError).errors?.[0] as NodeJS.ErrnoException | undefined;
  return inner?.code ?? 'EUNKNOWN';
}
