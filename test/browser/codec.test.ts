/**
 * The browser module's codec (browser/codec.ts, over Uint8Array) against the Node one
 * (protocol/codec.ts, over Buffer): what the browser sends decodes in Node as meant, what the
 * relay sends decodes in the browser codec as meant, and malformed messages are refused with
 * the same codes. esbuild compiles the browser codec for Node at test time, as the build
 * bundles it for pages.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import * as node from '../../protocol/codec.js';
import { Command, FrameType, GoAwayCode, ProtocolError, ReplyCode, ResetCode, type Address } from '../../protocol/frame.js';
import { ProtocolErrorCode } from '../../protocol/error-codes.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The part of browser/codec.ts this test uses (it is compiled for the DOM, apart from the Node build). */
interface BrowserCodec {
  encodeHello(minVersion: number, maxVersion: number, maxFrameSize: number): Uint8Array;
  encodeOpen(streamId: number, command: Command, address: Address): Uint8Array;
  encodeData(streamId: number, payload: Uint8Array): Uint8Array;
  encodeFin(streamId: number): Uint8Array;
  encodeWindowUpdate(streamId: number, increment: number): Uint8Array;
  encodePing(ack: boolean, opaque: number): Uint8Array;
  encodeReset(streamId: number, code: number, reason: string): Uint8Array;
  encodeGoAway(code: number, reason: string): Uint8Array;
  decodeFrame(message: Uint8Array): unknown;
}

const ADDRESSES: Address[] = [
  { host: '127.0.0.1', port: 6667 },
  { host: '2001:db8::1', port: 22 },
  { host: '::', port: 1 },
  { host: '::ffff:192.0.2.1', port: 80 },
  { host: 'fe80::1:2:3:4', port: 443 },
  { host: '1:2:3:4:5:6:7:8', port: 65535 },
  { host: 'irc.example.net', port: 6697 },
];

let browser: BrowserCodec;

before(async () => {
  const dir = await mkdtemp(`${tmpdir()}/sockbridge-browser-codec-`);
  try {
    const outfile = `${dir}/codec.mjs`;
    await build({ entryPoints: [`${ROOT}browser/codec.ts`], outfile, bundle: true, format: 'esm', platform: 'neutral', logLevel: 'warning' });
    browser = (await import(pathToFileURL(outfile).href)) as BrowserCodec;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function decodeInNode(bytes: Uint8Array): ReturnType<typeof node.decodeFrame> {
  return node.decodeFrame(Buffer.from(bytes));
}

describe('what the browser sends, read by the Node codec', () => {
  it('HELLO in the long form', () => {
    assert.deepEqual(decodeInNode(browser.encodeHello(1, 2, 65_772)), { type: FrameType.Hello, streamId: 0, minVersion: 1, maxVersion: 2, maxFrameSize: 65_772 });
  });

  it('OPEN to IPv4, IPv6 and names, byte for byte as the Node client encodes it', () => {
    for (const address of ADDRESSES) {
      const bytes = browser.encodeOpen(3, Command.Connect, address);
      assert.deepEqual(Buffer.from(bytes), node.encodeOpen(3, Command.Connect, address), address.host);
    }
  });

  it('DATA, FIN, WINDOW_UPDATE, PING, RESET and GO_AWAY', () => {
    const payload = Buffer.from('hello');
    assert.deepEqual(Buffer.from(browser.encodeData(1, payload)), node.encodeData(1, payload));
    assert.deepEqual(Buffer.from(browser.encodeFin(1)), node.encodeFin(1));
    assert.deepEqual(Buffer.from(browser.encodeWindowUpdate(1, 262_144)), node.encodeWindowUpdate(1, 262_144));
    assert.deepEqual(Buffer.from(browser.encodePing(true, 0xfffffffe)), node.encodePing(true, 0xfffffffe));
    assert.deepEqual(Buffer.from(browser.encodeReset(5, ResetCode.Aborted, 'the page cancelled')), node.encodeReset(5, ResetCode.Aborted, 'the page cancelled'));
    const long = 'é'.repeat(400); // 800 UTF-8 bytes: cut at 512 without splitting a character
    assert.deepEqual(Buffer.from(browser.encodeGoAway(GoAwayCode.Normal, long)), node.encodeGoAway(GoAwayCode.Normal, long));
  });

  it('refuses a name that is empty, too long, or not Latin-1', () => {
    assert.throws(() => browser.encodeOpen(1, Command.Connect, { host: '', port: 1 }), RangeError);
    assert.throws(() => browser.encodeOpen(1, Command.Connect, { host: 'a'.repeat(256), port: 1 }), RangeError);
    assert.throws(() => browser.encodeOpen(1, Command.Connect, { host: '日本.example', port: 1 }), /punycode/);
  });
});

describe('what the relay sends, read by the browser codec', () => {
  it('OPEN_RESULT with every address type', () => {
    for (const bound of ADDRESSES) {
      const frame = browser.decodeFrame(node.encodeOpenResult(7, ReplyCode.Succeeded, bound));
      const expected = node.decodeFrame(node.encodeOpenResult(7, ReplyCode.Succeeded, bound));
      assert.deepEqual(frame, { type: FrameType.OpenResult, streamId: 7, reply: 0, bound: (expected as { bound: Address }).bound });
    }
  });

  it('HELLO both forms, DATA, FIN, RESET, WINDOW_UPDATE, PING and GO_AWAY', () => {
    assert.deepEqual(browser.decodeFrame(node.encodeHello(2, 2, 16_384)), { type: FrameType.Hello, minVersion: 2, maxVersion: 2, maxFrameSize: 16_384 });
    assert.deepEqual(browser.decodeFrame(node.encodeHello(1, 1)), { type: FrameType.Hello, minVersion: 1, maxVersion: 1, maxFrameSize: null });
    const data = browser.decodeFrame(node.encodeData(9, Buffer.from('abc'))) as { payload: Uint8Array };
    assert.deepEqual({ ...data, payload: Buffer.from(data.payload) }, { type: FrameType.Data, streamId: 9, payload: Buffer.from('abc') });
    assert.deepEqual(browser.decodeFrame(node.encodeFin(9)), { type: FrameType.Fin, streamId: 9 });
    assert.deepEqual(browser.decodeFrame(node.encodeReset(9, ResetCode.PeerReset, 'ECONNRESET')), { type: FrameType.Reset, streamId: 9, code: 2, reason: 'ECONNRESET' });
    assert.deepEqual(browser.decodeFrame(node.encodeWindowUpdate(9, 1 << 20)), { type: FrameType.WindowUpdate, streamId: 9, increment: 1 << 20 });
    assert.deepEqual(browser.decodeFrame(node.encodePing(false, 42)), { type: FrameType.Ping, ack: false, opaque: 42 });
    assert.deepEqual(browser.decodeFrame(node.encodeGoAway(GoAwayCode.ShuttingDown, 'relay shutting down')), { type: FrameType.GoAway, code: 3, reason: 'relay shutting down' });
  });

  it('refuses malformed messages with the codes the Node codec uses', () => {
    const cases = ['030000', '0b0000000001', '03000000000068', '070000000001' + '00000001', '000000000000010100000200', '0000000000000101' + '00', '040000000001' + '00', '02000000000100017f0000010050ff', '0200000000010005000000000050'];
    for (const hex of cases) {
      const bytes = Buffer.from(hex, 'hex');
      let expected: ProtocolErrorCode | null = null;
      try {
        node.decodeFrame(bytes);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        expected = err.code;
      }
      assert.ok(expected, `${hex} decodes in Node`);
      assert.throws(() => browser.decodeFrame(bytes), (err: Error & { code?: string }) => err.code === expected, `${hex}: expected ${expected}`);
    }
  });
});
