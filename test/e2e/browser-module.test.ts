/**
 * sockbridge/browser in a real browser: headless Chromium loads dist/browser/sockbridge.js
 * from a local page and talks to an in-process relay, which dials local targets. It echoes
 * 8 MiB with a SHA-256 checked in the page (crypto.subtle) and at the target; a page that
 * stops reading holds the target back while the relay buffers at most one window for the
 * stream; half-close lets the target see end of input and still answer; a refused
 * destination rejects with the relay's SOCKS reply; session.close() ends the tunnel.
 *
 * Without Chromium the test is skipped with the command to install it, except under CI
 * (CI=true), where a missing browser fails, as in status-browser.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, withoutChromium } from '../helpers/browser/chromium.js';
import { createLogger } from '../../common/log.js';
import { INITIAL_STREAM_WINDOW, ReplyCode, ResetCode } from '../../protocol/frame.js';
import type { Stream } from '../../protocol/stream.js';
import { parseTargetRule } from '../../server/policy/target-rule.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { startModulePage, type ModulePage } from '../helpers/http/module-page.js';
import { waitFor } from '../helpers/io/waiting.js';
import { parseSinkAnswer, startFirehoseTarget, startHashSinkTarget, type FirehoseTarget } from '../helpers/targets/data-targets.js';
import { closedPort, startTarget, type Target } from '../helpers/targets/targets.js';
import { TEST_TOKEN } from '../helpers/tunnel/tunnel-pair.js';

const README = new URL('../../../README.md', import.meta.url);
const WAIT_MS = 30_000;
/** A page.evaluate that never settles (a FIN never sent, say) must still end the run. */
const SUITE_TIMEOUT_MS = 180_000;
const ECHO_BYTES = 8 * 1024 * 1024;
/** How long a count must stay the same for a flow to count as stopped. */
const STALL_STILL_MS = 700;
/** What the page reads once it resumes: several windows, so credit must have come back. */
const RESUME_READ_BYTES = 4 * INITIAL_STREAM_WINDOW;
/** Written to a target that does not read: far more than credit, the WebSocket and the kernel's buffers take. */
const UPLOAD_BYTES = 48 * 1024 * 1024;

interface EchoTarget extends Target {
  /** SHA-256 and length of what each connection received, once it ended. */
  received: Promise<{ bytes: number; sha256: string }>[];
}

/** Echoes with backpressure (pipe) and hashes what it received. */
async function startHashingEchoTarget(): Promise<EchoTarget> {
  const received: Promise<{ bytes: number; sha256: string }>[] = [];
  const target = await startTarget((socket) => {
    const hash = createHash('sha256');
    let bytes = 0;
    received.push(
      new Promise((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        socket.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
      }),
    );
    socket.pipe(socket);
  });
  return Object.assign(target, { received });
}

/**
 * Resolves with a count once it stayed the same for STALL_STILL_MS (the flow has stopped);
 * fails if it keeps changing for WAIT_MS. Polling, so a busy machine only makes it slower.
 */
async function waitStill(read: () => number | Promise<number>, what: string): Promise<number> {
  let last = await read();
  return waitFor(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, STALL_STILL_MS));
      const now = await read();
      const still = now === last;
      last = now;
      return still ? now : false;
    },
    { what, timeoutMs: WAIT_MS },
  );
}

/** The relay's side of the one stream it holds open now. */
function onlyRelayStream(relay: Relay): Stream {
  const streams = [...relay.sessions].flatMap((session) => [...session.streams.values()]);
  assert.equal(streams.length, 1, `the relay holds ${streams.length} streams`);
  return streams[0];
}

describe('the browser module in a real browser', { timeout: SUITE_TIMEOUT_MS }, async () => {
  if (await withoutChromium('runs the browser module in Chromium')) return;

  let relay: Relay;
  let refusedPort: number;
  let site: ModulePage;
  let browser: Browser;
  let page: Page;
  let echo: EchoTarget;
  let firehose: FirehoseTarget;
  let sink: Target;
  let resetter: Target;

  before(async () => {
    [echo, firehose, sink, refusedPort] = await Promise.all([startHashingEchoTarget(), startFirehoseTarget(), startHashSinkTarget(), closedPort()]);
    resetter = await startTarget((socket) => socket.once('data', () => socket.resetAndDestroy()));
    relay = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [TEST_TOKEN],
      // A rule refuses one loopback port; every other local target is allowed.
      rules: [parseTargetRule('deny', `127.0.0.1:${refusedPort}`), ...loopbackRules()],
      logger: createLogger('relay', 'silent'),
    });
    site = await startModulePage();
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(site.url);
    await page.waitForFunction(() => 'sockbridge' in globalThis);
    assert.deepEqual(errors, []);
  });

  after(async () => {
    await browser?.close();
    await relay?.close();
    await site?.close();
    await Promise.all([echo?.close(), firehose?.close(), sink?.close(), resetter?.close()]);
  });

  it(`echoes ${ECHO_BYTES / 1024 / 1024} MiB through the relay, SHA-256 checked in the page and at the target`, async () => {
    const result = await page.evaluate(
      async ({ url, token, port, total }) => {
        const sb = (globalThis as any).sockbridge;
        const hex = async (bytes: Uint8Array<ArrayBuffer>): Promise<string> =>
          Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
        const data = new Uint8Array(total);
        let x = 0x2545f491;
        for (let i = 0; i < total; i++) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          data[i] = x >>> 24;
        }
        const session = await sb.connect(url, { token });
        const { readable, writable } = await session.openTcp('127.0.0.1', port);
        const writer = writable.getWriter();
        const writing = (async () => {
          // Uneven pieces, so frames do not line up with writes.
          for (let offset = 0; offset < total; offset += 50_000) await writer.write(data.subarray(offset, Math.min(total, offset + 50_000)));
          await writer.close();
        })();
        const received = new Uint8Array(total);
        let length = 0;
        const reader = readable.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          if (length + value.length > total) throw new Error(`echo longer than ${total} bytes`);
          received.set(value, length);
          length += value.length;
        }
        await writing;
        await session.close();
        return { length, sent: await hex(data), echoed: await hex(received.subarray(0, length)), version: session.version };
      },
      { url: relay.url, token: TEST_TOKEN, port: echo.port, total: ECHO_BYTES },
    );
    const atTarget = await echo.received[0];
    assert.equal(atTarget.bytes, ECHO_BYTES);
    assert.equal(result.length, ECHO_BYTES);
    assert.equal(atTarget.sha256, result.sent, 'the target received what the page sent');
    assert.equal(result.echoed, result.sent, 'the page read back what it sent');
    assert.equal(result.version, 2);
  });

  it('splits DATA to fit a relay that accepts small frames (--max-frame-size 1024)', async () => {
    const small = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TEST_TOKEN], rules: loopbackRules(), maxFrameSize: 1024, logger: createLogger('relay', 'silent') });
    try {
      const answer = await page.evaluate(
        async ({ url, token, port }) => {
          const sb = (globalThis as any).sockbridge;
          const session = await sb.connect(url, { token });
          const { readable, writable } = await session.openTcp('127.0.0.1', port);
          const writer = writable.getWriter();
          await writer.write(new Uint8Array(200_000).fill(0x61));
          await writer.close();
          let text = '';
          for await (const chunk of readable) text += new TextDecoder().decode(chunk);
          await session.close();
          return text;
        },
        { url: small.url, token: TEST_TOKEN, port: sink.port },
      );
      assert.deepEqual(parseSinkAnswer(Buffer.from(answer, 'latin1')), { bytes: 200_000, sha256: createHash('sha256').update(Buffer.alloc(200_000, 0x61)).digest('hex') });
    } finally {
      await small.close();
    }
  });

  it('holds the target back when the page stops reading: the relay buffers at most one window', async () => {
    await page.evaluate(
      async ({ url, token, port }) => {
        const sb = (globalThis as any).sockbridge;
        const session = await sb.connect(url, { token });
        const connection = await session.openTcp('127.0.0.1', port);
        (globalThis as any).stalled = { session, connection, reader: connection.readable.getReader() };
      },
      { url: relay.url, token: TEST_TOKEN, port: firehose.port },
    );
    const target = await waitFor(() => firehose.connections[0], { what: 'the firehose to be dialed' });
    const before = await waitStill(() => target.accepted, 'the firehose to stop writing while the page reads nothing');
    assert.ok(target.blocked, 'the firehose stopped without backpressure');
    const stream = onlyRelayStream(relay);
    assert.ok(stream.bytesSent <= INITIAL_STREAM_WINDOW, `the relay sent ${stream.bytesSent} bytes, over the page's window`);
    const queued = stream.queuedBytes;
    assert.ok(queued <= INITIAL_STREAM_WINDOW, `the relay holds ${queued} bytes queued for the stream, over one window`);

    // Reading again returns credit, and the target moves on.
    const read = await page.evaluate(async (wanted) => {
      const { reader } = (globalThis as any).stalled;
      let bytes = 0;
      while (bytes < wanted) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended after ${bytes} bytes`);
        bytes += value.length;
      }
      return bytes;
    }, RESUME_READ_BYTES);
    assert.ok(read >= RESUME_READ_BYTES);
    assert.ok(stream.bytesSent > INITIAL_STREAM_WINDOW, 'the relay sent no more once the page read');
    await waitFor(() => target.accepted > before, { what: 'the firehose to write again' });
    firehose.stop();
    await page.evaluate(() => (globalThis as any).stalled.session.close());
    await waitFor(() => relay.sessions.size === 0, { what: 'the relay to drop the closed session' });
  });

  it('holds the page\'s writes back while the target does not read, then delivers every byte', async () => {
    const counted: { socket: Socket; bytes: number; ended: Promise<void> }[] = [];
    const slow = await startTarget((socket) => {
      socket.pause();
      const entry = { socket, bytes: 0, ended: new Promise<void>((resolve) => socket.once('end', resolve)) };
      socket.on('data', (chunk: Buffer) => (entry.bytes += chunk.length));
      counted.push(entry);
    });
    try {
      await page.evaluate(
        async ({ url, token, port, total }) => {
          const sb = (globalThis as any).sockbridge;
          const session = await sb.connect(url, { token });
          const { writable } = await session.openTcp('127.0.0.1', port);
          const upload = { accepted: 0, done: null as Promise<void> | null, session };
          const writer = writable.getWriter();
          const piece = new Uint8Array(256 * 1024).fill(0x62);
          upload.done = (async () => {
            while (upload.accepted < total) {
              await writer.write(piece);
              upload.accepted += piece.length;
            }
            await writer.close();
          })();
          (globalThis as any).upload = upload;
        },
        { url: relay.url, token: TEST_TOKEN, port: slow.port, total: UPLOAD_BYTES },
      );
      const accepted = (): Promise<number> => page.evaluate(() => (globalThis as any).upload.accepted as number);
      const stalledAt = await waitStill(accepted, 'the page\'s writes to stall while the target reads nothing');
      assert.ok(stalledAt < UPLOAD_BYTES, `the page wrote all ${UPLOAD_BYTES} bytes to a target that read nothing`);
      const [target] = counted;
      target.socket.resume();
      await target.ended;
      assert.equal(target.bytes, UPLOAD_BYTES);
      await page.evaluate(async () => {
        const { done, session } = (globalThis as any).upload;
        await done;
        await session.close();
      });
    } finally {
      await slow.close();
    }
  });

  it('half-closes when the writable closes: the target sees end of input and still answers', async () => {
    const request = 'x'.repeat(100_000) + '\nend of request\n';
    const answer = await page.evaluate(
      async ({ url, token, port, request }) => {
        const sb = (globalThis as any).sockbridge;
        const session = await sb.connect(url, { token });
        const { readable, writable } = await session.openTcp('127.0.0.1', port);
        const writer = writable.getWriter();
        await writer.write(request);
        await writer.close();
        let text = '';
        const decoder = new TextDecoder();
        for await (const chunk of readable) text += decoder.decode(chunk, { stream: true });
        await session.close();
        return text;
      },
      { url: relay.url, token: TEST_TOKEN, port: sink.port, request },
    );
    assert.deepEqual(parseSinkAnswer(Buffer.from(answer, 'latin1')), {
      bytes: Buffer.byteLength(request),
      sha256: createHash('sha256').update(request).digest('hex'),
    });
  });

  it('rejects a destination the relay refuses with its SOCKS reply code and a message', async () => {
    const deadPort = await closedPort();
    const failures = await page.evaluate(
      async ({ url, token, refusedPort, deadPort }) => {
        const sb = (globalThis as any).sockbridge;
        const session = await sb.connect(url, { token });
        const attempt = (port: number) =>
          session.openTcp('127.0.0.1', port).then(
            () => null,
            (err: any) => ({ isSockbridgeError: err instanceof sb.SockbridgeError, code: err.code, replyCode: err.replyCode, message: err.message }),
          );
        const result = { refused: await attempt(refusedPort), dead: await attempt(deadPort) };
        await session.close();
        return result;
      },
      { url: relay.url, token: TEST_TOKEN, refusedPort, deadPort },
    );
    assert.ok(failures.refused, 'the refused destination opened');
    assert.equal(failures.refused.isSockbridgeError, true);
    assert.equal(failures.refused.code, 'ERR_OPEN_FAILED');
    assert.equal(failures.refused.replyCode, ReplyCode.NotAllowed);
    assert.match(failures.refused.message, new RegExp(`127\\.0\\.0\\.1:${refusedPort}.*not allowed`));
    assert.ok(failures.dead, 'a closed port opened');
    assert.equal(failures.dead.replyCode, ReplyCode.ConnectionRefused);
    assert.match(failures.dead.message, /connection refused/);
  });

  it('errors the readable and the writable when the target resets the connection', async () => {
    const outcome = await page.evaluate(
      async ({ url, token, port }) => {
        const sb = (globalThis as any).sockbridge;
        const session = await sb.connect(url, { token });
        const { readable, writable } = await session.openTcp('127.0.0.1', port);
        const writer = writable.getWriter();
        await writer.write('reset me\n');
        const describe = (err: any) => ({ code: err.code, resetCode: err.resetCode, replyCode: err.replyCode, message: err.message });
        const read = await readable.getReader().read().then(() => null, describe);
        const written = await writer.closed.then(() => null, describe);
        const stillUsable = await session.openTcp('127.0.0.1', port).then((connection: any) => (connection.reset(), true));
        await session.close();
        return { read, written, stillUsable };
      },
      { url: relay.url, token: TEST_TOKEN, port: resetter.port },
    );
    assert.ok(outcome.read, 'the read succeeded');
    assert.equal(outcome.read.code, 'ERR_STREAM_RESET');
    assert.equal(outcome.read.resetCode, ResetCode.PeerReset);
    assert.match(outcome.read.message, /the relay reset the stream: ECONNRESET/);
    assert.deepEqual(outcome.written, outcome.read);
    assert.equal(outcome.stillUsable, true, 'one reset stream cost the session');
  });

  it('runs the README\'s example against a local IRC-like server', async () => {
    const lines: string[] = [];
    const irc = await startTarget((socket) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        for (let end = text.indexOf('\r\n'); end >= 0; end = text.indexOf('\r\n')) {
          const line = text.slice(0, end);
          text = text.slice(end + 2);
          lines.push(line);
          if (line.startsWith('USER ')) socket.write(':irc.test 001 webuser :Welcome\r\nPING :irc.test\r\n');
          if (line === 'PONG :irc.test') socket.end(':irc.test NOTICE webuser :bye\r\n');
        }
      });
    });
    try {
      const readme = await readFile(README, 'utf8');
      const section = readme.slice(readme.indexOf('## From a web page'));
      const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];
      assert.ok(example, 'README has no example under "From a web page"');
      const code = example
        .replace(/^import \{ connect \} from 'sockbridge\/browser';.*$/m, 'const { connect } = globalThis.sockbridge;')
        .replace("'wss://relay.example/tunnel'", JSON.stringify(relay.url))
        .replace('TUNNEL_TOKEN', JSON.stringify(TEST_TOKEN))
        .replace("'irc.example.net', 6667", `'127.0.0.1', ${irc.port}`);
      assert.equal(code.split('\n').filter((line) => line.trim() !== '').length, 10, 'the example is ten lines');
      await page.evaluate(`(async () => {\n${code}\n})()`);
      assert.deepEqual(lines, ['NICK webuser', 'USER webuser 0 * :sockbridge page', 'PONG :irc.test']);
    } finally {
      await irc.close();
    }
  });

  it('refuses a wrong token with a readable message', async () => {
    const message = await page.evaluate(
      ({ url }) => (globalThis as any).sockbridge.connect(url, { token: 'not-the-token' }).then(() => null, (err: Error) => err.message),
      { url: relay.url },
    );
    assert.match(message ?? 'connected', /refused or dropped the WebSocket.*token/);
  });

  it('session.close() ends the tunnel, its open streams, and later opens', async () => {
    const outcome = await page.evaluate(
      async ({ url, token, port }) => {
        const sb = (globalThis as any).sockbridge;
        const session = await sb.connect(url, { token });
        const { readable } = await session.openTcp('127.0.0.1', port);
        const reading = readable.getReader().read().then(
          () => 'read',
          (err: any) => err.code,
        );
        await session.close();
        await session.close(); // idempotent
        const later = await session.openTcp('127.0.0.1', port).then(
          () => 'opened',
          (err: any) => err.code,
        );
        return { reading: await reading, later, end: await session.closed };
      },
      { url: relay.url, token: TEST_TOKEN, port: sink.port },
    );
    assert.deepEqual(outcome, { reading: 'ERR_SESSION_CLOSED', later: 'ERR_SESSION_CLOSED', end: { code: 0, reason: 'closed by the page' } });
    await waitFor(() => relay.sessions.size === 0, { what: 'the relay to drop the closed session' });
  });
});
