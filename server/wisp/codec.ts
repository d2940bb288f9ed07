/**
 * Wisp's wire format (MercuryWorkshop/wisp-protocol, protocol.md, "Packet format"): one
 * WebSocket message is one packet, `u8 type | u32 stream id | payload`, every integer
 * little-endian. Pure functions over buffers: decodeWispPacket returns a packet or throws a
 * WispCodecError with a stable code; nothing here does I/O. Written from the public spec.
 */

/** "Packet Types". INFO (0x05) belongs to version 2 only; this relay speaks version 1 (README). */
export const WispPacketType = {
  Connect: 0x01,
  Data: 0x02,
  Continue: 0x03,
  Close: 0x04,
} as const;
export type WispPacketType = (typeof WispPacketType)[keyof typeof WispPacketType];

/** CONNECT's "Stream Type" field. */
export const WispStreamType = {
  Tcp: 0x01,
  Udp: 0x02,
} as const;
export type WispStreamType = (typeof WispStreamType)[keyof typeof WispStreamType];

/** "Client/Server Close Reasons", "Server Only Close Reasons", "Client Only Close Reasons". */
export const WispCloseReason = {
  /** Reason unspecified or unknown. */
  Unspecified: 0x01,
  /** Voluntary closure: one side ended the stream. */
  Voluntary: 0x02,
  /** Unexpected closure due to a network error. */
  NetworkError: 0x03,
  /** Stream creation failed: invalid information (bad port, bad address, unsupported stream type). */
  InvalidInfo: 0x41,
  /** Stream creation failed: the destination is unreachable (the name does not resolve). */
  Unreachable: 0x42,
  /** Stream creation timed out: the destination did not answer. */
  Timeout: 0x43,
  /** Stream creation failed: the destination refused the connection. */
  Refused: 0x44,
  /** TCP data transfer timed out (sent for --idle-timeout). */
  TransferTimeout: 0x47,
  /** The destination is intentionally blocked by the server (a destination rule). */
  Blocked: 0x48,
  /** Throttled by the server (a limit). */
  Throttled: 0x49,
  /** The client hit an unexpected error and can receive no more data. */
  ClientError: 0x81,
} as const;
export type WispCloseReason = (typeof WispCloseReason)[keyof typeof WispCloseReason];

/** "the stream ID of 0 is reserved for the initial handshake" (the first CONTINUE). */
export const WISP_HANDSHAKE_STREAM = 0;
export const WISP_HEADER_SIZE = 5;
/** CONNECT: u8 stream type, u16 port, then the hostname (at least one byte). */
const CONNECT_FIXED_SIZE = 3;
const CONTINUE_PAYLOAD_SIZE = 4;
const CLOSE_PAYLOAD_SIZE = 1;

export interface WispConnect { type: typeof WispPacketType.Connect; streamId: number; streamType: number; port: number; hostname: string }
export interface WispData { type: typeof WispPacketType.Data; streamId: number; payload: Buffer }
export interface WispContinue { type: typeof WispPacketType.Continue; streamId: number; bufferRemaining: number }
export interface WispClose { type: typeof WispPacketType.Close; streamId: number; reason: number }
/** A type this relay does not know: the session ignores it (a version 2 extension may define it). */
export interface WispUnknown { type: 'unknown'; packetType: number; streamId: number }
export type WispPacket = WispConnect | WispData | WispContinue | WispClose | WispUnknown;

/** Stable codes of malformed packets. */
export const WispCodecErrorCode = {
  /** Fewer than the 5 header bytes. */
  ShortPacket: 'wisp-short-packet',
  /** A payload shorter than its type's fixed fields. */
  ShortPayload: 'wisp-short-payload',
  /** CONTINUE or CLOSE with bytes after their field. */
  TrailingBytes: 'wisp-trailing-bytes',
  /** A CONNECT hostname that is not valid UTF-8. */
  BadHostname: 'wisp-bad-hostname',
} as const;
export type WispCodecErrorCode = (typeof WispCodecErrorCode)[keyof typeof WispCodecErrorCode];

export class WispCodecError extends Error {
  constructor(
    readonly code: WispCodecErrorCode,
    message: string,
    /** The packet's stream, when the header could be read. */
    readonly streamId: number | null,
  ) {
    super(message);
    this.name = 'WispCodecError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One WebSocket message as one packet. DATA's payload is a view into `message`. */
export function decodeWispPacket(message: Buffer): WispPacket {
  if (message.length < WISP_HEADER_SIZE) throw new WispCodecError(WispCodecErrorCode.ShortPacket, `a packet of ${message.length} bytes`, null);
  const type = message.readUInt8(0);
  const streamId = message.readUInt32LE(1);
  const payload = message.subarray(WISP_HEADER_SIZE);
  switch (type) {
    case WispPacketType.Connect:
      return decodeConnect(streamId, payload);
    case WispPacketType.Data:
      return { type, streamId, payload };
    case WispPacketType.Continue:
      fixedSize(streamId, payload, CONTINUE_PAYLOAD_SIZE, 'CONTINUE');
      return { type, streamId, bufferRemaining: payload.readUInt32LE(0) };
    case WispPacketType.Close:
      fixedSize(streamId, payload, CLOSE_PAYLOAD_SIZE, 'CLOSE');
      return { type, streamId, reason: payload.readUInt8(0) };
    default:
      return { type: 'unknown', packetType: type, streamId };
  }
}

function decodeConnect(streamId: number, payload: Buffer): WispConnect {
  if (payload.length <= CONNECT_FIXED_SIZE) throw new WispCodecError(WispCodecErrorCode.ShortPayload, `CONNECT payload of ${payload.length} bytes`, streamId);
  let hostname: string;
  try {
    hostname = utf8.decode(payload.subarray(CONNECT_FIXED_SIZE));
  } catch {
    throw new WispCodecError(WispCodecErrorCode.BadHostname, 'CONNECT hostname is not UTF-8', streamId);
  }
  return { type: WispPacketType.Connect, streamId, streamType: payload.readUInt8(0), port: payload.readUInt16LE(1), hostname };
}

function fixedSize(streamId: number, payload: Buffer, size: number, name: string): void {
  if (payload.length < size) throw new WispCodecError(WispCodecErrorCode.ShortPayload, `${name} payload of ${payload.length} bytes`, streamId);
  if (payload.length > size) throw new WispCodecError(WispCodecErrorCode.TrailingBytes, `${name} payload of ${payload.length} bytes`, streamId);
}

function header(type: number, streamId: number, payloadSize: number): Buffer {
  const packet = Buffer.allocUnsafe(WISP_HEADER_SIZE + payloadSize);
  packet.writeUInt8(type, 0);
  packet.writeUInt32LE(streamId, 1);
  return packet;
}

export function encodeWispConnect(streamId: number, streamType: number, port: number, hostname: string): Buffer {
  const name = Buffer.from(hostname, 'utf8');
  const packet = header(WispPacketType.Connect, streamId, CONNECT_FIXED_SIZE + name.length);
  packet.writeUInt8(streamType, WISP_HEADER_SIZE);
  packet.writeUInt16LE(port, WISP_HEADER_SIZE + 1);
  name.copy(packet, WISP_HEADER_SIZE + CONNECT_FIXED_SIZE);
  return packet;
}

/** DATA: the payload is copied, so borrowed bytes (a shared read buffer) may be passed. */
export function encodeWispData(streamId: number, payload: Uint8Array): Buffer {
  const packet = header(WispPacketType.Data, streamId, payload.length);
  packet.set(payload, WISP_HEADER_SIZE);
  return packet;
}

export function encodeWispContinue(streamId: number, bufferRemaining: number): Buffer {
  const packet = header(WispPacketType.Continue, streamId, CONTINUE_PAYLOAD_SIZE);
  packet.writeUInt32LE(bufferRemaining, WISP_HEADER_SIZE);
  return packet;
}

export function encodeWispClose(streamId: number, reason: number): Buffer {
  const packet = header(WispPacketType.Close, streamId, CLOSE_PAYLOAD_SIZE);
  packet.writeUInt8(reason, WISP_HEADER_SIZE);
  return packet;
}
