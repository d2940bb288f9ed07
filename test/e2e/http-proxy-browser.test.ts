/**
 * Chromium (Debian's, driven by playwright-core) through the client's one port: with
 * --proxy-pac-url it loads the PAC file from the port and a page through SOCKS5; with
 * --proxy-server=http://… it loads a page and its fetches through the HTTP proxy. The pages
 * live on this machine's non-loopback address, which browsers never bypass by themselves, and
 * the relay's stream count shows the requests went through the tunnel.
 *
 * Without Chromium the tests are skipped with the command to install it, except under CI
 * (CI=true), where a missing browser fails (withoutChromium).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Browser } from 'playwright-core';
import { launchChromium, withoutChromium } from '../helpers/browser/chromium.js';
import { parseTargetRule } from '../../server/policy/target-rule.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';

const WAIT_MS = 15_000;
const PAGE_TITLE = 'sockbridge page';
const FETCHED_TEXT = 'fetched through the proxy';

/** An IPv4 address of this machine that is not loopback, or null. */
function externalIPv4(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (found) return found.address;
  }
  return null;
}

interface PageServer {
  base: string;
  /** Each request's path and Connection header: the HTTP proxy sends `close` (one outbound per request), a browser over SOCKS `keep-alive`. */
  seen: Array<{ path: string; connection: string | undefined }>;
  close(): Promise<void>;
}

/** A page that fetches a second resource and shows it, so a loaded page means two requests served. */
async function startPageServer(host: string): Promise<PageServer> {
  const seen: PageServer['seen'] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', connection: req.headers.connection });
    if (req.url?.endsWith('/data.txt')) return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end(FETCHED_TEXT);
    const html = `<!doctype html><title>${PAGE_TITLE}</title><p id="out">loading</p>
<script>fetch(location.pathname + '/data.txt').then((r) => r.text()).then((t) => { document.getElementById('out').textContent = t; });</script>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    base: `http://${host}:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('Chromium through the one port', async () => {
  if (await withoutChromium('loads pages through the PAC file and the HTTP proxy')) return;
  const address = externalIPv4();
  if (address === null) {
    it('loads pages through the PAC file and the HTTP proxy', (t) => t.skip('this machine has no non-loopback IPv4 address'));
    return;
  }

  let pair: TunnelPair;
  let pages: PageServer;
  const browsers: Browser[] = [];

  before(async () => {
    pages = await startPageServer(address);
    pair = await startPair({ relay: { rules: [parseTargetRule('allow', address), ...loopbackRules()] } });
  });
  after(async () => {
    for (const browser of browsers) await browser.close();
    await pair.close();
    await pages.close();
  });

  async function loadPage(proxyArg: string, path: string, connection: string): Promise<void> {
    const browser = await launchChromium([proxyArg]);
    browsers.push(browser);
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const streamsBefore = pair.relay.status.snapshot().totals.streamsOpened;
    const response = await page.goto(`${pages.base}${path}`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), PAGE_TITLE);
    await page.locator('#out', { hasText: FETCHED_TEXT }).waitFor();
    const served = pages.seen.filter((request) => request.path === path || request.path === `${path}/data.txt`);
    assert.deepEqual(served, [{ path, connection }, { path: `${path}/data.txt`, connection }]);
    const opened = pair.relay.status.snapshot().totals.streamsOpened - streamsBefore;
    assert.ok(opened >= 1, 'the page came through the tunnel');
  }

  it('--proxy-pac-url: loads the PAC file from the port and the page through SOCKS5', async () => {
    await loadPage(`--proxy-pac-url=http://127.0.0.1:${pair.socksPort}/proxy.pac`, '/pac', 'keep-alive');
  });

  it('--proxy-server=http://: loads the page and its fetch through the HTTP proxy', async () => {
    await loadPage(`--proxy-server=http://127.0.0.1:${pair.socksPort}`, '/http-proxy', 'close');
  });
});
