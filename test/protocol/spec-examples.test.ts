/**
 * The byte-level examples in protocol/README.md, checked against the codec: the spec is read
 * at test time, so an example that drifts from the code fails here. Each ```frame block holds
 * the message in hex and, on the next line, its decoded frame as JSON or {"error": CODE}.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeFrame, encodeFrame } from '../../protocol/codec.js';
import { FrameType, ProtocolError, type Frame } from '../../protocol/frame.js';
import { ProtocolErrorCode } from '../../protocol/error-codes.js';

/** From dist/test/protocol/ back to the source tree's protocol/README.md. */
const SPEC_URL = new URL('../../../protocol/README.md', import.meta.url);
const EXAMPLE_BLOCK = /^```frame\n([\s\S]*?)^```$/gm;
const HEX_LINE = /^[0-9a-f ]+$/;

interface Example {
  /** Where the block starts in the README, for failure messages. */
  line: number;
  bytes: Buffer;
  expected: Frame | { error: ProtocolErrorCode };
}

function readExamples(): Example[] {
  const spec = readFileSync(SPEC_URL, 'utf8');
  return [...spec.matchAll(EXAMPLE_BLOCK)].map((match) => {
    const line = spec.slice(0, match.index).split('\n').length;
    const lines = match[1].split('\n').filter((text) => text.trim() !== '');
    assert.equal(lines.length, 2, `README line ${line}: an example is one hex line and one JSON line`);
    const [hex, json] = lines;
    assert.match(hex, HEX_LINE, `README line ${line}: the first line must be hex`);
    const digits = hex.replace(/ /g, '');
    assert.equal(digits.length % 2, 0, `README line ${line}: odd number of hex digits`);
    return { line, bytes: Buffer.from(digits, 'hex'), expected: parseExpected(json) };
  });
}

/** The JSON as decodeFrame returns it: payloads are written in hex, decoded frames hold Buffers. */
function parseExpected(json: string): Example['expected'] {
  return JSON.parse(json, (key, value: unknown) => (key === 'payload' && typeof value === 'string' ? Buffer.from(value, 'hex') : value));
}

function isErrorExample(expected: Example['expected']): expected is { error: ProtocolErrorCode } {
  return 'error' in expected;
}

describe('protocol/README.md examples', () => {
  const examples = readExamples();

  it('covers every frame type and names only known error codes', () => {
    const types = new Set(examples.flatMap(({ expected }) => (isErrorExample(expected) ? [] : [expected.type])));
    for (const type of Object.values(FrameType)) assert.ok(types.has(type), `no example of frame type 0x${type.toString(16)}`);
    const known = new Set<string>(Object.values(ProtocolErrorCode));
    for (const { line, expected } of examples) {
      if (isErrorExample(expected)) assert.ok(known.has(expected.error), `README line ${line}: unknown error code ${expected.error}`);
    }
  });

  for (const { line, bytes, expected } of examples) {
    const hex = bytes.toString('hex');
    if (isErrorExample(expected)) {
      it(`line ${line}: ${hex} is refused with ${expected.error}`, () => {
        assert.throws(
          () => decodeFrame(bytes),
          (err: unknown) => err instanceof ProtocolError && err.code === expected.error,
        );
      });
      continue;
    }
    it(`line ${line}: ${hex} decodes to its JSON and encodes back`, () => {
      assert.deepEqual(decodeFrame(bytes), expected);
      assert.equal(encodeFrame(expected).toString('hex'), hex);
    });
  }
});
