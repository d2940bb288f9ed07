/** `--help` from an option table: one entry per option, its default, env var and SIGHUP behaviour added from the declaration. */
import type { OptionSpec, OptionTable } from './option-table.js';

const WIDTH = 100;
/** Where help text starts: two spaces of indent, then the flag and its value padded to here. */
const HELP_COLUMN = 30;

/** What follows the help sentence: (default X; env VAR; live on SIGHUP). */
export function optionNotes(spec: OptionSpec): string[] {
  const notes: string[] = [];
  const shown = spec.defaultText ?? spec.default;
  if (shown !== undefined) notes.push(`default ${shown}`);
  if (spec.env !== undefined) notes.push(`env ${spec.env}${spec.kind === 'list' ? ', comma-separated' : ''}`);
  if (spec.reloadable) notes.push('live on SIGHUP');
  return notes;
}

export function optionLabel(spec: OptionSpec): string {
  return spec.arg === '' ? `--${spec.name}` : `--${spec.name} ${spec.arg}`;
}

/** The `Options:` block of a command's --help: the table's options, then --config and --help. */
export function renderOptions(table: OptionTable): string {
  const lines: string[] = [];
  for (const spec of table.options) {
    const notes = optionNotes(spec);
    lines.push(...entry(optionLabel(spec), notes.length > 0 ? `${spec.help} (${notes.join('; ')})` : spec.help));
  }
  lines.push(...entry('--config FILE', 'read options from a YAML or JSON file whose keys are the long option names (see the README); options given here override it; re-read on SIGHUP'));
  lines.push(...entry('-h, --help', 'show this help'));
  return `Options:\n${lines.join('\n')}\n`;
}

export function renderHelp(intro: string, table: OptionTable): string {
  return `${intro.trimEnd()}\n\n${renderOptions(table)}`;
}

function entry(label: string, text: string): string[] {
  const wrapped = wrap(text, WIDTH - HELP_COLUMN);
  const head = `  ${label}`;
  const indent = ' '.repeat(HELP_COLUMN);
  if (head.length + 1 >= HELP_COLUMN) return [head, ...wrapped.map((line) => indent + line)];
  return [head.padEnd(HELP_COLUMN) + wrapped[0], ...wrapped.slice(1).map((line) => indent + line)];
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length === 0 ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}
