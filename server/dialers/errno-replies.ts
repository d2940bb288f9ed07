/**
 * Which SOCKS reply a failed dial gets, by errno. A table, not string matching on
 * messages, so the mapping is visible in one place (RFC 1928 §6 reply codes).
 */
import { ReplyCode } from '../../protocol/frame.js';
import { ErrorReason } from '../status/error-reasons.js';

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
  ETIMEDOUT: ReplyCode.HostUnreachable,
  ENETUNREACH: ReplyCode.NetworkUnreachable,
  ENETDOWN: ReplyCode.NetworkUnreachable,
  EADDRNOTAVAIL: ReplyCode.NetworkUnreachable,
  EAFNOSUPPORT: ReplyCode.NetworkUnreachable,
  EACCES: ReplyCode.NotAllowed,
  // Not an errno: the relay's own destination policy refused (dialers/connect.ts).
  [ErrorReason.PolicyRefused]: ReplyCode.NotAllowed,
  EPERM: ReplyCode.NotAllowed,
};

export function replyForErrno(code: string | undefined): ReplyCode {
  return (code !== undefined && REPLY_BY_ERRNO[code]) || ReplyCode.GeneralFailure;
}
