/**
 * The Wisp packet codec against hand-written hex (protocol.md, "Packet format": little-endian
 * `u8 type | u32 stream id | payload`), round trips, and every truncation of every fixture.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeWispPacket, encodeWispClose, encodeWispConnect, encodeWispContinue, encodeWispData,
  WispCodecError, WispCodecErrorCode, WispPacketType, WispStreamType, type WispPacket,
} from '../../server/wisp/codec.js';

interface Fixture { name: string; hex: string; packet: WispPacket; encode: () => Buffer }

const FIXTURES: Fixture[] = [
  {
    name: 'CONNECT tcp example.com:80 on stream 1',
    hex: '01 01000000 01 5000 6578616d706c652e636f6d',
    packet: { type: WispPacketType.Connect, streamId: 1, streamType: WispStreamType.Tcp, port: 80, hostname: 'example.com' },
    encode: () => encodeWispConnect(1, WispStreamType.Tcp, 80, 'example.com'),
  },
  {
    name: 'CONNECT udp [::1]:53 on stream 0x01020304',
    hex: '01 04030201 02 3500 3a3a31',
    packet: { type: WispPacketType.Connect, streamId: 0x01020304, streamType: WispStreamType.Udp, port: 53, hostname: '::1' },
    encode: () => encodeWispConnect(0x01020304, WispStreamType.Udp, 53, '::1'),
  },
  {
    name: 'CONNECT with a UTF-8 name, port 65535',
    hex: '01 ffffffff 01 ffff 62c3bc6365722e6465',
    packet: { type: WispPacketType.Connect, streamId: 0xffffffff, streamType: WispStreamType.Tcp, port: 65535, hostname: 'bücer.de' },
    encode: () => encodeWispConnect(0xffffffff, WispStreamType.Tcp, 65535, 'bücer.de'),
  },
  {
    name: 'DATA "hi" on stream 7',
    hex: '02 07000000 6869',
    packet: { type: WispPacketType.Data, streamId: 7, payload: Buffer.from('hi') },
    encode: () => encodeWispData(7, Buffer.from('hi')),
  },
  {
    name: 'empty DATA',
    hex: '02 07000000',
    packet: { type: WispPacketType.Data, streamId: 7, payload: Buffer.alloc(0) },
    encode: () => encodeWispData(7, Buffer.alloc(0)),
  },
  {
    name: 'the first CONTINUE: stream 0, 128 packets',
    hex: '03 00000000 80000000',
    packet: { type: WispPacketType.Continue, streamId: 0, bufferRemaining: 128 },
    encode: () => encodeWispContinue(0, 128),
  },
  {
    name: 'CLOSE 0x48 (blocked) on stream 2',
    hex: '04 02000000 48',
    packet: { type: WispPacketType.Close, streamId: 2, reason: 0x48 },
    encode: () => encodeWispClose(2, 0x48),
  },
];

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    assert.ok(err instanceof WispCodecError, `expected a WispCodecError, got ${String(err)}`);
    return err.code;
  }
}

describe('wisp codec', () => {
  for (const fixture of FIXTURES) {
    it(`decodes and encodes ${fixture.name}`, () => {
      assert.deepEqual(decodeWispPacket(bytes(fixture.hex)), fixture.packet);
      assert.equal(fixture.encode().toString('hex'), bytes(fixture.hex).toString('hex'));
    });

    it(`refuses or shortens every truncation of ${fixture.name}`, () => {
      const whole = bytes(fixture.hex);
      for (let length = 0; length < whole.length; length += 1) {
        const prefix = whole.subarray(0, length);
        if (length < 5) {
          assert.equal(codeOf(() => decodeWispPacket(prefix)), WispCodecErrorCode.ShortPacket, `length ${length}`);
          continue;
        }
        const outcome = codeOf(() => decodeWispPacket(prefix));
        if (fixture.packet.type === WispPacketType.Data) {
          // DATA has no length field: a shorter message is a shorter payload.
          assert.equal(outcome, null);
        } else if (fixture.packet.type === WispPacketType.Connect && length > 8) {
          // A CONNECT's hostname runs to the end: a cut inside a UTF-8 sequence is refused, else the name is shorter.
          assert.ok(outcome === null || outcome === WispCodecErrorCode.BadHostname, `length ${length}: ${outcome}`);
        } else {
          assert.equal(outcome, WispCodecErrorCode.ShortPayload, `length ${length}`);
        }
      }
    });
  }

  it('refuses bytes after CONTINUE and CLOSE fields', () => {
    assert.equal(codeOf(() => decodeWispPacket(bytes('03 00000000 80000000 00'))), WispCodecErrorCode.TrailingBytes);
    assert.equal(codeOf(() => decodeWispPacket(bytes('04 02000000 48 00'))), WispCodecErrorCode.TrailingBytes);
  });

  it('refuses a CONNECT without a hostname, and one that is not UTF-8', () => {
    assert.equal(codeOf(() => decodeWispPacket(bytes('01 01000000 01 5000'))), WispCodecErrorCode.ShortPayload);
    assert.equal(codeOf(() => decodeWispPacket(bytes('01 01000000 01 5000 ff'))), WispCodecErrorCode.BadHostname);
  });

  it('names the stream of a malformed packet whose header was readable', () => {
    try {
      decodeWispPacket(bytes('04 09000000'));
      assert.fail('decoded');
    } catch (err) {
      assert.ok(err instanceof WispCodecError);
      assert.equal(err.streamId, 9);
    }
  });

  it('passes unknown packet types through as unknown (INFO, 0x05, is version 2)', () => {
    assert.deepEqual(decodeWispPacket(bytes('05 00000000 0200')), { type: 'unknown', packetType: 0x05, streamId: 0 });
    assert.deepEqual(decodeWispPacket(bytes('ff 03000000')), { type: 'unknown', packetType: 0xff, streamId: 3 });
  });

  it('copies DATA payloads on encode, so a borrowed buffer may be reused', () => {
    const borrowed = Buffer.from('abc');
    const packet = encodeWispData(1, borrowed);
    borrowed.fill(0);
    assert.equal(packet.subarray(5).toString(), 'abc');
  });
});
