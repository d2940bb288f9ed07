/**
 * Property tests of the frame codec: generated frames of every type survive encode → decode
 * unchanged; arbitrary bytes decode to a frame or throw ProtocolError, nothing else; cutting
 * a frame inside its fixed part, or appending bytes to a self-delimited frame, is a ProtocolError.
 * Complements codec.test.ts (hex fixtures, seeded fuzz) with shrinking counterexamples.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { decodeFrame, encodeFrame } from '../../protocol/codec.js';
import { encodedAddressLength } from '../../protocol/address.js';
import {
  FRAME_HEADER_SIZE,
  FrameType,
  MAX_DATA_PAYLOAD,
  MAX_DATAGRAM_PAYLOAD,
  MAX_REASON_LENGTH,
  MIN_FRAME_SIZE_LIMIT,
  ProtocolError,
  type Address,
  type Command,
  type Frame,
  type GoAwayCode,
  type ReplyCode,
  type ResetCode,
} from '../../protocol/frame.js';

const NUM_RUNS = 1000;
/** HELLO's header and version bytes, and the optional u32 maxFrameSize after them. */
const SHORT_HELLO_LENGTH = FRAME_HEADER_SIZE + 2;
const HELLO_FRAME_SIZE_BYTES = 4;

// ---- generators ----

const u8 = fc.integer({ min: 0, max: 0xff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const streamId = fc.integer({ min: 1, max: 0xffff_ffff });
const port = fc.integer({ min: 0, max: 0xffff });

/** IPv6 spelled several ways (full, compressed, upper case); the decoder's spelling is the canonical one. */
const ipv6Host = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 2 }))
  .map(([bytes, spelling]) => {
    const address = ipaddr.fromByteArray([...bytes]) as ipaddr.IPv6;
    if (spelling === 0) return address.toNormalizedString();
    if (spelling === 1) return address.toString().toUpperCase();
    return address.toString();
  });
const ipv4Host = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => [...bytes].join('.'));
/** Domains are latin1 on the wire: any 1..255 non-empty latin1 text that does not read as an IP literal. */
const domainHost = fc
  .uint8Array({ minLength: 1, maxLength: 255 })
  .map((bytes) => Buffer.from(bytes).toString('latin1'))
  .filter((host) => !isIPv4(host) && !isIPv6(host) && !host.includes('%'));
const address: fc.Arbitrary<Address> = fc.record({ host: fc.oneof(ipv4Host, ipv6Host, domainHost), port }).map((a) => ({ ...a }));

/** Reasons of whole characters (no lone surrogates) of at most MAX_REASON_LENGTH UTF-8 bytes. */
const reason = fc
  .string({ unit: 'grapheme', maxLength: 200 })
  .filter((text) => Buffer.byteLength(text, 'utf8') <= MAX_REASON_LENGTH);
/** Mostly small payloads, sometimes one of exactly `max` bytes. */
const payload = (max: number): fc.Arbitrary<Buffer> =>
  fc
    .oneof(
      { weight: 20, arbitrary: fc.uint8Array({ maxLength: 300 }) },
      { weight: 1, arbitrary: fc.constant(new Uint8Array(max).fill(0x5a)) },
    )
    .map((bytes) => Buffer.from(bytes));

/** fc.record builds null-prototype objects; the decoder returns plain ones, and deepEqual compares prototypes. */
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ type: fc.constant(FrameType.Hello), streamId: fc.constant(0 as const), minVersion: u8, maxVersion: u8 }),
  fc.record({
    type: fc.constant(FrameType.Hello),
    streamId: fc.constant(0 as const),
    minVersion: u8,
    maxVersion: u8,
    maxFrameSize: fc.integer({ min: MIN_FRAME_SIZE_LIMIT, max: 0xffff_ffff }),
  }),
  fc.record({ type: fc.constant(FrameType.Open), streamId, command: u8.map((c) => c as Command), address }),
  fc.record({ type: fc.constant(FrameType.OpenResult), streamId, reply: u8.map((r) => r as ReplyCode), bound: address }),
  fc.record({ type: fc.constant(FrameType.Data), streamId, payload: payload(MAX_DATA_PAYLOAD) }),
  fc.record({ type: fc.constant(FrameType.Fin), streamId }),
  fc.record({ type: fc.constant(FrameType.Reset), streamId, code: u8.map((c) => c as ResetCode), reason }),
  fc.record({ type: fc.constant(FrameType.WindowUpdate), streamId, increment: u32 }),
  fc.record({ type: fc.constant(FrameType.Ping), streamId: fc.constant(0 as const), ack: fc.boolean(), opaque: u32 }),
  fc.record({ type: fc.constant(FrameType.GoAway), streamId: fc.constant(0 as const), code: u8.map((c) => c as GoAwayCode), reason }),
  fc.record({ type: fc.constant(FrameType.BindResult), streamId, reply: u8.map((r) => r as ReplyCode), peer: address }),
  fc.record({ type: fc.constant(FrameType.Datagram), streamId, address, payload: payload(MAX_DATAGRAM_PAYLOAD) }),
).map((frame): Frame => ({ ...frame }));

// ---- expectations ----

/** IPv6 text as the decoder spells it; everything else unchanged. */
function canonicalHost(host: string): string {
  return isIPv6(host) ? ipaddr.parse(host).toString() : host;
}

function canonical(frame: Frame): Frame {
  const fix = (a: Address): Address => ({ host: canonicalHost(a.host), port: a.port });
  switch (frame.type) {
    case FrameType.Open:
    case FrameType.Datagram:
      return { ...frame, address: fix(frame.address) };
    case FrameType.OpenResult:
      return { ...frame, bound: fix(frame.bound) };
    case FrameType.BindResult:
      return { ...frame, peer: fix(frame.peer) };
    default:
      return frame;
  }
}

/** Bytes a decoder must see before any prefix can be a frame: everything for self-delimited types. */
function fixedPartOf(frame: Frame, encodedLength: number): number {
  switch (frame.type) {
    case FrameType.Hello:
      return SHORT_HELLO_LENGTH; // the versions alone are a whole HELLO; maxFrameSize is optional
    case FrameType.Data:
      return FRAME_HEADER_SIZE;
    case FrameType.Reset:
    case FrameType.GoAway:
      return FRAME_HEADER_SIZE + 1;
    case FrameType.Datagram:
      return FRAME_HEADER_SIZE + encodedAddressLength(frame.address);
    default:
      return encodedLength;
  }
}

/** Types whose length is fully determined by their fields: any extra byte is an error. */
function isSelfDelimited(frame: Frame): boolean {
  return ![FrameType.Data, FrameType.Reset, FrameType.GoAway, FrameType.Datagram].includes(frame.type as never);
}

/** decodeFrame, with any throw that is not a ProtocolError turned into a failure naming the input. */
function decodeOrProtocolError(buf: Buffer): Frame | ProtocolError {
  try {
    return decodeFrame(buf);
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw new Error(`decodeFrame threw ${String(err)} (not a ProtocolError) for ${buf.toString('hex')}`, { cause: err });
  }
}

function assertProtocolError(buf: Buffer, what: string): void {
  const result = decodeOrProtocolError(buf);
  assert.ok(result instanceof ProtocolError, `${what} decoded to ${JSON.stringify(result)}`);
  assert.match(result.code, /^ERR_[A-Z_]+$/);
}

// ---- properties ----

describe('codec properties', () => {
  it('encode → decode is the identity for generated frames of every type (IPv6 in the decoder\'s spelling)', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const decoded = decodeOrProtocolError(encodeFrame(frame));
        assert.ok(!(decoded instanceof ProtocolError), `rejected: ${String(decoded)}`);
        assert.deepEqual(decoded, canonical(frame));
        // Decoding is stable: the canonical frame encodes to the same bytes.
        assert.deepEqual(encodeFrame(decoded), encodeFrame(frame));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('arbitrary bytes decode to a frame or throw ProtocolError, never anything else', () => {
    /** Half noise, half with a known type and a plausible stream id and address type, to get past the header. */
    const plausible = fc
      .tuple(fc.integer({ min: 0, max: 0x0b }), fc.integer({ min: 0, max: 3 }), u8, fc.uint8Array({ maxLength: 300 }))
      .map(([type, id, atyp, body]) => {
        const buf = Buffer.alloc(FRAME_HEADER_SIZE + body.length);
        buf[0] = type;
        buf.writeUInt32BE(id, 2);
        Buffer.from(body).copy(buf, FRAME_HEADER_SIZE);
        if (body.length > 1) buf[FRAME_HEADER_SIZE + (type === FrameType.Datagram ? 0 : 1)] = [1, 3, 4, atyp][atyp % 4];
        return buf;
      });
    const noise = fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes));
    fc.assert(
      fc.property(fc.oneof(plausible, noise), (buf) => {
        const result = decodeOrProtocolError(buf);
        if (result instanceof ProtocolError) return;
        // A frame that decoded must survive one more round trip unchanged.
        assert.deepEqual(decodeFrame(encodeFrame(result)), result);
      }),
      { numRuns: NUM_RUNS * 3 },
    );
  });

  it('any cut inside a frame\'s fixed part (the whole of a self-delimited frame) is a ProtocolError', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), (frame, cut) => {
        const bytes = encodeFrame(frame);
        const length = cut % fixedPartOf(frame, bytes.length);
        assertProtocolError(bytes.subarray(0, length), `type ${frame.type} cut to ${length} of ${bytes.length} bytes`);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('arbitrary trailing bytes after a self-delimited frame (HELLO, OPEN, OPEN_RESULT, FIN, WINDOW_UPDATE, PING, BIND_RESULT) are a ProtocolError', () => {
    fc.assert(
      fc.property(
        frameArb.filter(isSelfDelimited),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (frame, extra) => {
          // A short HELLO followed by four bytes is the long HELLO, not a short one with trailing bytes.
          fc.pre(!(frame.type === FrameType.Hello && frame.maxFrameSize === undefined && extra.length === HELLO_FRAME_SIZE_BYTES));
          const bytes = Buffer.concat([encodeFrame(frame), extra]);
          assertProtocolError(bytes, `type ${frame.type} with ${extra.length} trailing bytes`);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
