/**
 * Codec tests: a hex fixture table (both directions), every truncation, one trailing byte,
 * the named rejections, and a seeded fuzz run that may only ever yield a frame or a ProtocolError.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, encodeFrame, encodeData, encodeGoAway, encodeHello, encodeOpen, encodeReset } from '../../protocol/codec.js';
import { encodedAddressLength } from '../../protocol/address.js';
import {
  Command,
  FRAME_HEADER_SIZE,
  FrameType,
  GoAwayCode,
  MAX_DATA_PAYLOAD,
  MAX_REASON_LENGTH,
  MIN_FRAME_SIZE_LIMIT,
  ProtocolError,
  ReplyCode,
  ResetCode,
  type Frame,
} from '../../protocol/frame.js';
import { seededRandom } from '../helpers/fixtures/seeded-random.js';

interface Fixture {
  name: string;
  frame: Frame;
  /** Exact wire bytes; spaces separate header fields from body fields for readability. */
  hex: string;
}

/** Header plus minVersion and maxVersion: a HELLO without the optional maxFrameSize. */
const SHORT_HELLO_LENGTH = FRAME_HEADER_SIZE + 2;

const ascii = (text: string): string => Buffer.from(text, 'latin1').toString('hex');

const FIXTURES: Fixture[] = [
  {
    name: 'HELLO',
    frame: { type: FrameType.Hello, streamId: 0, minVersion: 1, maxVersion: 2 },
    hex: '00 00 00000000 01 02',
  },
  {
    name: 'HELLO announcing a frame-size limit',
    frame: { type: FrameType.Hello, streamId: 0, minVersion: 1, maxVersion: 1, maxFrameSize: 4096 },
    hex: '00 00 00000000 01 01 00001000',
  },
  {
    name: 'OPEN CONNECT IPv4',
    frame: { type: FrameType.Open, streamId: 1, command: Command.Connect, address: { host: '127.0.0.1', port: 80 } },
    hex: '01 00 00000001 01 01 7f000001 0050',
  },
  {
    name: 'OPEN CONNECT IPv6',
    frame: { type: FrameType.Open, streamId: 3, command: Command.Connect, address: { host: '2001:db8::1', port: 443 } },
    hex: '01 00 00000003 01 04 20010db8000000000000000000000001 01bb',
  },
  {
    name: 'OPEN BIND domain',
    frame: { type: FrameType.Open, streamId: 5, command: Command.Bind, address: { host: 'example.com', port: 8080 } },
    hex: `01 00 00000005 02 03 0b ${ascii('example.com')} 1f90`,
  },
  {
    name: 'OPEN UDP ASSOCIATE',
    frame: { type: FrameType.Open, streamId: 0xfffffffd, command: Command.UdpAssociate, address: { host: '0.0.0.0', port: 0 } },
    hex: '01 00 fffffffd 03 01 00000000 0000',
  },
  {
    name: 'OPEN_RESULT succeeded',
    frame: { type: FrameType.OpenResult, streamId: 1, reply: ReplyCode.Succeeded, bound: { host: '10.0.0.1', port: 50000 } },
    hex: '02 00 00000001 00 01 0a000001 c350',
  },
  {
    name: 'OPEN_RESULT refused',
    frame: { type: FrameType.OpenResult, streamId: 7, reply: ReplyCode.ConnectionRefused, bound: { host: '::', port: 0 } },
    hex: '02 00 00000007 05 04 00000000000000000000000000000000 0000',
  },
  {
    name: 'DATA empty',
    frame: { type: FrameType.Data, streamId: 1, payload: Buffer.alloc(0) },
    hex: '03 00 00000001',
  },
  {
    name: 'DATA hello',
    frame: { type: FrameType.Data, streamId: 7, payload: Buffer.from('hello') },
    hex: `03 00 00000007 ${ascii('hello')}`,
  },
  {
    name: 'FIN',
    frame: { type: FrameType.Fin, streamId: 1 },
    hex: '04 00 00000001',
  },
  {
    name: 'RESET with reason',
    frame: { type: FrameType.Reset, streamId: 3, code: ResetCode.PeerReset, reason: 'connection reset' },
    hex: `05 00 00000003 02 ${ascii('connection reset')}`,
  },
  {
    name: 'RESET without reason',
    frame: { type: FrameType.Reset, streamId: 9, code: ResetCode.Aborted, reason: '' },
    hex: '05 00 00000009 01',
  },
  {
    name: 'WINDOW_UPDATE',
    frame: { type: FrameType.WindowUpdate, streamId: 1, increment: 256 * 1024 },
    hex: '06 00 00000001 00040000',
  },
  {
    name: 'PING',
    frame: { type: FrameType.Ping, streamId: 0, ack: false, opaque: 0xdeadbeef },
    hex: '07 00 00000000 deadbeef',
  },
  {
    name: 'PING ACK',
    frame: { type: FrameType.Ping, streamId: 0, ack: true, opaque: 0xdeadbeef },
    hex: '07 01 00000000 deadbeef',
  },
  {
    name: 'GO_AWAY',
    frame: { type: FrameType.GoAway, streamId: 0, code: GoAwayCode.ProtocolError, reason: 'bad frame' },
    hex: `08 00 00000000 01 ${ascii('bad frame')}`,
  },
  {
    name: 'BIND_RESULT',
    frame: { type: FrameType.BindResult, streamId: 5, reply: ReplyCode.Succeeded, peer: { host: '192.0.2.7', port: 20 } },
    hex: '09 00 00000005 00 01 c0000207 0014',
  },
  {
    name: 'DATAGRAM',
    frame: { type: FrameType.Datagram, streamId: 3, address: { host: '127.0.0.1', port: 53 }, payload: Buffer.from('dns?') },
    hex: `0a 00 00000003 01 7f000001 0035 ${ascii('dns?')}`,
  },
];

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

/** Asserts that `fn` throws a ProtocolError (by instanceof, not by shape) with `code`. */
function assertProtocolError(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Frames whose last field is "the rest of the message": a shorter or longer message is still a frame. */
const isOpenEnded = (frame: Frame): boolean =>
  frame.type === FrameType.Data || frame.type === FrameType.Reset || frame.type === FrameType.GoAway || frame.type === FrameType.Datagram;

/** Bytes before the open-ended tail: DATA has none, DATAGRAM its address, RESET and GO_AWAY their code. */
const fixedPartOf = (frame: Frame): number => {
  if (frame.type === FrameType.Data) return FRAME_HEADER_SIZE;
  if (frame.type === FrameType.Datagram) return FRAME_HEADER_SIZE + encodedAddressLength(frame.address);
  return FRAME_HEADER_SIZE + 1;
};

/** The open-ended tail of a decoded frame, as bytes. */
const tailOf = (frame: Frame): Buffer => {
  if (frame.type === FrameType.Data || frame.type === FrameType.Datagram) return frame.payload;
  return Buffer.from(reasonOf(frame), 'utf8');
};

describe('codec fixtures', () => {
  for (const { name, frame, hex } of FIXTURES) {
    it(`encodes ${name}`, () => {
      assert.equal(encodeFrame(frame).toString('hex'), bytes(hex).toString('hex'));
    });

    it(`decodes ${name}`, () => {
      const decoded = decodeFrame(bytes(hex));
      assert.deepEqual(decoded, frame);
      if (decoded.type === FrameType.Data) assert.ok(Buffer.isBuffer(decoded.payload));
    });

    it(`rejects every truncation of ${name}`, () => {
      const full = bytes(hex);
      // DATA, RESET and GO_AWAY end in "the rest of the message", so once their fixed part
      // is complete a prefix is a valid, shorter frame; anything shorter must be refused.
      const fixedPart = fixedPartOf(frame);
      for (let length = 0; length < full.length; length++) {
        const prefix = full.subarray(0, length);
        if (frame.type === FrameType.Hello && length === SHORT_HELLO_LENGTH) {
          // The versions alone are the short HELLO, which announces no limit.
          assert.equal('maxFrameSize' in decodeFrame(prefix), false, `prefix of ${length} bytes`);
          continue;
        }
        if (isOpenEnded(frame) && length >= fixedPart) {
          const decoded = decodeFrame(prefix);
          assert.deepEqual(tailOf(decoded), full.subarray(fixedPart, length), `prefix of ${length} bytes`);
          continue;
        }
        assertProtocolError(() => decodeFrame(prefix), length < FRAME_HEADER_SIZE ? 'ERR_SHORT_FRAME' : 'ERR_FRAME_LENGTH');
      }
    });

    it(`handles ${name} with one trailing byte`, () => {
      const longer = Buffer.concat([bytes(hex), Buffer.from('!')]);
      if (!isOpenEnded(frame)) {
        assertProtocolError(() => decodeFrame(longer), 'ERR_FRAME_LENGTH');
        return;
      }
      assert.deepEqual(tailOf(decodeFrame(longer)), Buffer.concat([tailOf(frame), Buffer.from('!')]));
    });
  }
});

function reasonOf(frame: Frame): string {
  assert.ok(frame.type === FrameType.Reset || frame.type === FrameType.GoAway, `frame type ${frame.type} has no reason`);
  return frame.reason;
}

/** The fixture's bytes with the stream id replaced. */
function withStreamId(name: string, streamId: number): Buffer {
  const fixture = FIXTURES.find((f) => f.name === name);
  assert.ok(fixture, name);
  const buf = bytes(fixture.hex);
  buf.writeUInt32BE(streamId, 2);
  return buf;
}

describe('codec rejections', () => {
  it('rejects unknown frame types', () => {
    for (const type of [0x0b, 0x7f, 0xff]) {
      assertProtocolError(() => decodeFrame(bytes(`${type.toString(16).padStart(2, '0')} 00 00000001`)), 'ERR_UNKNOWN_FRAME_TYPE');
    }
  });

  it('rejects session frames on a stream', () => {
    for (const name of ['HELLO', 'PING', 'PING ACK', 'GO_AWAY']) {
      assertProtocolError(() => decodeFrame(withStreamId(name, 1)), 'ERR_STREAM_ID');
      assertProtocolError(() => decodeFrame(withStreamId(name, 0xffffffff)), 'ERR_STREAM_ID');
    }
  });

  it('rejects stream frames on stream 0', () => {
    const names = ['OPEN CONNECT IPv4', 'OPEN_RESULT succeeded', 'DATA hello', 'FIN', 'RESET with reason', 'WINDOW_UPDATE'];
    for (const name of names) assertProtocolError(() => decodeFrame(withStreamId(name, 0)), 'ERR_STREAM_ID');
  });

  it('accepts a HELLO limit of MIN_FRAME_SIZE_LIMIT and rejects one byte less; a HELLO body of any other length is refused', () => {
    const hello = (limit: number): Buffer => encodeHello(1, 1, limit);
    const decoded = decodeFrame(hello(MIN_FRAME_SIZE_LIMIT));
    assert.equal(decoded.type === FrameType.Hello && decoded.maxFrameSize, MIN_FRAME_SIZE_LIMIT);
    assertProtocolError(() => decodeFrame(hello(MIN_FRAME_SIZE_LIMIT - 1)), 'ERR_HELLO_FRAME_SIZE');
    assertProtocolError(() => decodeFrame(hello(0)), 'ERR_HELLO_FRAME_SIZE');
    const roomy = decodeFrame(hello(0xffffffff));
    assert.equal(roomy.type === FrameType.Hello && roomy.maxFrameSize, 0xffffffff, 'a limit above MAX_FRAME_SIZE is allowed: we never send more anyway');
    for (const bodyLength of [0, 1, 3, 4, 5, 7]) {
      assertProtocolError(() => decodeFrame(Buffer.concat([bytes('00 00 00000000'), Buffer.alloc(bodyLength, 1)])), 'ERR_FRAME_LENGTH');
    }
  });

  it('accepts DATA of exactly MAX_DATA_PAYLOAD and rejects one byte more', () => {
    const max = encodeData(1, Buffer.alloc(MAX_DATA_PAYLOAD, 0xab));
    const decoded = decodeFrame(max);
    assert.equal(decoded.type, FrameType.Data);
    assert.equal(decoded.type === FrameType.Data && decoded.payload.length, MAX_DATA_PAYLOAD);
    const over = Buffer.concat([max, Buffer.from([0])]);
    assertProtocolError(() => decodeFrame(over), 'ERR_FRAME_TOO_LARGE');
    assert.throws(() => encodeData(1, Buffer.alloc(MAX_DATA_PAYLOAD + 1)), RangeError);
  });

  it('rejects an unknown address type in OPEN and OPEN_RESULT', () => {
    for (const atyp of ['00', '02', '05', 'ff']) {
      assertProtocolError(() => decodeFrame(bytes(`01 00 00000001 01 ${atyp} 7f000001 0050`)), 'ERR_ADDRESS');
      assertProtocolError(() => decodeFrame(bytes(`02 00 00000001 00 ${atyp} 7f000001 0050`)), 'ERR_ADDRESS');
    }
  });

  it('rejects an empty domain', () => {
    assertProtocolError(() => decodeFrame(bytes('01 00 00000001 01 03 00 0050')), 'ERR_ADDRESS');
    assertProtocolError(() => decodeFrame(bytes('02 00 00000001 00 03 00 0050')), 'ERR_ADDRESS');
  });

  it('refuses to encode an empty or over-long domain', () => {
    assert.throws(() => encodeOpen(1, Command.Connect, { host: '', port: 1 }), RangeError);
    assert.throws(() => encodeOpen(1, Command.Connect, { host: 'a'.repeat(256), port: 1 }), RangeError);
    const longest = decodeFrame(encodeOpen(1, Command.Connect, { host: 'a'.repeat(255), port: 1 }));
    assert.equal(longest.type === FrameType.Open && longest.address.host.length, 255);
  });

  it('accepts a reason of MAX_REASON_LENGTH bytes and rejects one byte more', () => {
    for (const [type, streamId] of [[FrameType.Reset, 1], [FrameType.GoAway, 0]] as const) {
      const header = bytes(`0${type} 00 ${streamId.toString(16).padStart(8, '0')} 01`);
      const fits = Buffer.concat([header, Buffer.alloc(MAX_REASON_LENGTH, 0x61)]);
      assert.equal(reasonOf(decodeFrame(fits)).length, MAX_REASON_LENGTH);
      const over = Buffer.concat([fits, Buffer.from('a')]);
      assertProtocolError(() => decodeFrame(over), 'ERR_FRAME_LENGTH');
    }
  });
});

describe('codec normalisation', () => {
  it('writes IPv6 in any spelling as the same 16 bytes and reads it back compressed', () => {
    const expected = encodeOpen(1, Command.Connect, { host: '2001:db8::1', port: 443 });
    for (const host of ['2001:DB8:0:0:0:0:0:1', '2001:0db8::0001', '2001:db8::1%eth0']) {
      const encoded = encodeOpen(1, Command.Connect, { host, port: 443 });
      assert.deepEqual(encoded, expected, host);
    }
    const decoded = decodeFrame(expected);
    assert.equal(decoded.type === FrameType.Open && decoded.address.host, '2001:db8::1');
  });

  it('truncates a long reason to MAX_REASON_LENGTH bytes on a character boundary', () => {
    // 200 three-byte characters are 600 bytes; 512 is not a multiple of 3.
    const reason = '\u20ac'.repeat(200);
    for (const encoded of [encodeReset(1, ResetCode.Limit, reason), encodeGoAway(GoAwayCode.Normal, reason)]) {
      assert.ok(encoded.length - FRAME_HEADER_SIZE - 1 <= MAX_REASON_LENGTH);
      assert.equal(reasonOf(decodeFrame(encoded)), '\u20ac'.repeat(170));
    }
    const ascii512 = 'x'.repeat(600);
    assert.equal(reasonOf(decodeFrame(encodeReset(1, ResetCode.Limit, ascii512))), 'x'.repeat(MAX_REASON_LENGTH));
  });

  it('carries a UTF-8 reason unchanged', () => {
    const frame: Frame = { type: FrameType.Reset, streamId: 1, code: ResetCode.Aborted, reason: 'r\u00e9initialis\u00e9 \u{1f50c}' };
    assert.deepEqual(decodeFrame(encodeFrame(frame)), frame);
  });
});


describe('codec fuzz', () => {
  const SEED = 0x50c4b41d;
  const CASES = 5000;
  const MAX_LENGTH = 80;

  it(`decodes ${CASES} random messages to a frame or a ProtocolError`, () => {
    const random = seededRandom(SEED);
    const int = (n: number): number => Math.floor(random() * n);
    const seen = new Set<number>();

    /** Half the cases are pure noise with a plausible header; half are mutated fixtures. */
    function nextCase(): Buffer {
      if (random() < 0.5) {
        const buf = Buffer.alloc(int(MAX_LENGTH + 1));
        for (let i = 0; i < buf.length; i++) buf[i] = int(256);
        if (buf.length > 0 && random() < 0.9) buf[0] = int(10);
        if (buf.length >= FRAME_HEADER_SIZE && random() < 0.5) buf.writeUInt32BE(random() < 0.5 ? 0 : int(8), 2);
        if (buf.length > FRAME_HEADER_SIZE + 1 && random() < 0.5) buf[FRAME_HEADER_SIZE + 1] = [1, 3, 4][int(3)];
        return buf;
      }
      const base = bytes(FIXTURES[int(FIXTURES.length)].hex);
      const buf = Buffer.concat([base, Buffer.from(Array.from({ length: int(4) }, () => int(256)))]);
      for (let flips = int(3); flips > 0; flips--) buf[int(buf.length)] = int(256);
      return buf.subarray(0, Math.min(MAX_LENGTH, buf.length - int(3)));
    }

    for (let i = 0; i < CASES; i++) {
      const input = nextCase();
      let frame: Frame;
      try {
        frame = decodeFrame(input);
      } catch (err) {
        assert.ok(err instanceof ProtocolError, `case ${i} (${input.toString('hex')}): ${String(err)}`);
        assert.match(err.code, /^ERR_[A-Z_]+$/);
        continue;
      }
      seen.add(frame.type);
      // Not always byte-identical (flags DATA ignores, IPv6 spelling, invalid UTF-8 in a reason),
      // but one more round trip must land on the same frame.
      const again = decodeFrame(encodeFrame(frame));
      assert.deepEqual(again, frame, `case ${i} (${input.toString('hex')})`);
    }
    assert.deepEqual([...seen].sort((a, b) => a - b), Object.values(FrameType).sort((a, b) => a - b), 'every frame type decoded at least once');
  });
});
