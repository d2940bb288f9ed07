import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeMethodSelection,
  encodeSocks4Reply,
  encodeSocks5Reply,
  encodeUserPassStatus,
} from '../../client/socks/replies.js';
import { AuthMethod, ReplyCode, Socks4Reply, UserPassStatus } from '../../client/socks/constants.js';

function hex(buf: Buffer): string {
  return buf.toString('hex');
}

/** Hex with optional spaces, so expectations can be split by field. */
function h(text: string): string {
  return text.replace(/\s+/g, '');
}

const FAILURE_BOUND = { host: '0.0.0.0', port: 0 };

describe('SOCKS5 method selection and RFC 1929 status', () => {
  test('method selection is VER METHOD', () => {
    assert.equal(hex(encodeMethodSelection(AuthMethod.NoAuth)), '0500');
    assert.equal(hex(encodeMethodSelection(AuthMethod.UsernamePassword)), '0502');
    assert.equal(hex(encodeMethodSelection(AuthMethod.NoAcceptable)), '05ff');
  });
  test('user/pass status carries the sub-negotiation version 0x01', () => {
    assert.equal(hex(encodeUserPassStatus(UserPassStatus.Success)), '0100');
    assert.equal(hex(encodeUserPassStatus(UserPassStatus.Failure)), '0101');
  });
});

describe('SOCKS5 replies', () => {
  const cases: { name: string; reply: ReplyCode; bound: { host: string; port: number }; expected: string }[] = [
    { name: 'success, IPv4', reply: ReplyCode.Succeeded, bound: { host: '10.1.2.3', port: 1080 }, expected: '05 00 00 01 0a010203 0438' },
    { name: 'success, IPv6', reply: ReplyCode.Succeeded, bound: { host: '::1', port: 443 }, expected: '05 00 00 04 00000000000000000000000000000001 01bb' },
    { name: 'success, domain', reply: ReplyCode.Succeeded, bound: { host: 'a.io', port: 80 }, expected: '05 00 00 03 04 612e696f 0050' },
    { name: 'connection refused', reply: ReplyCode.ConnectionRefused, bound: FAILURE_BOUND, expected: '05 05 00 01 00000000 0000' },
    { name: 'command not supported', reply: ReplyCode.CommandNotSupported, bound: FAILURE_BOUND, expected: '05 07 00 01 00000000 0000' },
    { name: 'address type not supported', reply: ReplyCode.AddressTypeNotSupported, bound: FAILURE_BOUND, expected: '05 08 00 01 00000000 0000' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(hex(encodeSocks5Reply(c.reply, c.bound)), h(c.expected)));
  }
});

describe('SOCKS4 replies', () => {
  test('granted without a bound address is all zeros but CD', () => {
    assert.equal(hex(encodeSocks4Reply(Socks4Reply.Granted)), h('00 5a 0000 00000000'));
  });
  test('rejected', () => {
    assert.equal(hex(encodeSocks4Reply(Socks4Reply.Rejected)), h('00 5b 0000 00000000'));
  });
  test('an IPv4 bound address fills DSTPORT and DSTIP', () => {
    assert.equal(hex(encodeSocks4Reply(Socks4Reply.Granted, { host: '192.168.1.2', port: 8080 })), h('00 5a 1f90 c0a80102'));
  });
  test('an IPv4-mapped IPv6 bound address is sent as IPv4', () => {
    assert.equal(hex(encodeSocks4Reply(Socks4Reply.Granted, { host: '::ffff:10.0.0.1', port: 1080 })), h('00 5a 0438 0a000001'));
  });
  test('an IPv6 or domain bound address cannot be said in SOCKS4: zeros', () => {
    assert.equal(hex(encodeSocks4Reply(Socks4Reply.Granted, { host: '2001:db8::1', port: 80 })), h('00 5a 0000 00000000'));
    assert.equal(hex(encodeSocks4Reply(Socks4Reply.Granted, { host: 'example.com', port: 80 })), h('00 5a 0000 00000000'));
  });
  test('every reply is 8 bytes', () => {
    for (const code of Object.values(Socks4Reply)) assert.equal(encodeSocks4Reply(code).length, 8);
  });
});
