/**
 * The README's option tables, rendered from the same declarations as --help. The README
 * holds each between `<!-- options:COMMAND -->` and `<!-- /options:COMMAND -->`;
 * `npm run readme:options` rewrites them, and a test fails when they differ from this render.
 */
import type { OptionSpec, OptionTable } from './option-table.js';
import { optionLabel } from './help.js';
import { CLIENT_OPTIONS } from './client-options.js';
import { RELAY_OPTIONS } from './relay-options.js';

export const README_TABLES: readonly OptionTable[] = [RELAY_OPTIONS, CLIENT_OPTIONS];

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function row(spec: OptionSpec): string {
  const option = `\`${optionLabel(spec)}\``;
  const shown = spec.defaultText ?? spec.default;
  const defaults = [shown === undefined ? '' : `\`${shown}\``, spec.env === undefined ? '' : `env \`${spec.env}\``].filter((part) => part !== '').join(', ');
  return `| ${cell(option)} | ${cell(spec.help)} | ${cell(defaults)} | ${spec.reloadable ? 'yes' : ''} |`;
}

export function renderReadmeTable(table: OptionTable): string {
  const header = '| option | meaning | default | live on SIGHUP |\n|---|---|---|---|';
  return `${header}\n${table.options.map(row).join('\n')}\n`;
}

function markers(command: string): { start: string; end: string } {
  return { start: `<!-- options:${command} -->`, end: `<!-- /options:${command} -->` };
}

/** The text between a command's markers, or null when the README lacks them. */
export function readmeSection(readme: string, command: string): string | null {
  const { start, end } = markers(command);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) return null;
  return readme.slice(from + start.length, to).replace(/^\n/, '');
}

/** `readme` with every command's section replaced by the current render. */
export function updateReadme(readme: string): string {
  let text = readme;
  for (const table of README_TABLES) {
    const { start, end } = markers(table.command);
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} section`);
    text = `${text.slice(0, from + start.length)}\n${renderReadmeTable(table)}${text.slice(to)}`;
  }
  return text;
}
