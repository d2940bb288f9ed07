/**
 * The status page on --admin-listen, in a real browser (headless Chromium via playwright-core,
 * as status-browser.test.ts): a relay with a secret --path, a --fallback website and
 * --admin-listen. The page works on the admin listener (login, the live tunnel, a stream
 * appearing while a transfer runs); on the public port the same browser meets only the
 * fallback website, at / and at every status route. A relay with --workers 2 shows which
 * worker holds each tunnel; a single relay shows no such column.
 *
 * Without Chromium the test is skipped with the command to install it, except under CI
 * (CI=true), where a missing browser fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, withoutChromium } from '../helpers/browser/chromium.js';
import { startPair, type TunnelPair } from '../helpers/tunnel/tunnel-pair.js';
import type { Target } from '../helpers/targets/targets.js';
import { socksConnect } from '../helpers/socks/socks-dial.js';
import { ADMIN_TOKEN, startDripTarget } from '../helpers/status/status-http.js';
import { startFallbackOrigin, type FallbackOrigin } from '../helpers/targets/fallback-origin.js';
import { startTunnelClient, startWorkersRelay, waitWorkers, type WorkersRelay } from '../helpers/processes/workers-relay.js';
import type { Client } from '../../client/client.js';

const WAIT_MS = 15_000;
const SECRET_PATH = '/7f0c2a9e4b1d4e6a8c3b5d7e9f1a2b3c';

describe('the status page on --admin-listen, in a real browser', async () => {
  if (await withoutChromium('runs the status page on --admin-listen in Chromium')) return;

  let origin: FallbackOrigin;
  let pair: TunnelPair;
  let target: Target;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const sockets: Socket[] = [];

  before(async () => {
    origin = await startFallbackOrigin();
    pair = await startPair({ relay: { adminToken: ADMIN_TOKEN, adminListen: { host: '127.0.0.1', port: 0 }, path: SECRET_PATH, fallback: origin.url } });
    target = await startDripTarget(4 * 1024, 50);
    browser = await launchChromium();
    context = await browser.newContext({ httpCredentials: { username: 'admin', password: ADMIN_TOKEN } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await browser?.close();
    await pair?.close();
    await target?.close();
    await origin?.close();
  });

  it('logs in on the admin listener and shows the live tunnel on the secret path', async () => {
    assert.ok(pair.relay.url.endsWith(SECRET_PATH));
    const adminUrl = pair.relay.adminUrl;
    assert.ok(adminUrl !== null);
    const response = await page.goto(adminUrl);
    assert.equal(response?.status(), 200);
    await page.locator('status-app .conn', { hasText: 'live' }).waitFor();
    await page.locator('summary-panel [data-metric="tunnels"] .value', { hasText: /^1$/ }).waitFor();
    await page.locator('tunnels-table td[data-col="token"]', { hasText: 'token-1' }).waitFor();
    assert.equal(await page.locator('tunnels-table td[data-col="worker"]').count(), 0, 'one process: no worker column');
  });

  it('shows a stream while a transfer runs through the tunnel', async () => {
    const socket = await socksConnect(pair.socksPort, target.port);
    sockets.push(socket);
    socket.resume();
    const destination = `127.0.0.1:${target.port}`;
    await page.locator('input[type="search"]').fill(destination);
    await page.locator('streams-table tbody tr', { hasText: destination }).waitFor();
    socket.destroy();
    await page.locator('streams-table tbody tr', { hasText: destination }).waitFor({ state: 'detached' });
  });

  it('meets only the fallback website on the public port, with the same credentials', async () => {
    const publicPage = await context.newPage();
    try {
      const home = await publicPage.goto(pair.relay.httpUrl);
      assert.equal(home?.status(), 200);
      assert.equal(await publicPage.locator('h1').textContent(), 'Fresh bread daily');
      for (const path of ['api/status', 'metrics', 'healthz', 'assets/status.js']) {
        const answer = await publicPage.goto(new URL(path, pair.relay.httpUrl).href);
        assert.equal(answer?.status(), 404, path);
        assert.match(await publicPage.content(), /no such page/, `${path} is the origin's 404 page`);
      }
      assert.equal(await publicPage.locator('status-app').count(), 0);
    } finally {
      await publicPage.close();
    }
  });
});

describe('the status page of a relay with --workers 2, in a real browser', async () => {
  if (await withoutChromium('shows the worker of each tunnel in Chromium')) return;
  const CLIENTS = 4;
  let relay: WorkersRelay;
  const clients: Client[] = [];
  let browser: Browser;

  before(async () => {
    relay = await startWorkersRelay(2);
    for (let i = 0; i < CLIENTS; i++) clients.push(await startTunnelClient(relay.url));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const client of clients) await client.close();
    await relay?.proc.stop();
  });

  it('shows the worker and its pid beside each tunnel, as the API has them', async () => {
    const status = await waitWorkers(relay, `${CLIENTS} tunnels on both workers`, (s) => s.tunnels.length === CLIENTS && new Set(s.tunnels.map((t) => t.pid)).size === 2);
    const context = await browser.newContext({ httpCredentials: { username: 'admin', password: ADMIN_TOKEN } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      await page.goto(`http://127.0.0.1:${relay.adminPort}/`);
      const cells = page.locator('tunnels-table td[data-col="worker"]');
      await cells.nth(CLIENTS - 1).waitFor();
      const shown = (await cells.allTextContents()).map((text) => text.trim()).sort();
      const expected = status.tunnels.map((t) => `${t.worker} (pid ${t.pid})`).sort();
      assert.deepEqual(shown, expected);
    } finally {
      await context.close();
    }
  });
});
