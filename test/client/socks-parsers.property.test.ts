/**
 * Property tests of the SOCKS parsers (CONVENTIONS §2, §9): for any bytes and any way they
 * are cut into chunks, re-running a parser on the growing buffer (as the connection does)
 * ends the same way as parsing the whole buffer at once; and valid requests built from
 * generated fields parse back to exactly those fields, whatever the chunking.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import {
  parseGreeting,
  parseSocks4Request,
  parseSocks5Request,
  parseUserPassRequest,
  type ParseResult,
} from '../../client/socks/parsers.js';
import { SocksError } from '../../client/socks/errors.js';
import { MAX_SOCKS4_DOMAIN_LENGTH, MAX_SOCKS4_USERID_LENGTH } from '../../client/socks/constants.js';
import { cutsArb, prefixLengths } from '../helpers/fixtures/chaotic-chunks.js';

const NUM_RUNS = 1000;
const MAX_RANDOM_LENGTH = 600;

type Parser = (buf: Buffer) => ParseResult<unknown>;

const PARSERS: Array<[string, Parser, number]> = [
  ['parseGreeting', parseGreeting, 0x05],
  ['parseUserPassRequest', parseUserPassRequest, 0x01],
  ['parseSocks5Request', parseSocks5Request, 0x05],
  ['parseSocks4Request', parseSocks4Request, 0x04],
];

/** How one parse ended: a value, "need more", or a SocksError reduced to what the connection uses. */
type Outcome =
  | { kind: 'value'; value: unknown; consumed: number }
  | { kind: 'more' }
  | { kind: 'error'; code: string; reply: number };

function run(parse: Parser, buf: Buffer): Outcome {
  let result: ParseResult<unknown>;
  try {
    result = parse(buf);
  } catch (err) {
    // Anything but a SocksError is a parser bug: fail with the offending input.
    if (!(err instanceof SocksError)) {
      throw new Error(`non-SocksError thrown for ${buf.toString('hex')}: ${String(err)}`, { cause: err });
    }
    return { kind: 'error', code: err.code, reply: err.reply };
  }
  return result === null ? { kind: 'more' } : { kind: 'value', value: result.value, consumed: result.consumed };
}

/** Feeds the prefixes in turn and stops at the first one that completes or fails, as the connection does. */
function runChunked(parse: Parser, buf: Buffer, cuts: readonly number[]): Outcome {
  let outcome: Outcome = { kind: 'more' };
  for (const length of prefixLengths(cuts, buf.length)) {
    // A copy, so a parser that kept a view of an earlier prefix would be caught.
    outcome = run(parse, Buffer.from(buf.subarray(0, length)));
    if (outcome.kind !== 'more') return outcome;
  }
  return outcome;
}

/** Bytes that start with the parser's version byte half the time, so the deeper states are reached. */
function bytesFor(version: number): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.boolean(), fc.uint8Array({ maxLength: MAX_RANDOM_LENGTH }), fc.nat(8))
    .map(([versioned, bytes, small]) => {
      const buf = Buffer.from(bytes);
      if (versioned && buf.length > 0) buf[0] = version;
      // Small lengths, commands and address types make complete messages likely.
      if (versioned && buf.length > 1 && small < 4) buf[1] = small + 1;
      return buf;
    });
}

describe('SOCKS parsers: chunked input ends as the whole buffer does', () => {
  for (const [name, parse, version] of PARSERS) {
    test(`${name}: any bytes, any chunking: same value and consumed, or the same SocksError code and reply`, () => {
      fc.assert(
        fc.property(bytesFor(version), cutsArb, (buf, cuts) => {
          assert.deepEqual(runChunked(parse, buf, cuts), run(parse, buf));
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

// ---- valid messages from generated fields ----

const port = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const trailing = fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes));
/** UTF-8 text of whole characters (no lone surrogates), without NUL, of at most `maxBytes` bytes. */
const utf8Text = (maxBytes: number): fc.Arbitrary<string> =>
  fc
    .string({ unit: 'grapheme', maxLength: maxBytes })
    .map((text) => text.replaceAll('\0', ''))
    .filter((text) => Buffer.byteLength(text, 'utf8') <= maxBytes);
/** Latin-1 bytes (the parsers read domains as latin1) of the given lengths, optionally without NUL. */
const latin1Bytes = (min: number, max: number, noNul: boolean): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max, min: noNul ? 1 : 0 }).map((bytes) => Buffer.from(bytes));

interface Socks4Target {
  ip: Buffer;
  /** Set for SOCKS4a. */
  domain: Buffer | null;
}

function u16(value: number): Buffer {
  const buf = Buffer.alloc(2);
  buf.writeUInt16BE(value);
  return buf;
}

/** Asserts that every chunking of `message` + `tail` yields `expected` consuming exactly `message`. */
function assertRoundTrip(parse: Parser, message: Buffer, tail: Buffer, cuts: readonly number[], expected: unknown): void {
  const whole = Buffer.concat([message, tail]);
  const outcome = runChunked(parse, whole, cuts);
  assert.equal(outcome.kind, 'value', `no value for ${whole.toString('hex')}: ${JSON.stringify(outcome)}`);
  if (outcome.kind !== 'value') return;
  assert.deepEqual(outcome.value, expected);
  assert.equal(outcome.consumed, message.length);
}

describe('SOCKS parsers: valid messages round-trip under any chunking', () => {
  test('RFC 1928 greeting with 1..255 methods', () => {
    fc.assert(
      fc.property(fc.array(u8, { minLength: 1, maxLength: 255 }), trailing, cutsArb, (methods, tail, cuts) => {
        const message = Buffer.from([0x05, methods.length, ...methods]);
        assertRoundTrip(parseGreeting, message, tail, cuts, { methods });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('RFC 1929 username/password request (UTF-8, 0..255 bytes each)', () => {
    fc.assert(
      fc.property(utf8Text(255), utf8Text(255), trailing, cutsArb, (username, password, tail, cuts) => {
        const user = Buffer.from(username, 'utf8');
        const pass = Buffer.from(password, 'utf8');
        const message = Buffer.concat([Buffer.of(0x01, user.length), user, Buffer.of(pass.length), pass]);
        assertRoundTrip(parseUserPassRequest, message, tail, cuts, { username, password });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('SOCKS5 request to IPv4, IPv6 and 1..255-byte domains, any CMD and RSV', () => {
    const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => ({
      wire: Buffer.from([0x01, ...bytes]),
      check: (host: string) => assert.equal(host, [...bytes].join('.')),
    }));
    const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => ({
      wire: Buffer.from([0x04, ...bytes]),
      // Compared as bytes, so any valid spelling of the address passes.
      check: (host: string) => {
        assert.ok(isIPv6(host), `IPv6 host ${host}`);
        assert.deepEqual(ipaddr.parse(host).toByteArray(), [...bytes]);
      },
    }));
    const domain = latin1Bytes(1, 255, false).map((name) => ({
      wire: Buffer.concat([Buffer.of(0x03, name.length), name]),
      check: (host: string) => assert.equal(host, name.toString('latin1')),
    }));
    fc.assert(
      fc.property(u8, u8, fc.oneof(ipv4, ipv6, domain), port, trailing, cutsArb, (command, rsv, address, dstPort, tail, cuts) => {
        const message = Buffer.concat([Buffer.of(0x05, command, rsv), address.wire, u16(dstPort)]);
        const whole = Buffer.concat([message, tail]);
        const outcome = runChunked(parseSocks5Request, whole, cuts);
        assert.equal(outcome.kind, 'value', `no value for ${whole.toString('hex')}: ${JSON.stringify(outcome)}`);
        if (outcome.kind !== 'value') return;
        assert.equal(outcome.consumed, message.length);
        const value = outcome.value as { command: number; address: { host: string; port: number } };
        assert.deepEqual(Object.keys(value).sort(), ['address', 'command']);
        assert.equal(value.command, command);
        assert.equal(value.address.port, dstPort);
        address.check(value.address.host);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test('SOCKS4 request (IPv4) and SOCKS4a (0.0.0.x + domain), with user ids of 0..255 bytes', () => {
    const ipv4 = fc
      .uint8Array({ minLength: 4, maxLength: 4 })
      .filter((ip) => !(ip[0] === 0 && ip[1] === 0 && ip[2] === 0)) // neither 0.0.0.0 nor the 4a marker
      .map((ip): Socks4Target => ({ ip: Buffer.from(ip), domain: null }));
    const socks4a = fc
      .tuple(fc.integer({ min: 1, max: 255 }), latin1Bytes(1, MAX_SOCKS4_DOMAIN_LENGTH, true))
      .map(([x, domain]): Socks4Target => ({ ip: Buffer.of(0, 0, 0, x), domain }));
    fc.assert(
      fc.property(
        u8,
        port,
        fc.oneof(ipv4, socks4a),
        utf8Text(MAX_SOCKS4_USERID_LENGTH),
        trailing,
        cutsArb,
        (command, dstPort, target, userId, tail, cuts) => {
          const head = Buffer.concat([Buffer.of(0x04, command), u16(dstPort), target.ip]);
          const parts: Buffer[] = [head, Buffer.from(userId, 'utf8'), Buffer.of(0)];
          if (target.domain) parts.push(target.domain, Buffer.of(0));
          const message = Buffer.concat(parts);
          const host = target.domain ? target.domain.toString('latin1') : [...target.ip].join('.');
          assertRoundTrip(parseSocks4Request, message, tail, cuts, { command, address: { host, port: dstPort }, userId });
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
