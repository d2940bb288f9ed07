// Builds the status page (web/) into dist/web/: one bundled, minified ES module for the
// Lit elements (esbuild compiles the TypeScript; `tsc -p web` type-checks it), plus the
// HTML shell and the page stylesheet. The relay serves dist/web/ (server/routes/web.ts).
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/web`;

await rm(out, { recursive: true, force: true });
await mkdir(`${out}/assets`, { recursive: true });
await build({
  entryPoints: [`${root}web/src/status-app.ts`],
  outfile: `${out}/assets/status.js`,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  tsconfig: `${root}web/tsconfig.json`,
  logLevel: 'warning',
});
await copyFile(`${root}web/index.html`, `${out}/index.html`);
await copyFile(`${root}web/page.css`, `${out}/assets/page.css`);
