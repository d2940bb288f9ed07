/**
 * relay --wisp driven by the browser-side Wisp clients it is for, in headless Chromium
 * (playwright-core): libcurl.js fetches a 1 MiB http:// page from a local server byte for
 * byte, and the wisp-js client (which offers the "wisp-v2" subprotocol) runs 50 parallel
 * echo streams with 10 MB of uploads. Both libraries are development dependencies only,
 * served to the test page from node_modules by the test's own HTTP server.
 *
 * Without Chromium the test is skipped with the command to install it, except under CI
 * (CI=true), where a missing browser fails (withoutChromium).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { createLogger } from '../../common/log.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { ErrorReason } from '../../server/status/error-reasons.js';
import { launchChromium, withoutChromium } from '../helpers/browser/chromium.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';

const NODE_MODULES = fileURLToPath(new URL('../../../node_modules/', import.meta.url));
/** The files the page loads, by the path it asks for. */
const SCRIPTS: Readonly<Record<string, string>> = {
  '/libcurl_full.js': 'libcurl.js/libcurl_full.js',
  '/wisp-client.js': '@mercuryworkshop/wisp-js/dist/wisp-client.js',
};
const TOKEN = 'browser token+/=';
const PAGE_BYTES = 1024 * 1024;
const STREAMS = 50;
const UPLOAD_PER_STREAM = 200_000; // 50 × 200 kB = 10 MB
const CHUNK = 16 * 1024;

/** A deterministic 1 MiB body: every byte position matters. */
function pageBody(): Buffer {
  const body = Buffer.alloc(PAGE_BYTES);
  for (let i = 0; i < body.length; i += 1) body[i] = (i * 7 + (i >> 8)) & 0xff;
  return body;
}

async function listenHttp(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** The test page and the two client libraries. */
function startPageServer(): Server {
  return createServer((req, res) => {
    const file = SCRIPTS[req.url ?? ''];
    if (file !== undefined) {
      readFile(NODE_MODULES + file).then(
        (bytes) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(bytes),
        (err: Error) => res.writeHead(500).end(err.message),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>wisp test</title>
<script src="/libcurl_full.js"></script><script src="/wisp-client.js"></script>
<script>window.libcurlApi = libcurl; /* a top-level lexical binding, not a property of window */</script>`);
  });
}

describe('relay --wisp in a browser', async () => {
  if (await withoutChromium('drives relay --wisp from libcurl.js and wisp-js')) return;
  let relay: Relay;
  let pages: Server;
  let origin: Server;
  let echo: Target;
  let browser: Browser;
  let page: Page;
  let wispUrl: string;
  let originPort: number;
  const body = pageBody();

  before(async () => {
    echo = await startEchoTarget();
    origin = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body));
    originPort = await listenHttp(origin);
    pages = startPageServer();
    const pagePort = await listenHttp(pages);
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: [TOKEN], rules: loopbackRules(), wisp: true, logger: createLogger('relay', 'silent') });
    wispUrl = `ws://127.0.0.1:${relay.address.port}/wisp/${encodeURIComponent(TOKEN)}/`;
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${pagePort}/`);
    // Plain scripts: both globals exist once the page has loaded.
    const loaded = await page.evaluate(() => [typeof (globalThis as Record<string, unknown>).libcurlApi, typeof (globalThis as Record<string, unknown>).wisp_client]);
    assert.deepEqual(loaded, ['object', 'object']);
  });

  after(async () => {
    await browser?.close();
    await relay?.close();
    await new Promise((resolve) => pages?.close(resolve));
    await new Promise((resolve) => origin?.close(resolve));
    await echo?.close();
  });

  it('libcurl.js fetches a 1 MiB http:// page through /wisp/TOKEN/, byte for byte', { timeout: 60_000 }, async () => {
    const result = await page.evaluate(
      async ({ url, target }) => {
        const g = globalThis as unknown as { libcurlApi: { load_wasm(): Promise<void>; set_websocket(url: string): void; fetch(url: string): Promise<Response> } };
        await g.libcurlApi.load_wasm();
        g.libcurlApi.set_websocket(url);
        const response = await g.libcurlApi.fetch(target);
        const bytes = new Uint8Array(await response.arrayBuffer());
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
        return { status: response.status, length: bytes.length, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };
      },
      { url: wispUrl, target: `http://127.0.0.1:${originPort}/page` },
    );
    assert.equal(result.status, 200);
    assert.equal(result.length, PAGE_BYTES);
    assert.equal(result.sha256, createHash('sha256').update(body).digest('hex'));
  });

  it('wisp-js (offering wisp-v2) falls back to version 1 and runs 50 parallel echo streams with 10 MB of uploads within its credit', { timeout: 120_000 }, async () => {
    const before = relay.status.snapshot().totals.errors;
    const result = await page.evaluate(
      async ({ url, port, streams, perStream, chunk }) => {
        const g = globalThis as unknown as { wisp_client: { client: { ClientConnection: new (url: string) => WispConnection } } };
        interface WispStream { send(data: Uint8Array): void; close(reason?: number): void; onmessage: (data: Uint8Array) => void; onclose: (reason: number) => void }
        interface WispConnection { onopen: () => void; onerror: () => void; onclose: () => void; wisp_version: number; max_buffer_size: number; create_stream(host: string, port: number): WispStream; close(): void }
        const conn = new g.wisp_client.client.ClientConnection(url);
        await new Promise<void>((resolve, reject) => {
          conn.onopen = resolve;
          conn.onerror = () => reject(new Error('wisp connection error'));
          conn.onclose = () => reject(new Error('wisp connection closed'));
        });
        const one = (index: number): Promise<boolean> =>
          new Promise((resolve, reject) => {
            const sent = new Uint8Array(perStream);
            for (let i = 0; i < sent.length; i += 1) sent[i] = (i * 31 + index * 17) & 0xff;
            const got = new Uint8Array(perStream);
            let received = 0;
            const stream = conn.create_stream('127.0.0.1', port);
            stream.onmessage = (data) => {
              got.set(data, received);
              received += data.length;
              if (received < perStream) return;
              stream.close(0x02);
              resolve(got.every((b, i) => b === sent[i]));
            };
            stream.onclose = (reason) => reject(new Error(`stream ${index} closed with ${reason} after ${received} bytes`));
            for (let at = 0; at < perStream; at += chunk) stream.send(sent.subarray(at, at + chunk));
          });
        const matched = await Promise.all(Array.from({ length: streams }, (_, index) => one(index)));
        const version = conn.wisp_version;
        const buffer = conn.max_buffer_size;
        conn.close();
        return { allMatched: matched.every(Boolean), version, buffer };
      },
      { url: wispUrl, port: echo.port, streams: STREAMS, perStream: UPLOAD_PER_STREAM, chunk: CHUNK },
    );
    assert.equal(result.allMatched, true);
    // wisp-js asks for "wisp-v2"; the relay answers without a subprotocol and sends CONTINUE
    // first, which wisp-js 0.5 takes as a version 1 server.
    assert.equal(result.version, 1);
    assert.equal(result.buffer, 64);
    const errors = relay.status.snapshot().totals.errors;
    assert.equal(errors[ErrorReason.WispCreditExceeded] ?? 0, before[ErrorReason.WispCreditExceeded] ?? 0, 'the relay closed no stream for DATA beyond its credit');
    assert.equal(errors[ErrorReason.WispBadPacket] ?? 0, before[ErrorReason.WispBadPacket] ?? 0);
  });
});
