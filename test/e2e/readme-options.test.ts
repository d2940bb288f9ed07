/**
 * The README's option tables are the render of the same declarations --help comes from:
 * a changed option that was not re-rendered (npm run readme:options) fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CLIENT_HELP } from '../../cli/client-command.js';
import { RELAY_HELP } from '../../cli/relay-command.js';
import { README_TABLES, readmeSection, renderReadmeTable } from '../../cli/options/readme.js';
import { runCli } from '../helpers/processes/cli-process.js';

/** README.md, seen from dist/test/e2e/. */
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

test('the README option tables equal the render of the option declarations', async () => {
  const readme = await readFile(README, 'utf8');
  for (const table of README_TABLES) {
    const section = readmeSection(readme, table.command);
    assert.notEqual(section, null, `README.md has <!-- options:${table.command} --> … <!-- /options:${table.command} -->`);
    assert.equal(section, renderReadmeTable(table), `README.md's ${table.command} options differ from cli/options: run npm run readme:options`);
  }
});

test('every option in the README tables is in --help, and the real --help is the rendered one', async () => {
  const helps: Record<string, string> = { relay: RELAY_HELP, client: CLIENT_HELP };
  for (const table of README_TABLES) {
    const printed = await runCli([table.command, '--help']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout, helps[table.command]);
    const readmeFlags = [...renderReadmeTable(table).matchAll(/^\| `(--[^`]+)`/gm)].map((match) => match[1]);
    assert.equal(readmeFlags.length, table.options.length);
    const flat = printed.stdout.replace(/\s+/g, ' ');
    for (const flag of readmeFlags) assert.ok(flat.includes(flag), `${table.command} --help shows ${flag}`);
  }
});
