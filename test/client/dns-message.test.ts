/**
 * The DNS forwarder's message handling (client/dns/message.ts) and the TCP length-prefix
 * reader (client/dns/tcp-framing.ts). Hex fixtures are written from RFC 1035 §4.1 and
 * RFC 6891 §6.1, not from the product's encoders; the reader is fed every split point,
 * one byte at a time, and chaotic chunks.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isQuery, parseHeader, questionName, questionSectionEnd, servfailFor, truncateForUdp, udpPayloadLimit, withId } from '../../client/dns/message.js';
import { DnsTcpReader, frameForTcp } from '../../client/dns/tcp-framing.js';
import { cutsArb, prefixLengths } from '../helpers/fixtures/chaotic-chunks.js';

/** Hex with optional spaces, so fixtures can be split by field. */
function bytes(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** ID FLAGS QDCOUNT ANCOUNT NSCOUNT ARCOUNT. */
const QUERY_HEADER = '1234 0100 0001 0000 0000 0000';
/** example.com IN A. */
const QUESTION = '07 6578616d706c65 03 636f6d 00 0001 0001';
const QUERY = bytes(QUERY_HEADER + QUESTION);
/** An OPT pseudo-record (root name, TYPE 41) whose CLASS is the UDP size. */
const opt = (sizeHex: string): string => `00 0029 ${sizeHex} 00000000 0000`;
const QUERY_EDNS_4096 = bytes(`1234 0100 0001 0000 0000 0001 ${QUESTION} ${opt('1000')}`);
/** A record for example.com (pointer to offset 12) → 192.0.2.1: 16 bytes. */
const A_RECORD = 'c00c 0001 0001 0000003c 0004 c0000201';

function answerWith(records: number): Buffer {
  const count = records.toString(16).padStart(4, '0');
  return bytes(`1234 8180 0001 ${count} 0000 0000 ${QUESTION} ${A_RECORD.repeat(records)}`);
}

describe('DNS message', () => {
  test('header fields, and what counts as a query', () => {
    assert.deepEqual(parseHeader(QUERY), { id: 0x1234, flags: 0x0100, qdCount: 1, anCount: 0, nsCount: 0, arCount: 0 });
    assert.equal(parseHeader(QUERY.subarray(0, 11)), null);
    assert.equal(isQuery(QUERY), true);
    assert.equal(isQuery(answerWith(1)), false, 'QR set: a response');
    assert.equal(isQuery(QUERY.subarray(0, 11)), false, 'shorter than a header');
    assert.equal(questionSectionEnd(QUERY), QUERY.length);
    assert.equal(questionSectionEnd(QUERY.subarray(0, QUERY.length - 1)), null, 'question cut short');
  });

  test('withId changes the ID only, on a copy', () => {
    const copy = withId(QUERY, 0xbeef);
    assert.equal(copy.toString('hex'), 'beef' + QUERY.subarray(2).toString('hex'));
    assert.equal(QUERY.readUInt16BE(0), 0x1234);
  });

  test('SERVFAIL keeps ID, OPCODE, RD and the question; sets QR, RA and RCODE 2; no records', () => {
    assert.equal(servfailFor(QUERY).toString('hex'), bytes(`1234 8182 0001 0000 0000 0000 ${QUESTION}`).toString('hex'));
    // OPCODE 2 (STATUS), RD clear, an OPT record that is not copied:
    const status = bytes(`abcd 1000 0001 0000 0000 0001 ${QUESTION} ${opt('1000')}`);
    assert.equal(servfailFor(status).toString('hex'), bytes(`abcd 9082 0001 0000 0000 0000 ${QUESTION}`).toString('hex'));
    // A question that cannot be walked is left out:
    const broken = bytes('0001 0100 0001 0000 0000 0000 3f 6162');
    assert.equal(servfailFor(broken).toString('hex'), bytes('0001 8182 0000 0000 0000 0000').toString('hex'));
  });

  test('UDP size: 512 without EDNS0, the OPT CLASS with it, never below 512', () => {
    assert.equal(udpPayloadLimit(QUERY), 512);
    assert.equal(udpPayloadLimit(QUERY_EDNS_4096), 4096);
    assert.equal(udpPayloadLimit(bytes(`1234 0100 0001 0000 0000 0001 ${QUESTION} ${opt('0100')}`)), 512, 'RFC 6891 §6.2.5: below 512 counts as 512');
    assert.equal(udpPayloadLimit(bytes(`1234 0100 0001 0000 0000 0001 ${QUESTION} ${opt('ffff')}`)), 65_507, 'capped at the largest IPv4 UDP payload');
    // OPT behind another additional record and an authority record:
    const behind = bytes(`1234 0100 0001 0000 0001 0002 ${QUESTION} ${A_RECORD} ${A_RECORD} ${opt('04d0')}`);
    assert.equal(udpPayloadLimit(behind), 1232);
    assert.equal(udpPayloadLimit(bytes(`1234 0100 0001 0000 0000 0001 ${QUESTION} 00 0029`)), 512, 'a cut OPT record');
  });

  test('truncation: fits → unchanged; too long → header with TC and the question, records dropped', () => {
    const small = answerWith(2);
    assert.deepEqual(truncateForUdp(small, 512), { message: small, truncated: false });
    const big = answerWith(40); // 12 + 17 + 640 = 669 bytes
    assert.equal(big.length, 669);
    const cut = truncateForUdp(big, 512);
    assert.equal(cut.truncated, true);
    assert.equal(cut.message.toString('hex'), bytes(`1234 8380 0001 0000 0000 0000 ${QUESTION}`).toString('hex'));
    assert.equal(truncateForUdp(big, 669).truncated, false, 'exactly at the limit fits');
    assert.equal(truncateForUdp(big, 668).truncated, true);
    // A limit below header + question (never a real requester's) keeps the header alone:
    assert.equal(truncateForUdp(big, 20).message.toString('hex'), bytes('1234 8380 0000 0000 0000 0000').toString('hex'));
  });

  test('the name for log lines', () => {
    assert.equal(questionName(QUERY), 'example.com');
    assert.equal(questionName(bytes('0001 0100 0001 0000 0000 0000 00 0001 0001')), '.');
    assert.equal(questionName(bytes('0001 0100 0001 0000 0000 0000 03 612062 00 0001 0001')), 'a\\032b');
    assert.equal(questionName(bytes('0001 0100 0000 0000 0000 0000')), null, 'no question');
    assert.equal(questionName(bytes('0001 0100 0001 0000 0000 0000 c00c')), null, 'a pointer in a query');
  });
});

describe('DNS over TCP: the length-prefix reader', () => {
  const first = QUERY;
  const second = answerWith(3);
  const stream = Buffer.concat([frameForTcp(first), frameForTcp(second)]);
  const expected = [first.toString('hex'), second.toString('hex')];

  test('frameForTcp puts the length in front; over 65,535 bytes is refused', () => {
    assert.equal(frameForTcp(bytes('aabbcc')).toString('hex'), '0003aabbcc');
    assert.throws(() => frameForTcp(Buffer.alloc(0x10000)), RangeError);
  });

  test('two messages split at every point give the same two messages', () => {
    for (let split = 0; split <= stream.length; split++) {
      const reader = new DnsTcpReader();
      const got = [...reader.push(stream.subarray(0, split)), ...reader.push(stream.subarray(split))];
      assert.deepEqual(got.map((m) => m.toString('hex')), expected, `split at ${split}`);
      assert.equal(reader.atBoundary, true);
    }
  });

  test('one byte at a time, each message completes on its last byte', () => {
    const reader = new DnsTcpReader();
    const got: string[] = [];
    for (let i = 0; i < stream.length; i++) {
      const out = reader.push(stream.subarray(i, i + 1));
      const ends = i === 2 + first.length - 1 || i === stream.length - 1;
      assert.equal(out.length, ends ? 1 : 0, `byte ${i}`);
      got.push(...out.map((m) => m.toString('hex')));
      assert.equal(reader.atBoundary, ends, `boundary after byte ${i}`);
    }
    assert.deepEqual(got, expected);
  });

  test('a zero length is an empty message; many messages in one chunk', () => {
    const reader = new DnsTcpReader();
    const got = reader.push(Buffer.concat([bytes('0000'), frameForTcp(first), frameForTcp(first), bytes('00')]));
    assert.deepEqual(got.map((m) => m.length), [0, first.length, first.length]);
    assert.equal(reader.atBoundary, false, 'half a length held');
    assert.deepEqual(reader.push(bytes('01ff')).map((m) => m.toString('hex')), ['ff']);
  });

  test('chaotic chunks of many messages match the messages', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }), cutsArb, (messages, cuts) => {
        const wire = Buffer.concat(messages.map((m) => frameForTcp(Buffer.from(m))));
        const reader = new DnsTcpReader();
        const got: Buffer[] = [];
        let from = 0;
        for (const to of prefixLengths(cuts, wire.length)) {
          got.push(...reader.push(wire.subarray(from, to)));
          from = to;
        }
        assert.deepEqual(got.map((m) => m.toString('hex')), messages.map((m) => Buffer.from(m).toString('hex')));
      }),
    );
  });
});
