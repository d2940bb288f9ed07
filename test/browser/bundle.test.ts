/**
 * dist/browser/sockbridge.js is for web pages: no Node API may reach it (esbuild would bundle
 * a `node:` import as a bare import the browser cannot load, and `Buffer` or `require` do not
 * exist there), and package.json exports it as `sockbridge/browser` with its types.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BROWSER_BUNDLE } from '../helpers/http/module-page.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NODE_ONLY = [/\brequire\s*\(/, /["'`]node:/, /\bBuffer\b/, /\bprocess\s*\./, /\b__dirname\b/];

describe('the browser bundle', () => {
  it('uses no Node API', async () => {
    const source = await readFile(BROWSER_BUNDLE, 'utf8');
    for (const pattern of NODE_ONLY) assert.doesNotMatch(source, pattern);
  });

  it('is an ES module exporting connect, SockbridgeError and ReplyCode', async () => {
    const source = await readFile(BROWSER_BUNDLE, 'utf8');
    assert.match(source, /^export \{[^}]*\bconnect\b[^}]*\};?$/m);
    assert.match(source, /^export \{[^}]*\bSockbridgeError\b[^}]*\};?$/m);
    assert.match(source, /^export \{[^}]*\bReplyCode\b[^}]*\};?$/m);
  });

  it('is what package.json exports as sockbridge/browser, with its types', async () => {
    const manifest = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    const entry = manifest.exports['./browser'];
    assert.equal(entry.default, './dist/browser/sockbridge.js');
    assert.equal(`${ROOT}${entry.default.slice(2)}`, BROWSER_BUNDLE);
    await access(`${ROOT}${entry.types.slice(2)}`);
  });
});
