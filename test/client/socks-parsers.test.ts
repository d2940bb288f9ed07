import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseGreeting,
  parseSocks4Request,
  parseSocks5Request,
  parseUserPassRequest,
  type ParseResult,
} from '../../client/socks/parsers.js';
import { SocksError, SocksErrorCode } from '../../client/socks/errors.js';
import { MAX_SOCKS4_DOMAIN_LENGTH, MAX_SOCKS4_USERID_LENGTH, ReplyCode } from '../../client/socks/constants.js';
import { seededRandom } from '../helpers/fixtures/seeded-random.js';

type Parser = (buf: Buffer) => ParseResult<unknown>;

/** Hex with optional spaces, so fixtures can be split by field. */
function h(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

/** ASCII text as hex, for names inside fixtures. */
function a(text: string): string {
  return Buffer.from(text, 'latin1').toString('hex');
}

interface Fixture {
  name: string;
  parse: Parser;
  hex: string;
  value: unknown;
}

const FIXTURES: Fixture[] = [
  { name: 'greeting, no auth', parse: parseGreeting, hex: '05 01 00', value: { methods: [0x00] } },
  { name: 'greeting, three methods', parse: parseGreeting, hex: '05 03 00 01 02', value: { methods: [0x00, 0x01, 0x02] } },
  {
    name: 'user/pass',
    parse: parseUserPassRequest,
    hex: `01 04 ${a('user')} 06 ${a('secret')}`,
    value: { username: 'user', password: 'secret' },
  },
  { name: 'user/pass, empty fields', parse: parseUserPassRequest, hex: '01 00 00', value: { username: '', password: '' } },
  {
    name: 'user/pass, UTF-8',
    parse: parseUserPassRequest,
    hex: `01 02 c3a9 03 e282ac`,
    value: { username: 'é', password: '€' },
  },
  {
    name: 'SOCKS5 CONNECT IPv4',
    parse: parseSocks5Request,
    hex: '05 01 00 01 7f000001 0050',
    value: { command: 0x01, address: { host: '127.0.0.1', port: 80 } },
  },
  {
    name: 'SOCKS5 CONNECT IPv6',
    parse: parseSocks5Request,
    hex: '05 01 00 04 20010db8000000000000000000000001 01bb',
    value: { command: 0x01, address: { host: '2001:db8::1', port: 443 } },
  },
  {
    name: 'SOCKS5 CONNECT domain',
    parse: parseSocks5Request,
    hex: `05 01 00 03 0b ${a('example.com')} 0050`,
    value: { command: 0x01, address: { host: 'example.com', port: 80 } },
  },
  {
    name: 'SOCKS5 UDP ASSOCIATE, non-zero RSV accepted',
    parse: parseSocks5Request,
    hex: '05 03 ff 01 00000000 0000',
    value: { command: 0x03, address: { host: '0.0.0.0', port: 0 } },
  },
  {
    name: 'SOCKS5 unknown command passed on raw',
    parse: parseSocks5Request,
    hex: '05 09 00 01 0a000001 1f90',
    value: { command: 0x09, address: { host: '10.0.0.1', port: 8080 } },
  },
  {
    name: 'SOCKS4 CONNECT',
    parse: parseSocks4Request,
    hex: `04 01 0050 7f000001 ${a('bob')} 00`,
    value: { command: 0x01, address: { host: '127.0.0.1', port: 80 }, userId: 'bob' },
  },
  {
    name: 'SOCKS4 BIND, empty user id',
    parse: parseSocks4Request,
    hex: '04 02 1f90 c0a80001 00',
    value: { command: 0x02, address: { host: '192.168.0.1', port: 8080 }, userId: '' },
  },
  {
    name: 'SOCKS4a CONNECT',
    parse: parseSocks4Request,
    hex: `04 01 01bb 00000001 ${a('bob')} 00 ${a('example.com')} 00`,
    value: { command: 0x01, address: { host: 'example.com', port: 443 }, userId: 'bob' },
  },
  {
    name: 'SOCKS4a, empty user id, marker 0.0.0.255',
    parse: parseSocks4Request,
    hex: `04 01 0050 000000ff 00 ${a('a.b')} 00`,
    value: { command: 0x01, address: { host: 'a.b', port: 80 }, userId: '' },
  },
];

/** Re-runs the parser on a buffer growing one byte at a time, as a connection would. */
function feedByteByByte(parse: Parser, bytes: Buffer): { result: ParseResult<unknown>; fed: number } {
  let accumulated = Buffer.alloc(0);
  for (const byte of bytes) {
    accumulated = Buffer.concat([accumulated, Buffer.of(byte)]);
    const result = parse(accumulated);
    if (result !== null) return { result, fed: accumulated.length };
  }
  return { result: null, fed: accumulated.length };
}

describe('SOCKS parser fixtures', () => {
  for (const fixture of FIXTURES) {
    const full = h(fixture.hex);
    describe(fixture.name, () => {
      test('full message gives the value and consumes all of it', () => {
        assert.deepEqual(fixture.parse(full), { value: fixture.value, consumed: full.length });
      });
      test('every proper prefix needs more bytes', () => {
        for (let split = 0; split < full.length; split++) {
          assert.equal(fixture.parse(full.subarray(0, split)), null, `split at ${split}`);
        }
      });
      test('trailing bytes are left for the next message', () => {
        const withTail = Buffer.concat([full, h('05 04 00 ff 01')]);
        assert.deepEqual(fixture.parse(withTail), { value: fixture.value, consumed: full.length });
      });
      test('one byte at a time completes exactly at the last byte', () => {
        const { result, fed } = feedByteByByte(fixture.parse, Buffer.concat([full, h('00 00')]));
        assert.equal(fed, full.length);
        assert.deepEqual(result, { value: fixture.value, consumed: full.length });
      });
    });
  }
});

test('a greeting, sub-negotiation and request in one buffer parse in turn', () => {
  const greeting = h('05 01 02');
  const auth = h(`01 01 ${a('u')} 01 ${a('p')}`);
  const request = h('05 01 00 01 7f000001 0050');
  let buf = Buffer.concat([greeting, auth, request]);
  for (const parse of [parseGreeting, parseUserPassRequest, parseSocks5Request] as Parser[]) {
    const result = parse(buf);
    assert.notEqual(result, null);
    buf = buf.subarray(result!.consumed);
  }
  assert.equal(buf.length, 0);
});

interface ErrorFixture {
  name: string;
  parse: Parser;
  /** The shortest input that is already wrong: the parser must throw at exactly this length. */
  hex: string;
  code: string;
  reply: number;
}

const USERID_OVER = 'aa'.repeat(MAX_SOCKS4_USERID_LENGTH + 1);
const DOMAIN_OVER = 'bb'.repeat(MAX_SOCKS4_DOMAIN_LENGTH + 1);

const ERROR_FIXTURES: ErrorFixture[] = [
  { name: 'greeting, SOCKS4 version', parse: parseGreeting, hex: '04', code: SocksErrorCode.Version, reply: ReplyCode.GeneralFailure },
  { name: 'greeting, no methods', parse: parseGreeting, hex: '05 00', code: SocksErrorCode.NoMethods, reply: ReplyCode.GeneralFailure },
  {
    name: 'user/pass, SOCKS5 version byte instead of 0x01',
    parse: parseUserPassRequest,
    hex: '05',
    code: SocksErrorCode.UserPassVersion,
    reply: ReplyCode.GeneralFailure,
  },
  { name: 'SOCKS5 request, version 4', parse: parseSocks5Request, hex: '04', code: SocksErrorCode.Version, reply: ReplyCode.GeneralFailure },
  {
    name: 'SOCKS5 request, ATYP 0x02',
    parse: parseSocks5Request,
    hex: '05 01 00 02',
    code: SocksErrorCode.AddressType,
    reply: ReplyCode.AddressTypeNotSupported,
  },
  {
    name: 'SOCKS5 request, ATYP 0x00',
    parse: parseSocks5Request,
    hex: '05 01 00 00',
    code: SocksErrorCode.AddressType,
    reply: ReplyCode.AddressTypeNotSupported,
  },
  {
    name: 'SOCKS5 request, empty domain',
    parse: parseSocks5Request,
    hex: '05 01 00 03 00',
    code: SocksErrorCode.EmptyDomain,
    reply: ReplyCode.GeneralFailure,
  },
  { name: 'SOCKS4 request, version 5', parse: parseSocks4Request, hex: '05', code: SocksErrorCode.Version, reply: ReplyCode.GeneralFailure },
  {
    name: 'SOCKS4 request, DSTIP 0.0.0.0',
    parse: parseSocks4Request,
    hex: '04 01 0050 00000000',
    code: SocksErrorCode.Socks4Address,
    reply: ReplyCode.GeneralFailure,
  },
  {
    name: 'SOCKS4 request, user id over the bound without NUL',
    parse: parseSocks4Request,
    hex: `04 01 0050 7f000001 ${USERID_OVER}`,
    code: SocksErrorCode.UserIdTooLong,
    reply: ReplyCode.GeneralFailure,
  },
  {
    name: 'SOCKS4a request, domain over the bound without NUL',
    parse: parseSocks4Request,
    hex: `04 01 0050 00000001 ${a('bob')} 00 ${DOMAIN_OVER}`,
    code: SocksErrorCode.DomainTooLong,
    reply: ReplyCode.GeneralFailure,
  },
  {
    name: 'SOCKS4a request, empty domain',
    parse: parseSocks4Request,
    hex: `04 01 0050 00000001 ${a('bob')} 00 00`,
    code: SocksErrorCode.EmptyDomain,
    reply: ReplyCode.GeneralFailure,
  },
];

function assertSocksError(fn: () => unknown, code: string, reply: number): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SocksError, `expected SocksError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.reply, reply);
    return true;
  });
}

describe('SOCKS parser errors', () => {
  for (const fixture of ERROR_FIXTURES) {
    const bad = h(fixture.hex);
    test(`${fixture.name}: ${fixture.code} as soon as the bytes allow`, () => {
      for (let split = 0; split < bad.length; split++) {
        assert.equal(fixture.parse(bad.subarray(0, split)), null, `split at ${split}`);
      }
      assertSocksError(() => fixture.parse(bad), fixture.code, fixture.reply);
      assertSocksError(() => fixture.parse(Buffer.concat([bad, h('00 00 00')])), fixture.code, fixture.reply);
    });
  }
});

describe('SOCKS4 field bounds', () => {
  const header = '04 01 0050 7f000001';
  const header4a = '04 01 0050 00000001';

  test('a user id of exactly the bound is accepted', () => {
    const userId = 'u'.repeat(MAX_SOCKS4_USERID_LENGTH);
    const full = h(`${header} ${a(userId)} 00`);
    assert.equal(parseSocks4Request(full.subarray(0, full.length - 1)), null);
    assert.deepEqual(parseSocks4Request(full), {
      value: { command: 0x01, address: { host: '127.0.0.1', port: 80 }, userId },
      consumed: full.length,
    });
  });

  test('a user id one byte over the bound is refused even when its NUL follows', () => {
    const full = h(`${header} ${USERID_OVER} 00`);
    assertSocksError(() => parseSocks4Request(full), SocksErrorCode.UserIdTooLong, ReplyCode.GeneralFailure);
  });

  test('a 4a domain of exactly the bound is accepted', () => {
    const domain = 'd'.repeat(MAX_SOCKS4_DOMAIN_LENGTH);
    const full = h(`${header4a} 00 ${a(domain)} 00`);
    assert.equal(parseSocks4Request(full.subarray(0, full.length - 1)), null);
    assert.deepEqual(parseSocks4Request(full), {
      value: { command: 0x01, address: { host: domain, port: 80 }, userId: '' },
      consumed: full.length,
    });
  });

  test('fed one byte at a time, an endless user id fails at the first byte past the bound', () => {
    const endless = h(`${header} ${USERID_OVER} ${USERID_OVER}`);
    const boundary = h(header).length + MAX_SOCKS4_USERID_LENGTH + 1;
    assert.equal(parseSocks4Request(endless.subarray(0, boundary - 1)), null);
    assertSocksError(() => feedByteByByte(parseSocks4Request, endless), SocksErrorCode.UserIdTooLong, ReplyCode.GeneralFailure);
    assertSocksError(() => parseSocks4Request(endless.subarray(0, boundary)), SocksErrorCode.UserIdTooLong, ReplyCode.GeneralFailure);
  });
});


/** Values that steer parsers down real paths: versions, ATYPs, NULs, small lengths. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0xff];

function randomBuffer(random: () => number, version: number): Buffer {
  const long = random() < 0.1;
  const length = Math.floor(random() * (long ? 600 : 40));
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    buf[i] = random() < 0.4 ? INTERESTING_BYTES[Math.floor(random() * INTERESTING_BYTES.length)] : Math.floor(random() * 256);
  }
  if (length > 0 && random() < 0.75) buf[0] = version;
  return buf;
}

type Outcome = { kind: 'need' } | { kind: 'value'; result: NonNullable<ParseResult<unknown>> } | { kind: 'error'; code: string };

/** Runs a parser; anything thrown that is not a SocksError fails the test. */
function outcome(parse: Parser, buf: Buffer): Outcome {
  try {
    const result = parse(buf);
    return result === null ? { kind: 'need' } : { kind: 'value', result };
  } catch (err) {
    if (!(err instanceof SocksError)) throw new Error(`non-SocksError thrown for ${buf.toString('hex')}`, { cause: err });
    return { kind: 'error', code: err.code };
  }
}

/** The first outcome other than "need more", as the buffer grows. */
function firstDecision(parse: Parser, buf: Buffer): Outcome {
  for (let length = 0; length <= buf.length; length++) {
    const result = outcome(parse, buf.subarray(0, length));
    if (result.kind !== 'need') return result;
  }
  return { kind: 'need' };
}

const FUZZ_TARGETS: { name: string; parse: Parser; version: number; seed: number }[] = [
  { name: 'parseGreeting', parse: parseGreeting, version: 0x05, seed: 0x5eed0001 },
  { name: 'parseUserPassRequest', parse: parseUserPassRequest, version: 0x01, seed: 0x5eed0002 },
  { name: 'parseSocks5Request', parse: parseSocks5Request, version: 0x05, seed: 0x5eed0003 },
  { name: 'parseSocks4Request', parse: parseSocks4Request, version: 0x04, seed: 0x5eed0004 },
];
const FUZZ_CASES = 2000;

describe('SOCKS parsers on random bytes', () => {
  for (const target of FUZZ_TARGETS) {
    test(`${target.name}: only SocksError, and the decision never changes as bytes arrive`, () => {
      const random = seededRandom(target.seed);
      const seen = { need: 0, value: 0, error: 0 };
      for (let i = 0; i < FUZZ_CASES; i++) {
        const buf = randomBuffer(random, target.version);
        const full = outcome(target.parse, buf);
        seen[full.kind]++;
        if (full.kind === 'value') assert.ok(full.result.consumed > 0 && full.result.consumed <= buf.length);
        assert.deepEqual(firstDecision(target.parse, buf), full, `case ${i}: ${buf.toString('hex')}`);
      }
      // The generator must reach every outcome, or the property above proves little.
      assert.ok(seen.need > 0 && seen.value > 0 && seen.error > 0, JSON.stringify(seen));
    });
  }
});
