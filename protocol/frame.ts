/**
 * The sockbridge wire format: frame types, flags, codes and limits.
 * protocol/README.md describes the same thing in prose; keep them in step.
 */
import type { ProtocolErrorCode } from './error-codes.js';

/** Versions this build speaks; the HELLO exchange picks the highest common one. */
export const PROTOCOL_VERSION_MIN = 1;
export const PROTOCOL_VERSION_MAX = 2;
/** The first version whose windows may grow beyond MAX_STREAM_WINDOW, up to MAX_STREAM_WINDOW_V2. */
export const PROTOCOL_VERSION_LARGE_WINDOWS = 2;

/** The default HTTP path where the relay takes the tunnel's WebSocket upgrade (--path names another). */
export const TUNNEL_PATH = '/tunnel';
/** WebSocket subprotocol announced by clients and selected by the relay. */
export const WS_SUBPROTOCOL = 'sockbridge.v1';
/** Prefix of the optional subprotocol entry that carries a base64url tunnel token (for browsers). */
export const WS_TOKEN_SUBPROTOCOL_PREFIX = 'sockbridge.token.';

export const FrameType = {
  Hello: 0x00,
  Open: 0x01,
  OpenResult: 0x02,
  Data: 0x03,
  Fin: 0x04,
  Reset: 0x05,
  WindowUpdate: 0x06,
  Ping: 0x07,
  GoAway: 0x08,
  /** BIND: the relay's listener accepted a peer (or gave up); a second OPEN_RESULT in all but name. */
  BindResult: 0x09,
  /** UDP ASSOCIATE: one datagram with its destination (client→relay) or source (relay→client). */
  Datagram: 0x0a,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Flag bit of PING: set on the answer. */
export const PING_FLAG_ACK = 0x01;

/** type (u8) + flags (u8) + stream id (u32, big-endian). */
export const FRAME_HEADER_SIZE = 6;
/** Largest DATA payload; one socket read in Node is at most this, so one read is one frame. */
export const MAX_DATA_PAYLOAD = 64 * 1024;
/** Largest UDP payload over IPv4 (65,535 − 8 UDP − 20 IP header bytes). */
export const MAX_DATAGRAM_PAYLOAD = 65_507;
/**
 * Kernel receive buffer asked for each UDP socket of an association. The default (~208 KiB)
 * overflowed under bursts of 1,400-byte datagrams in bench #7; the kernel may grant less.
 */
export const UDP_RECEIVE_BUFFER_BYTES = 1024 * 1024;
/** Longest encoded address: ATYP, length, 255-byte name, port. */
export const MAX_ENCODED_ADDRESS_LENGTH = 1 + 1 + 255 + 2;
/**
 * Largest whole frame (a maximal DATAGRAM), and the limit a side accepts unless its HELLO
 * announces a smaller one. The WebSocket's maxPayload is set to this, so ws refuses larger messages.
 */
export const MAX_FRAME_SIZE = FRAME_HEADER_SIZE + Math.max(MAX_DATA_PAYLOAD, MAX_ENCODED_ADDRESS_LENGTH + MAX_DATAGRAM_PAYLOAD);
/**
 * Smallest frame-size limit a HELLO may announce. Every control frame fits under it (the largest,
 * RESET or GO_AWAY with a full reason, is 6 + 1 + 512 = 519 bytes), so a limit only ever splits DATA
 * and drops DATAGRAMs.
 */
export const MIN_FRAME_SIZE_LIMIT = 1024;
/**
 * Credit each side grants each stream at open, in bytes. 1 MiB rather than yamux's 256 KiB:
 * loopback round trips through two event loops made 256 KiB the limit of a bulk stream (bench #1).
 */
export const INITIAL_STREAM_WINDOW = 1024 * 1024;
/** Largest window a peer may build up for one stream by updates, in protocol version 1. */
export const MAX_STREAM_WINDOW = 16 * 1024 * 1024;
/**
 * The same from version 2, where receive windows tune themselves to the path: far above the
 * bandwidth-delay product of any path a tunnel runs over (1 Gbit/s × 300 ms is 37.5 MB).
 */
export const MAX_STREAM_WINDOW_V2 = 1024 * 1024 * 1024;
/** Stream 0 is the session itself (HELLO, PING, GO_AWAY). */
export const SESSION_STREAM_ID = 0;

/** The two ends of a session: the client opens streams, the relay runs them. */
export type SessionRole = 'client' | 'relay';
/** Longest reason text carried by RESET and GO_AWAY. */
export const MAX_REASON_LENGTH = 512;

/** What the client asks the relay to do; the values are SOCKS5's CMD values (RFC 1928 §4). */
export const Command = {
  Connect: 0x01,
  Bind: 0x02,
  UdpAssociate: 0x03,
} as const;
export type Command = (typeof Command)[keyof typeof Command];

/** Address types, as SOCKS5's ATYP (RFC 1928 §5). */
export const AddressType = {
  IPv4: 0x01,
  Domain: 0x03,
  IPv6: 0x04,
} as const;
export type AddressType = (typeof AddressType)[keyof typeof AddressType];

/** Outcome of an OPEN, as SOCKS5's REP values (RFC 1928 §6), so the client can pass it on unchanged. */
export const ReplyCode = {
  Succeeded: 0x00,
  GeneralFailure: 0x01,
  NotAllowed: 0x02,
  NetworkUnreachable: 0x03,
  HostUnreachable: 0x04,
  ConnectionRefused: 0x05,
  TtlExpired: 0x06,
  CommandNotSupported: 0x07,
  AddressTypeNotSupported: 0x08,
} as const;
export type ReplyCode = (typeof ReplyCode)[keyof typeof ReplyCode];

/** Why a stream was reset. */
export const ResetCode = {
  /** The local end of the stream closed abnormally (socket error, abort). */
  Aborted: 0x01,
  /** The target reset the connection. */
  PeerReset: 0x02,
  /** Reserved: this implementation ends the whole session (GO_AWAY) when a peer breaks a stream's rules, so never sends it. */
  ProtocolError: 0x03,
  /** A limit was reached. */
  Limit: 0x04,
  /** The session is closing. */
  SessionClosed: 0x05,
} as const;
export type ResetCode = (typeof ResetCode)[keyof typeof ResetCode];

/** Why a session ends. */
export const GoAwayCode = {
  Normal: 0x00,
  ProtocolError: 0x01,
  InternalError: 0x02,
  ShuttingDown: 0x03,
  UnsupportedVersion: 0x04,
  KeepaliveTimeout: 0x05,
} as const;
export type GoAwayCode = (typeof GoAwayCode)[keyof typeof GoAwayCode];

/** An endpoint as carried in OPEN and OPEN_RESULT: host is an IP literal or a domain name. */
export interface Address {
  host: string;
  port: number;
}

/** `maxFrameSize`: the largest frame the sender accepts, when its HELLO says (absent: MAX_FRAME_SIZE). */
export interface HelloFrame { type: typeof FrameType.Hello; streamId: 0; minVersion: number; maxVersion: number; maxFrameSize?: number }
export interface OpenFrame { type: typeof FrameType.Open; streamId: number; command: Command; address: Address }
export interface OpenResultFrame { type: typeof FrameType.OpenResult; streamId: number; reply: ReplyCode; bound: Address }
export interface DataFrame { type: typeof FrameType.Data; streamId: number; payload: Buffer }
export interface FinFrame { type: typeof FrameType.Fin; streamId: number }
export interface ResetFrame { type: typeof FrameType.Reset; streamId: number; code: ResetCode; reason: string }
export interface WindowUpdateFrame { type: typeof FrameType.WindowUpdate; streamId: number; increment: number }
export interface PingFrame { type: typeof FrameType.Ping; streamId: 0; ack: boolean; opaque: number }
export interface BindResultFrame { type: typeof FrameType.BindResult; streamId: number; reply: ReplyCode; peer: Address }
export interface DatagramFrame { type: typeof FrameType.Datagram; streamId: number; address: Address; payload: Buffer }
export interface GoAwayFrame { type: typeof FrameType.GoAway; streamId: 0; code: GoAwayCode; reason: string }

export type Frame =
  | HelloFrame
  | OpenFrame
  | OpenResultFrame
  | DataFrame
  | FinFrame
  | ResetFrame
  | WindowUpdateFrame
  | PingFrame
  | GoAwayFrame
  | BindResultFrame
  | DatagramFrame;

/** A frame that breaks the wire format; `code` is stable, the message says what was wrong. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
