/**
 * The errors a page sees (SockbridgeError). A frame the spec forbids raises protocol/'s own
 * ProtocolError, as in the Node session: it ends the session with GO_AWAY ProtocolError.
 */
import { ReplyCode, ResetCode } from '../protocol/frame.js';

/** Stable codes of the errors a page sees: compare `error.code` against these. */
export const BrowserErrorCode = {
  /** The relay answered OPEN with a failure; `replyCode` says which. */
  OpenFailed: 'ERR_OPEN_FAILED',
  /** The relay or the target reset the stream, or this side aborted it. */
  StreamReset: 'ERR_STREAM_RESET',
  /** The session ended (GO_AWAY, a closed WebSocket, session.close()). */
  SessionClosed: 'ERR_SESSION_CLOSED',
  /** The WebSocket could not be opened or the HELLO exchange failed. */
  ConnectFailed: 'ERR_CONNECT_FAILED',
} as const;
export type BrowserErrorCode = (typeof BrowserErrorCode)[keyof typeof BrowserErrorCode];

/** What each SOCKS reply means (RFC 1928 §6), for messages. */
const REPLY_TEXT: Readonly<Record<number, string>> = {
  [ReplyCode.GeneralFailure]: 'general failure',
  [ReplyCode.NotAllowed]: 'not allowed by the relay',
  [ReplyCode.NetworkUnreachable]: 'network unreachable',
  [ReplyCode.HostUnreachable]: 'host unreachable',
  [ReplyCode.ConnectionRefused]: 'connection refused',
  [ReplyCode.TtlExpired]: 'TTL expired',
  [ReplyCode.CommandNotSupported]: 'command not supported',
  [ReplyCode.AddressTypeNotSupported]: 'address type not supported',
};

export function replyText(reply: number): string {
  return REPLY_TEXT[reply] ?? `reply 0x${reply.toString(16).padStart(2, '0')}`;
}

/**
 * An error a page sees. `replyCode` is the SOCKS reply number (ReplyCode): the relay's answer
 * for a refused open, GeneralFailure for a stream or session that ended abnormally.
 */
export class SockbridgeError extends Error {
  constructor(
    readonly code: BrowserErrorCode,
    readonly replyCode: number,
    message: string,
    /** For a reset stream: the RESET code (ResetCode). */
    readonly resetCode: number | null = null,
  ) {
    super(message);
    this.name = 'SockbridgeError';
  }
}

export function openFailed(host: string, port: number, reply: number): SockbridgeError {
  return new SockbridgeError(BrowserErrorCode.OpenFailed, reply, `connect to ${host}:${port} failed: ${replyText(reply)} (SOCKS reply 0x${reply.toString(16).padStart(2, '0')})`);
}

export function streamReset(code: number, reason: string, byPeer: boolean): SockbridgeError {
  const who = byPeer ? 'the relay reset the stream' : 'the stream was reset';
  return new SockbridgeError(BrowserErrorCode.StreamReset, ReplyCode.GeneralFailure, `${who}: ${reason || 'no reason given'}`, code);
}

export function sessionClosed(reason: string): SockbridgeError {
  return new SockbridgeError(BrowserErrorCode.SessionClosed, ReplyCode.GeneralFailure, `sockbridge session closed: ${reason}`, ResetCode.SessionClosed);
}
