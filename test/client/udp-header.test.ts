/**
 * The SOCKS5 UDP request header (RFC 1928 §7): RSV(2) FRAG(1) ATYP DST.ADDR DST.PORT DATA.
 * Hex fixtures written from the RFC, not from the product's encoder.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeUdpDatagram, parseUdpDatagram, UDP_FRAG_NONE } from '../../client/socks/udp-header.js';

/** Hex with optional spaces, so fixtures can be split by field. */
function bytes(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

interface Fixture {
  name: string;
  /** RSV FRAG ATYP DST.ADDR DST.PORT | DATA */
  header: string;
  payload: string;
  address: { host: string; port: number };
}

const HELLO = '68656c6c6f';

const FIXTURES: Fixture[] = [
  { name: 'IPv4', header: '0000 00 01 7f000001 0035', payload: HELLO, address: { host: '127.0.0.1', port: 53 } },
  {
    name: 'IPv6',
    header: '0000 00 04 20010db8000000000000000000000001 1f90',
    payload: HELLO,
    address: { host: '2001:db8::1', port: 8080 },
  },
  { name: 'IPv6 loopback', header: '0000 00 04 00000000000000000000000000000001 ffff', payload: '00', address: { host: '::1', port: 65535 } },
  {
    name: 'domain',
    header: '0000 00 03 0c 6578616d706c652e74657374 0035',
    payload: HELLO,
    address: { host: 'example.test', port: 53 },
  },
  { name: 'IPv4, empty payload', header: '0000 00 01 c0000201 0001', payload: '', address: { host: '192.0.2.1', port: 1 } },
];

describe('parseUdpDatagram', () => {
  for (const f of FIXTURES) {
    test(`${f.name}: address, port and payload`, () => {
      const parsed = parseUdpDatagram(bytes(f.header + f.payload));
      assert.ok(parsed);
      assert.equal(parsed.frag, UDP_FRAG_NONE);
      assert.deepEqual(parsed.address, f.address);
      assert.equal(parsed.payload.toString('hex'), f.payload);
    });

    test(`${f.name}: every prefix shorter than the header is truncated → null`, () => {
      const header = bytes(f.header);
      for (let length = 0; length < header.length; length++) {
        assert.equal(parseUdpDatagram(header.subarray(0, length)), null, `prefix of ${length} bytes`);
      }
    });
  }

  test('FRAG is reported, not hidden (the relay drops FRAG ≠ 0)', () => {
    for (const frag of [0x01, 0x7f, 0x80, 0xff]) {
      const parsed = parseUdpDatagram(bytes(`0000 ${frag.toString(16).padStart(2, '0')} 01 7f000001 0035 ${HELLO}`));
      assert.ok(parsed);
      assert.equal(parsed.frag, frag);
      assert.deepEqual(parsed.address, { host: '127.0.0.1', port: 53 });
    }
  });

  test('unknown ATYP → null', () => {
    for (const atyp of ['00', '02', '05', 'ff']) {
      assert.equal(parseUdpDatagram(bytes(`0000 00 ${atyp} 7f000001 0035 ${HELLO}`)), null, `ATYP 0x${atyp}`);
    }
  });

  test('a zero-length domain → null', () => {
    assert.equal(parseUdpDatagram(bytes(`0000 00 03 00 0035 ${HELLO}`)), null);
  });

  test('a domain whose length byte runs past the datagram → null', () => {
    assert.equal(parseUdpDatagram(bytes('0000 00 03 20 6578616d706c65')), null);
  });
});

describe('encodeUdpDatagram', () => {
  for (const f of FIXTURES) {
    test(`${f.name}: RSV 0, FRAG 0, address as ATYP`, () => {
      assert.equal(encodeUdpDatagram(f.address, bytes(f.payload)).toString('hex'), bytes(f.header + f.payload).toString('hex'));
    });
  }

  test('round trip: encode then parse gives back address and payload', () => {
    const payload = Buffer.alloc(1_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
    for (const address of [
      { host: '10.20.30.40', port: 0 },
      { host: 'fe80::abcd', port: 5353 },
      { host: 'a'.repeat(255), port: 65535 },
      ...FIXTURES.map((f) => f.address),
    ]) {
      const parsed = parseUdpDatagram(encodeUdpDatagram(address, payload));
      assert.ok(parsed, address.host);
      assert.equal(parsed.frag, UDP_FRAG_NONE);
      assert.deepEqual(parsed.address, address);
      assert.ok(parsed.payload.equals(payload));
    }
  });
});
