/**
 * The status routes' access rules, tested on the Hono app with app.request() (no server):
 * the admin token as Bearer or as HTTP Basic password, 401 with a Basic challenge otherwise,
 * 404 when no admin token is configured, /healthz always open.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../server/app.js';
import { presentedAdminToken } from '../../server/routes/admin-auth.js';
import { StatusModel } from '../../server/status/status-model.js';
import { createLogger } from '../../common/log.js';
import { ADMIN_TOKEN, basicAuth, bearer } from '../helpers/status/status-http.js';

const PROTECTED = ['/', '/api/status', '/api/events', '/metrics', '/assets/status.js'];
const logger = createLogger('test', 'silent');

describe('admin authentication of the status routes', () => {
  const models: StatusModel[] = [];
  const appWith = (adminToken: string | null) => {
    const status = new StatusModel();
    models.push(status);
    return createApp({ logger, tunnelCount: () => 0, status, adminToken });
  };
  after(() => {
    for (const model of models) model.close();
  });

  it('answers 404 on every status route when no admin token is configured', async () => {
    const app = appWith(null);
    for (const path of PROTECTED) {
      for (const authorization of [undefined, bearer(ADMIN_TOKEN)]) {
        const response = await app.request(path, { headers: authorization ? { authorization } : {} });
        assert.equal(response.status, 404, path);
        assert.equal(response.headers.get('www-authenticate'), null, path);
      }
    }
  });

  it('answers 401 with a Basic challenge to missing or wrong credentials, on each route', async () => {
    const app = appWith(ADMIN_TOKEN);
    const wrong = [
      undefined,
      bearer('not-the-token'),
      basicAuth('not-the-token'),
      basicAuth(`${ADMIN_TOKEN}x`),
      `Basic ${Buffer.from(ADMIN_TOKEN).toString('base64')}`, // no "user:" part
      `Bearer`,
      `Digest username="x"`,
      bearer(''),
    ];
    for (const path of PROTECTED) {
      for (const authorization of wrong) {
        const response = await app.request(path, { headers: authorization ? { authorization } : {} });
        assert.equal(response.status, 401, `${path} with ${authorization}`);
        assert.equal(response.headers.get('www-authenticate'), 'Basic realm="restricted", charset="UTF-8"');
        const body = await response.text();
        assert.doesNotMatch(body, new RegExp(ADMIN_TOKEN));
        assert.doesNotMatch(body, /sockbridge|tunnel/i, 'the answer names the product');
      }
    }
  });

  it('accepts the token as Bearer and as Basic password with any user name', async () => {
    const app = appWith(ADMIN_TOKEN);
    for (const authorization of [bearer(ADMIN_TOKEN), basicAuth(ADMIN_TOKEN), basicAuth(ADMIN_TOKEN, ''), basicAuth(ADMIN_TOKEN, 'someone else'), `bearer  ${ADMIN_TOKEN}`]) {
      for (const path of ['/api/status', '/metrics', '/']) {
        const response = await app.request(path, { headers: { authorization } });
        assert.equal(response.status, 200, `${path} with ${authorization}`);
        await response.body?.cancel();
      }
    }
  });

  it('serves the event stream as text/event-stream to an authenticated client', async () => {
    const app = appWith(ADMIN_TOKEN);
    const controller = new AbortController();
    const response = await app.request('/api/events', { headers: { authorization: bearer(ADMIN_TOKEN) }, signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /^event: status\ndata: \{"version":/);
    await reader.cancel();
    controller.abort();
  });

  it('leaves /healthz open and unknown paths 404', async () => {
    const app = appWith(ADMIN_TOKEN);
    assert.equal((await app.request('/healthz')).status, 200);
    assert.equal((await app.request('/nothing-here')).status, 404);
    assert.equal((await app.request('/assets/..%2Fpackage.json', { headers: { authorization: bearer(ADMIN_TOKEN) } })).status, 404);
    assert.equal((await app.request('/assets/missing.js', { headers: { authorization: bearer(ADMIN_TOKEN) } })).status, 404);
  });

  it('serves the page with a strict content security policy', async () => {
    const app = appWith(ADMIN_TOKEN);
    const page = await app.request('/', { headers: { authorization: basicAuth(ADMIN_TOKEN) } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<status-app><\/status-app>/);
    const script = await app.request('/assets/status.js', { headers: { authorization: basicAuth(ADMIN_TOKEN) } });
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await script.text(), /status-app/);
  });

  it('reads the presented token from Bearer or the Basic password', () => {
    assert.equal(presentedAdminToken(undefined), null);
    assert.equal(presentedAdminToken(bearer('abc')), 'abc');
    assert.equal(presentedAdminToken(basicAuth('p:w:d', 'u')), 'p:w:d'); // a password may hold colons
    assert.equal(presentedAdminToken(basicAuth('pw', '')), 'pw');
    assert.equal(presentedAdminToken('Basic !!!'), null);
    assert.equal(presentedAdminToken('Token abc'), null);
  });
});
