/**
 * A local web server for the browser module's tests: `/` is an empty page that imports
 * `/sockbridge.js` (dist/browser/sockbridge.js, as `npm run build` made it) and puts the
 * module on `globalThis.sockbridge`, as a page's own script would use it.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** dist/browser/sockbridge.js, from dist/test/helpers/http/. */
export const BROWSER_BUNDLE = fileURLToPath(new URL('../../../browser/sockbridge.js', import.meta.url));

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>sockbridge browser module test</title>
<script type="module">
  import * as sockbridge from '/sockbridge.js';
  globalThis.sockbridge = sockbridge;
</script>
`;

export interface ModulePage {
  url: string;
  close(): Promise<void>;
}

export async function startModulePage(): Promise<ModulePage> {
  const bundle = await readFile(BROWSER_BUNDLE);
  const server: Server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    else if (req.url === '/sockbridge.js') res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(bundle);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
