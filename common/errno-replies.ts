/**
 * Which SOCKS reply a failed dial gets, by errno: the relay's dials and the client's direct
 * ones answer alike. A table, not string matching on messages, so the mapping is visible
 * in one place (RFC 1928 §6 reply codes).
 */
import { ReplyCode } from '../protocol/frame.js';

/**
 * Not an errno: a destination rule refused (the relay's policy, dialers/connect.ts).
 * Errno-shaped so it counts and maps like a dial code; the relay's ErrorReason.PolicyRefused.
 */
export const POLICY_REFUSED = 'ERR_POLICY';

/** The errno of a connection or dial that got no answer in time, the kernel's or one of our own timeouts. */
export const TIMED_OUT = 'ETIMEDOUT';

const REPLY_BY_ERRNO: Readonly<Record<string, ReplyCode>> = {
  ECONNREFUSED: ReplyCode.ConnectionRefused,
  EHOSTUNREACH: ReplyCode.HostUnreachable,
  EHOSTDOWN: ReplyCode.HostUnreachable,
  ENOTFOUND: ReplyCode.HostUnreachable,
  EAI_NONAME: ReplyCode.HostUnreachable,
  EAI_NODATA: ReplyCode.HostUnreachable,
  EAI_AGAIN: ReplyCode.HostUnreachable,
  ESERVFAIL: ReplyCode.HostUnreachable,
  // A dial that outlives its timeout: Dante answers "host unreachable" here too.
  [TIMED_OUT]: ReplyCode.HostUnreachable,
  ENETUNREACH: ReplyCode.NetworkUnreachable,
  ENETDOWN: ReplyCode.NetworkUnreachable,
  EADDRNOTAVAIL: ReplyCode.NetworkUnreachable,
  EAFNOSUPPORT: ReplyCode.NetworkUnreachable,
  EACCES: ReplyCode.NotAllowed,
  [POLICY_REFUSED]: ReplyCode.NotAllowed,
  EPERM: ReplyCode.NotAllowed,
};

export function replyForErrno(code: string | undefined): ReplyCode {
  return (code !== undefined && REPLY_BY_ERRNO[code]) || ReplyCode.GeneralFailure;
}

/** The errno of a failed dial; with happy eyeballs Node may report an AggregateError of every attempt, whose first errno is the telling one. */
export function dialErrno(err: NodeJS.ErrnoException): string | undefined {
  if (err.code) return err.code;
  const inner = (err as unknown as AggregateError).errors?.[0] as NodeJS.ErrnoException | undefined;
  return inner?.code;
}
