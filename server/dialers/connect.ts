/** CONNECT on the relay: dial the target with a timeout, IPv4 or IPv6, names resolved here. */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { connect, isIP, type LookupFunction, type Socket } from 'node:net';
import type { Address } from '../../protocol/frame.js';
import { dialErrno, TIMED_OUT } from '../../common/errno-replies.js';
import { SharedBufferReads } from '../../protocol/shared-read.js';
import type { DestinationPolicy } from '../policy/destination-policy.js';
import { ErrorReason } from '../status/error-reasons.js';

export class DialError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** For ErrorReason.PolicyRefused: the rule that refused. */
    readonly rule?: string,
  ) {
    super(message);
    this.name = 'DialError';
  }
}

/** A connected socket and the shared-buffer reads it was made with (bridgeSocket takes both). */
export interface DialedSocket {
  socket: Socket;
  reads: SharedBufferReads;
}

/**
 * Resolves with a connected socket (half-open allowed, Nagle off) or rejects with a DialError.
 * The policy judges the addresses the name resolves to, so DNS cannot steer a dial past it.
 */
export function dialTcp(target: Address, timeoutMs: number, policy: DestinationPolicy): Promise<DialedSocket> {
  if (isIP(target.host) !== 0) {
    const decision = policy.decide({ name: null, ip: target.host, port: target.port, command: 'connect' });
    if (!decision.allowed) return Promise.reject(refusal(decision.rule));
  }
  return new Promise((resolve, reject) => {
    const reads = new SharedBufferReads();
    const socket = connect({
      host: target.host,
      port: target.port,
      allowHalfOpen: true,
      noDelay: true,
      autoSelectFamily: true,
      lookup: policyLookup(target, policy),
      onread: reads.onread,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DialError(TIMED_OUT, `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve({ socket, reads });
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      reject(err instanceof DialError ? err : new DialError(firstErrno(err), err.message));
    };
    socket.once('error', onError);
  });
}

function firstErrno(err: NodeJS.ErrnoException): string {
  return dialErrno(err) ?? ErrorReason.UnknownDialError;
}

function refusal(rule: string): DialError {
  return new DialError(ErrorReason.PolicyRefused, `refused by ${rule}`, rule);
}

/** dns.lookup, keeping only the addresses the policy allows. */
function policyLookup(target: Address, policy: DestinationPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, found: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const decisions = found.map((entry) => ({ entry, decision: policy.decide({ name: target.host, ip: entry.address, port: target.port, command: 'connect' }) }));
      const allowed = decisions.filter(({ decision }) => decision.allowed).map(({ entry }) => entry);
      if (allowed.length === 0) {
        return callback(refusal(decisions[0]?.decision.rule ?? 'no address') as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}
