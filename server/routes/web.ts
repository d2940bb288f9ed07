/**
 * The status page's static assets, built from web/ by scripts/build-web.mjs into dist/web/.
 * Files are read once and kept in memory (a few hundred KB); names are checked against a
 * pattern, so a request can never reach outside the folder.
 */
import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';

export interface WebRoutesOptions {
  /** The folder holding index.html and assets/; default: dist/web next to this compiled file. */
  root?: URL;
}

/** Built next to dist/server/routes/web.js as dist/web/. */
export const DEFAULT_WEB_ROOT = new URL('../../web/', import.meta.url);

const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(js|css|map|svg)$/;
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
};

/**
 * Defence in depth for a page that shows user-controlled names: only our own scripts run,
 * nothing is framed, nothing leaks in a Referer. (Lit already renders text as text.)
 */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-cache',
};

export function webRoutes(options: WebRoutesOptions = {}): Hono {
  const root = options.root ?? DEFAULT_WEB_ROOT;
  const cache = new Map<string, Buffer>();
  const load = async (relative: string): Promise<Buffer | null> => {
    const cached = cache.get(relative);
    if (cached) return cached;
    try {
      const content = await readFile(new URL(relative, root));
      cache.set(relative, content);
      return content;
    } catch {
      return null;
    }
  };

  const app = new Hono();
  app.get('/', async (c) => {
    const page = await load('index.html');
    if (!page) return c.text('the status page is not built: run "npm run build"', 503);
    return c.body(new Uint8Array(page), 200, { ...PAGE_HEADERS, 'Content-Type': CONTENT_TYPES.html });
  });
  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const match = ASSET_NAME.exec(name);
    const content = match ? await load(`assets/${name}`) : null;
    if (!match || !content) return c.text('not found', 404);
    return c.body(new Uint8Array(content), 200, { ...PAGE_HEADERS, 'Content-Type': CONTENT_TYPES[match[1]] });
  });
  return app;
}
