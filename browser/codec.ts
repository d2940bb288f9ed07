/**
 * The sockbridge frame codec over Uint8Array and DataView, for the browser (protocol/codec.ts
 * is the Node one, over Buffer). One WebSocket message is one frame (protocol/README.md,
 * *Frame header*); only the frames a client sends are encoded, only those it may receive decoded.
 */
import {
  ProtocolError,
  FRAME_HEADER_SIZE,
  FrameType,
  MAX_DATA_PAYLOAD,
  MAX_REASON_LENGTH,
  MIN_FRAME_SIZE_LIMIT,
  PING_FLAG_ACK,
  SESSION_STREAM_ID,
  type Address,
  type Command,
} from '../protocol/frame.js';
import { ProtocolErrorCode } from '../protocol/error-codes.js';
import { hexByte } from '../common/hex-byte.js';
import { decodeAddress, encodeAddress } from './address.js';

const U8 = 1;
const U32_BODY = 4;
/** HELLO bodies: minVersion and maxVersion, optionally followed by maxFrameSize (u32). */
const HELLO_SHORT_BODY = 2 * U8;
const HELLO_LONG_BODY = HELLO_SHORT_BODY + U32_BODY;
/** Where a frame's body starts. */
const BODY = FRAME_HEADER_SIZE;

/** A frame the browser client may receive; payloads are views into the message. */
export type InboundFrame =
  | { type: typeof FrameType.Hello; minVersion: number; maxVersion: number; maxFrameSize: number | null }
  | { type: typeof FrameType.OpenResult; streamId: number; reply: number; bound: Address }
  | { type: typeof FrameType.Data; streamId: number; payload: Uint8Array }
  | { type: typeof FrameType.Fin; streamId: number }
  | { type: typeof FrameType.Reset; streamId: number; code: number; reason: string }
  | { type: typeof FrameType.WindowUpdate; streamId: number; increment: number }
  | { type: typeof FrameType.Ping; ack: boolean; opaque: number }
  | { type: typeof FrameType.GoAway; code: number; reason: string }
  | { type: typeof FrameType.BindResult | typeof FrameType.Datagram | typeof FrameType.Open; streamId: number };

const SESSION_TYPES: ReadonlySet<number> = new Set([FrameType.Hello, FrameType.Ping, FrameType.GoAway]);
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

function frame(type: number, streamId: number, bodyLength: number, flags = 0): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(FRAME_HEADER_SIZE + bodyLength);
  const view = new DataView(bytes.buffer);
  bytes[0] = type;
  bytes[1] = flags;
  view.setUint32(2, streamId);
  return { bytes, view };
}

export function encodeHello(minVersion: number, maxVersion: number, maxFrameSize: number): Uint8Array {
  const { bytes, view } = frame(FrameType.Hello, SESSION_STREAM_ID, HELLO_LONG_BODY);
  bytes[BODY] = minVersion;
  bytes[BODY + U8] = maxVersion;
  view.setUint32(BODY + HELLO_SHORT_BODY, maxFrameSize);
  return bytes;
}

export function encodeOpen(streamId: number, command: Command, address: Address): Uint8Array {
  const encoded = encodeAddress(address);
  const { bytes } = frame(FrameType.Open, streamId, U8 + encoded.length);
  bytes[BODY] = command;
  bytes.set(encoded, BODY + U8);
  return bytes;
}

/** Copies `payload` (at most MAX_DATA_PAYLOAD bytes) into a DATA frame. */
export function encodeData(streamId: number, payload: Uint8Array): Uint8Array {
  const { bytes } = frame(FrameType.Data, streamId, payload.length);
  bytes.set(payload, BODY);
  return bytes;
}

export function encodeFin(streamId: number): Uint8Array {
  return frame(FrameType.Fin, streamId, 0).bytes;
}

export function encodeWindowUpdate(streamId: number, increment: number): Uint8Array {
  const { bytes, view } = frame(FrameType.WindowUpdate, streamId, U32_BODY);
  view.setUint32(BODY, increment);
  return bytes;
}

export function encodePing(ack: boolean, opaque: number): Uint8Array {
  const { bytes, view } = frame(FrameType.Ping, SESSION_STREAM_ID, U32_BODY, ack ? PING_FLAG_ACK : 0);
  view.setUint32(BODY, opaque);
  return bytes;
}

export function encodeReset(streamId: number, code: number, reason: string): Uint8Array {
  return encodeCodeAndReason(FrameType.Reset, streamId, code, reason);
}

export function encodeGoAway(code: number, reason: string): Uint8Array {
  return encodeCodeAndReason(FrameType.GoAway, SESSION_STREAM_ID, code, reason);
}

function encodeCodeAndReason(type: number, streamId: number, code: number, reason: string): Uint8Array {
  const text = truncateUtf8(utf8Encoder.encode(reason), MAX_REASON_LENGTH);
  const { bytes } = frame(type, streamId, U8 + text.length);
  bytes[BODY] = code;
  bytes.set(text, BODY + U8);
  return bytes;
}

/** Cuts at most `limit` bytes without splitting a UTF-8 sequence. */
function truncateUtf8(bytes: Uint8Array, limit: number): Uint8Array {
  if (bytes.length <= limit) return bytes;
  let end = limit;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** Decodes one message; throws ProtocolError with the protocol error code for anything the spec forbids. */
export function decodeFrame(message: Uint8Array): InboundFrame {
  if (message.length < FRAME_HEADER_SIZE) throw new ProtocolError(ProtocolErrorCode.ShortFrame, `message of ${message.length} bytes`);
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const type = message[0];
  const streamId = view.getUint32(2);
  const body = message.subarray(BODY);
  if (type > FrameType.Datagram) throw new ProtocolError(ProtocolErrorCode.UnknownFrameType, `frame type ${hexByte(type)}`);
  if (SESSION_TYPES.has(type) !== (streamId === SESSION_STREAM_ID)) throw new ProtocolError(ProtocolErrorCode.StreamId, `frame type ${type} on stream ${streamId}`);
  switch (type) {
    case FrameType.Hello: return decodeHello(body);
    case FrameType.OpenResult: return { type, streamId, reply: requireByte(body, 'OPEN_RESULT'), bound: wholeAddress(body.subarray(U8)) };
    case FrameType.Data: return decodeData(streamId, body);
    case FrameType.Fin:
      if (body.length !== 0) throw new ProtocolError(ProtocolErrorCode.FrameLength, `FIN with ${body.length} body bytes`);
      return { type, streamId };
    case FrameType.Reset: return { type, streamId, ...decodeCodeAndReason(body, 'RESET') };
    case FrameType.WindowUpdate: return { type, streamId, increment: u32Body(body, 'WINDOW_UPDATE') };
    case FrameType.Ping: return { type, ack: (message[1] & PING_FLAG_ACK) !== 0, opaque: u32Body(body, 'PING') };
    case FrameType.GoAway: return { type, ...decodeCodeAndReason(body, 'GO_AWAY') };
    default: return { type: type as typeof FrameType.Open, streamId };
  }
}

function decodeHello(body: Uint8Array): InboundFrame {
  if (body.length !== HELLO_SHORT_BODY && body.length !== HELLO_LONG_BODY) throw new ProtocolError(ProtocolErrorCode.FrameLength, `HELLO of ${body.length} body bytes`);
  let maxFrameSize: number | null = null;
  if (body.length === HELLO_LONG_BODY) {
    maxFrameSize = new DataView(body.buffer, body.byteOffset + HELLO_SHORT_BODY, U32_BODY).getUint32(0);
    if (maxFrameSize < MIN_FRAME_SIZE_LIMIT) throw new ProtocolError(ProtocolErrorCode.HelloFrameSize, `HELLO frame-size limit ${maxFrameSize} below ${MIN_FRAME_SIZE_LIMIT}`);
  }
  return { type: FrameType.Hello, minVersion: body[0], maxVersion: body[1], maxFrameSize };
}

function decodeData(streamId: number, body: Uint8Array): InboundFrame {
  if (body.length > MAX_DATA_PAYLOAD) throw new ProtocolError(ProtocolErrorCode.FrameTooLarge, `DATA payload of ${body.length} bytes, over ${MAX_DATA_PAYLOAD}`);
  return { type: FrameType.Data, streamId, payload: body };
}

function requireByte(body: Uint8Array, name: string): number {
  if (body.length === 0) throw new ProtocolError(ProtocolErrorCode.FrameLength, `${name} with an empty body`);
  return body[0];
}

function wholeAddress(bytes: Uint8Array): Address {
  const { address, length } = decodeAddress(bytes);
  if (length !== bytes.length) throw new ProtocolError(ProtocolErrorCode.FrameLength, `${bytes.length - length} bytes after the address`);
  return address;
}

function u32Body(body: Uint8Array, name: string): number {
  if (body.length !== U32_BODY) throw new ProtocolError(ProtocolErrorCode.FrameLength, `${name} with ${body.length} body bytes`);
  return new DataView(body.buffer, body.byteOffset, U32_BODY).getUint32(0);
}

function decodeCodeAndReason(body: Uint8Array, name: string): { code: number; reason: string } {
  if (body.length === 0 || body.length > U8 + MAX_REASON_LENGTH) throw new ProtocolError(ProtocolErrorCode.FrameLength, `${name} with ${body.length} body bytes`);
  return { code: body[0], reason: utf8Decoder.decode(body.subarray(U8)) };
}
