/**
 * Stable codes of protocol errors: a peer broke the wire format or the session's rules.
 * Each travels in a GO_AWAY's reason ("ERR_…: what was wrong") and in SessionCloseInfo.errorCode;
 * code compares against these names, never against the strings.
 */
export const ProtocolErrorCode = {
  /** A WebSocket message shorter than the 6-byte frame header. */
  ShortFrame: 'ERR_SHORT_FRAME',
  /** A frame type this version does not define. */
  UnknownFrameType: 'ERR_UNKNOWN_FRAME_TYPE',
  /** A body whose length does not fit its frame type (short, long, trailing bytes, truncated address). */
  FrameLength: 'ERR_FRAME_LENGTH',
  /** A message over the frame-size limit this side announced, or a payload over the protocol's maximum. */
  FrameTooLarge: 'ERR_FRAME_TOO_LARGE',
  /** A HELLO announcing a frame-size limit below MIN_FRAME_SIZE_LIMIT. */
  HelloFrameSize: 'ERR_HELLO_FRAME_SIZE',
  /** An address field that does not decode (unknown ATYP, empty domain, bad IPv6). */
  Address: 'ERR_ADDRESS',
  /** A session frame on a stream, a stream frame on stream 0, an OPEN id out of order, or a frame for an id never opened. */
  StreamId: 'ERR_STREAM_ID',
  /** A text WebSocket message: the protocol is binary. */
  TextMessage: 'ERR_TEXT_MESSAGE',
  /** A frame other than HELLO before HELLO. */
  NoHello: 'ERR_NO_HELLO',
  /** A second HELLO on the same session. */
  SecondHello: 'ERR_SECOND_HELLO',
  /** An OPEN sent by the relay: only the client opens streams. */
  UnexpectedOpen: 'ERR_UNEXPECTED_OPEN',
  /** A frame the stream's command or the sender's role does not allow (BIND_RESULT to the relay, DATAGRAM on TCP). */
  UnexpectedFrame: 'ERR_UNEXPECTED_FRAME',
  /** DATA after the peer's own FIN on that stream. */
  DataAfterFin: 'ERR_DATA_AFTER_FIN',
  /** DATA beyond the credit this side granted. */
  WindowExceeded: 'ERR_WINDOW_EXCEEDED',
  /** WINDOW_UPDATEs that raise a stream's credit above the largest window allowed. */
  WindowOverflow: 'ERR_WINDOW_OVERFLOW',
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

/** Stable codes of the address codec's errors; the SOCKS parsers report the same two. */
export const AddressErrorCode = {
  /** ATYP is none of IPv4, domain, IPv6 (RFC 1928 §5). */
  AddressType: 'ERR_ADDRESS_TYPE',
  /** A zero-length domain name, which names nothing. */
  EmptyDomain: 'ERR_EMPTY_DOMAIN',
} as const;
export type AddressErrorCode = (typeof AddressErrorCode)[keyof typeof AddressErrorCode];
