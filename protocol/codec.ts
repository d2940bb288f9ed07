/**
 * encodeFrame / decodeFrame. One WebSocket binary message carries exactly one frame;
 * a message shorter than its frame, or with bytes left over, is a protocol error.
 */
import { decodeAddress, encodeAddressInto, encodedAddressLength } from './address.js';
import {
  FRAME_HEADER_SIZE,
  FrameType,
  MAX_DATA_PAYLOAD,
  MAX_DATAGRAM_PAYLOAD,
  MAX_REASON_LENGTH,
  MIN_FRAME_SIZE_LIMIT,
  PING_FLAG_ACK,
  ProtocolError,
  SESSION_STREAM_ID,
  type Address,
  type Command,
  type Frame,
  type GoAwayCode,
  type ReplyCode,
  type ResetCode,
} from './frame.js';
import { ProtocolErrorCode } from './error-codes.js';

const U8 = 1;
const U32 = 4;
/** HELLO bodies: minVersion and maxVersion, optionally followed by maxFrameSize (u32). */
const HELLO_SHORT_BODY = 2 * U8;
const HELLO_LONG_BODY = HELLO_SHORT_BODY + U32;

function header(type: FrameType, flags: number, streamId: number, bodyLength: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_SIZE + bodyLength);
  buf[0] = type;
  buf[1] = flags;
  buf.writeUInt32BE(streamId, 2);
  return buf;
}

/** The short form (versions only) without `maxFrameSize`; the long form announces the largest frame this side accepts. */
export function encodeHello(minVersion: number, maxVersion: number, maxFrameSize?: number): Buffer {
  const buf = header(FrameType.Hello, 0, SESSION_STREAM_ID, maxFrameSize === undefined ? HELLO_SHORT_BODY : HELLO_LONG_BODY);
  buf[FRAME_HEADER_SIZE] = minVersion;
  buf[FRAME_HEADER_SIZE + 1] = maxVersion;
  if (maxFrameSize !== undefined) buf.writeUInt32BE(maxFrameSize, FRAME_HEADER_SIZE + HELLO_SHORT_BODY);
  return buf;
}

export function encodeOpen(streamId: number, command: Command, address: Address): Buffer {
  const buf = header(FrameType.Open, 0, streamId, U8 + encodedAddressLength(address));
  buf[FRAME_HEADER_SIZE] = command;
  encodeAddressInto(address, buf, FRAME_HEADER_SIZE + U8);
  return buf;
}

export function encodeOpenResult(streamId: number, reply: ReplyCode, bound: Address): Buffer {
  return encodeReplyAndAddress(FrameType.OpenResult, streamId, reply, bound);
}

export function encodeBindResult(streamId: number, reply: ReplyCode, peer: Address): Buffer {
  return encodeReplyAndAddress(FrameType.BindResult, streamId, reply, peer);
}

function encodeReplyAndAddress(type: FrameType, streamId: number, reply: ReplyCode, address: Address): Buffer {
  const buf = header(type, 0, streamId, U8 + encodedAddressLength(address));
  buf[FRAME_HEADER_SIZE] = reply;
  encodeAddressInto(address, buf, FRAME_HEADER_SIZE + U8);
  return buf;
}

export function encodeDatagram(streamId: number, address: Address, payload: Buffer): Buffer {
  if (payload.length > MAX_DATAGRAM_PAYLOAD) throw new RangeError(`datagram of ${payload.length} bytes`);
  const buf = header(FrameType.Datagram, 0, streamId, encodedAddressLength(address) + payload.length);
  const payloadStart = encodeAddressInto(address, buf, FRAME_HEADER_SIZE);
  payload.copy(buf, payloadStart);
  return buf;
}

export function encodeData(streamId: number, payload: Buffer): Buffer {
  return encodeDataInto(Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length), streamId, payload);
}

/** Writes a DATA frame at the start of `target` (for pooled buffers) and returns the frame's bytes. */
export function encodeDataInto(target: Buffer, streamId: number, payload: Buffer): Buffer {
  if (payload.length > MAX_DATA_PAYLOAD) throw new RangeError(`DATA payload of ${payload.length} bytes`);
  const frameLength = FRAME_HEADER_SIZE + payload.length;
  if (target.length < frameLength) throw new RangeError(`buffer of ${target.length} bytes for a ${frameLength}-byte frame`);
  target[0] = FrameType.Data;
  target[1] = 0;
  target.writeUInt32BE(streamId, 2);
  payload.copy(target, FRAME_HEADER_SIZE);
  return target.subarray(0, frameLength);
}

export function encodeFin(streamId: number): Buffer {
  return header(FrameType.Fin, 0, streamId, 0);
}

export function encodeReset(streamId: number, code: ResetCode, reason: string): Buffer {
  return encodeCodeAndReason(FrameType.Reset, streamId, code, reason);
}

export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const buf = header(FrameType.WindowUpdate, 0, streamId, U32);
  buf.writeUInt32BE(increment, FRAME_HEADER_SIZE);
  return buf;
}

export function encodePing(ack: boolean, opaque: number): Buffer {
  const buf = header(FrameType.Ping, ack ? PING_FLAG_ACK : 0, SESSION_STREAM_ID, U32);
  buf.writeUInt32BE(opaque >>> 0, FRAME_HEADER_SIZE);
  return buf;
}

export function encodeGoAway(code: GoAwayCode, reason: string): Buffer {
  return encodeCodeAndReason(FrameType.GoAway, SESSION_STREAM_ID, code, reason);
}

function encodeCodeAndReason(type: FrameType, streamId: number, code: number, reason: string): Buffer {
  const text = truncateUtf8(Buffer.from(reason, 'utf8'), MAX_REASON_LENGTH);
  const buf = header(type, 0, streamId, U8 + text.length);
  buf[FRAME_HEADER_SIZE] = code;
  text.copy(buf, FRAME_HEADER_SIZE + U8);
  return buf;
}

/** Cuts UTF-8 to at most `max` bytes without splitting a character (continuation bytes are 10xxxxxx). */
function truncateUtf8(text: Buffer, max: number): Buffer {
  if (text.length <= max) return text;
  let end = max;
  while (end > 0 && (text[end] & 0xc0) === 0x80) end--;
  return text.subarray(0, end);
}

/** Encodes any frame; the session uses the typed encoders above directly on hot paths. */
export function encodeFrame(frame: Frame): Buffer {
  switch (frame.type) {
    case FrameType.Hello: return encodeHello(frame.minVersion, frame.maxVersion, frame.maxFrameSize);
    case FrameType.Open: return encodeOpen(frame.streamId, frame.command, frame.address);
    case FrameType.OpenResult: return encodeOpenResult(frame.streamId, frame.reply, frame.bound);
    case FrameType.Data: return encodeData(frame.streamId, frame.payload);
    case FrameType.Fin: return encodeFin(frame.streamId);
    case FrameType.Reset: return encodeReset(frame.streamId, frame.code, frame.reason);
    case FrameType.WindowUpdate: return encodeWindowUpdate(frame.streamId, frame.increment);
    case FrameType.Ping: return encodePing(frame.ack, frame.opaque);
    case FrameType.GoAway: return encodeGoAway(frame.code, frame.reason);
    case FrameType.BindResult: return encodeBindResult(frame.streamId, frame.reply, frame.peer);
    case FrameType.Datagram: return encodeDatagram(frame.streamId, frame.address, frame.payload);
  }
}

/**
 * Decodes one whole frame. DATA payloads are views into `buf`, not copies.
 * Throws ProtocolError for anything that is not exactly one well-formed frame.
 */
export function decodeFrame(buf: Buffer): Frame {
  if (buf.length < FRAME_HEADER_SIZE) {
    throw new ProtocolError(ProtocolErrorCode.ShortFrame, `frame of ${buf.length} bytes is shorter than its header`);
  }
  const type = buf[0];
  const flags = buf[1];
  const streamId = buf.readUInt32BE(2);
  const body = buf.subarray(FRAME_HEADER_SIZE);
  const decoder = BODY_DECODERS[type];
  if (decoder === undefined) {
    throw new ProtocolError(ProtocolErrorCode.UnknownFrameType, `unknown frame type 0x${type.toString(16)}`);
  }
  const isSessionFrame = type === FrameType.Hello || type === FrameType.Ping || type === FrameType.GoAway;
  if (isSessionFrame !== (streamId === SESSION_STREAM_ID)) {
    throw new ProtocolError(ProtocolErrorCode.StreamId, `frame type 0x${type.toString(16)} on stream ${streamId}`);
  }
  return decoder(streamId, flags, body);
}

type BodyDecoder = (streamId: number, flags: number, body: Buffer) => Frame;

const BODY_DECODERS: Record<number, BodyDecoder> = {
  [FrameType.Hello]: (_id, _flags, body) => {
    const hello = { type: FrameType.Hello, streamId: 0, minVersion: body[0], maxVersion: body[1] } as const;
    if (body.length === HELLO_SHORT_BODY) return hello;
    if (body.length !== HELLO_LONG_BODY) {
      throw new ProtocolError(ProtocolErrorCode.FrameLength, `HELLO body of ${body.length} bytes, expected ${HELLO_SHORT_BODY} or ${HELLO_LONG_BODY}`);
    }
    const maxFrameSize = body.readUInt32BE(HELLO_SHORT_BODY);
    if (maxFrameSize < MIN_FRAME_SIZE_LIMIT) {
      throw new ProtocolError(ProtocolErrorCode.HelloFrameSize, `HELLO announces a frame-size limit of ${maxFrameSize} bytes, below the minimum ${MIN_FRAME_SIZE_LIMIT}`);
    }
    return { ...hello, maxFrameSize };
  },
  [FrameType.Open]: (streamId, _flags, body) => {
    expectAtLeast(body, U8, 'OPEN');
    const address = decodeWholeAddress(body, U8, 'OPEN');
    return { type: FrameType.Open, streamId, command: body[0] as Command, address };
  },
  [FrameType.OpenResult]: (streamId, _flags, body) => {
    expectAtLeast(body, U8, 'OPEN_RESULT');
    const bound = decodeWholeAddress(body, U8, 'OPEN_RESULT');
    return { type: FrameType.OpenResult, streamId, reply: body[0] as ReplyCode, bound };
  },
  [FrameType.Data]: (streamId, _flags, payload) => {
    if (payload.length > MAX_DATA_PAYLOAD) {
      throw new ProtocolError(ProtocolErrorCode.FrameTooLarge, `DATA payload of ${payload.length} bytes`);
    }
    return { type: FrameType.Data, streamId, payload };
  },
  [FrameType.Fin]: (streamId, _flags, body) => {
    expectLength(body, 0, 'FIN');
    return { type: FrameType.Fin, streamId };
  },
  [FrameType.Reset]: (streamId, _flags, body) => {
    const { code, reason } = decodeCodeAndReason(body, 'RESET');
    return { type: FrameType.Reset, streamId, code: code as ResetCode, reason };
  },
  [FrameType.WindowUpdate]: (streamId, _flags, body) => {
    expectLength(body, U32, 'WINDOW_UPDATE');
    return { type: FrameType.WindowUpdate, streamId, increment: body.readUInt32BE(0) };
  },
  [FrameType.Ping]: (_id, flags, body) => {
    expectLength(body, U32, 'PING');
    return { type: FrameType.Ping, streamId: 0, ack: (flags & PING_FLAG_ACK) !== 0, opaque: body.readUInt32BE(0) };
  },
  [FrameType.BindResult]: (streamId, _flags, body) => {
    expectAtLeast(body, U8, 'BIND_RESULT');
    const peer = decodeWholeAddress(body, U8, 'BIND_RESULT');
    return { type: FrameType.BindResult, streamId, reply: body[0] as ReplyCode, peer };
  },
  [FrameType.Datagram]: (streamId, _flags, body) => {
    const { address, end } = decodeAddressPrefix(body, 0, 'DATAGRAM');
    const payload = body.subarray(end);
    if (payload.length > MAX_DATAGRAM_PAYLOAD) {
      throw new ProtocolError(ProtocolErrorCode.FrameTooLarge, `DATAGRAM payload of ${payload.length} bytes`);
    }
    return { type: FrameType.Datagram, streamId, address, payload };
  },
  [FrameType.GoAway]: (_id, _flags, body) => {
    const { code, reason } = decodeCodeAndReason(body, 'GO_AWAY');
    return { type: FrameType.GoAway, streamId: 0, code: code as GoAwayCode, reason };
  },
};

function expectLength(body: Buffer, length: number, name: string): void {
  if (body.length !== length) {
    throw new ProtocolError(ProtocolErrorCode.FrameLength, `${name} body of ${body.length} bytes, expected ${length}`);
  }
}

function expectAtLeast(body: Buffer, length: number, name: string): void {
  if (body.length < length) {
    throw new ProtocolError(ProtocolErrorCode.FrameLength, `${name} body of ${body.length} bytes, expected at least ${length}`);
  }
}

function decodeAddressPrefix(body: Buffer, offset: number, name: string): { address: Address; end: number } {
  let decoded;
  try {
    decoded = decodeAddress(body, offset);
  } catch (err) {
    throw new ProtocolError(ProtocolErrorCode.Address, `${name}: ${(err as Error).message}`);
  }
  if (decoded === null) throw new ProtocolError(ProtocolErrorCode.FrameLength, `${name} address is truncated`);
  return decoded;
}

function decodeWholeAddress(body: Buffer, offset: number, name: string): Address {
  const decoded = decodeAddressPrefix(body, offset, name);
  if (decoded.end !== body.length) {
    throw new ProtocolError(ProtocolErrorCode.FrameLength, `${name} has ${body.length - decoded.end} trailing bytes`);
  }
  return decoded.address;
}

function decodeCodeAndReason(body: Buffer, name: string): { code: number; reason: string } {
  expectAtLeast(body, U8, name);
  if (body.length > U8 + MAX_REASON_LENGTH) {
    throw new ProtocolError(ProtocolErrorCode.FrameLength, `${name} reason of ${body.length - U8} bytes`);
  }
  return { code: body[0], reason: body.toString('utf8', U8) };
}
