// Rewrites the README's option tables from the option declarations (cli/options/*-options.ts),
// between the <!-- options:relay --> and <!-- options:client --> markers. Run after a build:
// npm run readme:options. test/e2e/readme-options.test.ts fails while they differ.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { updateReadme } from '../dist/cli/options/readme.js';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
const before = await readFile(readmePath, 'utf8');
const after = updateReadme(before);
if (after !== before) await writeFile(readmePath, after);
process.stdout.write(after === before ? 'README.md option tables are up to date\n' : 'README.md option tables rewritten\n');
