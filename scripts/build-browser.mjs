// Builds the browser module (browser/) into dist/browser/sockbridge.js: one ES module for web
// pages, with no Node APIs (esbuild bundles the protocol constants it imports; `tsc -p browser`
// type-checks it against the DOM), and its types, sockbridge.d.ts, beside it.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/browser`;

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [`${root}browser/index.ts`],
  outfile: `${out}/sockbridge.js`,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  legalComments: 'none',
  tsconfig: `${root}browser/tsconfig.json`,
  logLevel: 'warning',
});
await copyFile(`${root}browser/sockbridge.d.ts`, `${out}/sockbridge.d.ts`);
