/**
 * Which Wisp CLOSE reason a refused CONNECT gets: the same failure a tunnel's OPEN answers
 * with a SOCKS reply (common/errno-replies.ts) is told to a Wisp client through this table,
 * so both kinds of client hear the same story ("Server Only Close Reasons", protocol.md).
 */
import { TIMED_OUT } from '../../common/errno-replies.js';
import { ReplyCode } from '../../protocol/frame.js';
import { ErrorReason } from '../status/error-reasons.js';
import { WispCloseReason } from './codec.js';

const CLOSE_BY_REPLY: Readonly<Record<ReplyCode, WispCloseReason>> = {
  [ReplyCode.Succeeded]: WispCloseReason.Voluntary,
  [ReplyCode.GeneralFailure]: WispCloseReason.Unspecified,
  [ReplyCode.NotAllowed]: WispCloseReason.Blocked,
  [ReplyCode.NetworkUnreachable]: WispCloseReason.Unreachable,
  [ReplyCode.HostUnreachable]: WispCloseReason.Unreachable,
  [ReplyCode.ConnectionRefused]: WispCloseReason.Refused,
  [ReplyCode.TtlExpired]: WispCloseReason.Timeout,
  [ReplyCode.CommandNotSupported]: WispCloseReason.InvalidInfo,
  [ReplyCode.AddressTypeNotSupported]: WispCloseReason.InvalidInfo,
};

/**
 * Failures the SOCKS table folds into a broader reply but Wisp can name: a dial timeout
 * (SOCKS says host unreachable, Wisp has 0x43) and every limit (SOCKS says general failure,
 * Wisp has "throttled", 0x49).
 */
const CLOSE_BY_REASON: Readonly<Record<string, WispCloseReason>> = {
  [TIMED_OUT]: WispCloseReason.Timeout,
  [ErrorReason.StreamsPerTunnel]: WispCloseReason.Throttled,
  [ErrorReason.UdpPerTunnel]: WispCloseReason.Throttled,
  [ErrorReason.PendingBytesPerTunnel]: WispCloseReason.Throttled,
  [ErrorReason.ShuttingDown]: WispCloseReason.Throttled,
  [ErrorReason.PolicyRefused]: WispCloseReason.Blocked,
};

/** `reason` is an ErrorReason or errno code, `reply` the SOCKS reply the same failure gets. */
export function wispCloseReasonFor(reply: ReplyCode, reason: string): WispCloseReason {
  return CLOSE_BY_REASON[reason] ?? CLOSE_BY_REPLY[reply] ?? WispCloseReason.Unspecified;
}
