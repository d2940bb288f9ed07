/**
 * The declaration every command-line option is made from: the parser (parse.ts), `--help`
 * (help.ts), the config-file keys and the README's option tables (readme.ts) all read it,
 * so none of them can drift from the others.
 */

/** How a value is written and what it becomes. */
export type OptionKind =
  /** any text */
  | 'string'
  /** repeatable text; in a config file a list */
  | 'list'
  /** a positive number of seconds, used in milliseconds */
  | 'seconds'
  /** a positive whole number */
  | 'count'
  /** HOST:PORT, [V6]:PORT or :PORT */
  | 'host-port'
  /** LOW-HIGH */
  | 'port-range'
  /** one of `choices` */
  | 'enum'
  /** on when given (`--wisp`), no value; in a config file true or false */
  | 'switch'
  /**
   * One action of an ordered rule list shared by several options (`--allow`/`--deny`): on
   * the command line their values keep the order given across the names; in a config file
   * they are one list under the group's key, e.g. `rules: [{allow: X}, {deny: Y}]`.
   */
  | 'rule';

export interface OptionSpec {
  /** The long name: `--NAME` on the command line, `NAME:` in a config file. */
  name: string;
  kind: OptionKind;
  /** The value's placeholder in --help: HOST:PORT, SECONDS, N, FILE… */
  arg: string;
  /** What it does, in sentences; defaults, env and reload are added from the fields below. */
  help: string;
  /** As a user would write it; parsed like any given value. Absent: unset. */
  default?: string;
  /** Said instead of `default` in --help when the default is not a plain value. */
  defaultText?: string;
  /** An environment variable that stands in for the default (a list: comma-separated). */
  env?: string;
  /** True when SIGHUP applies a changed value from the config file without a restart. */
  reloadable?: boolean;
  /** For 'enum'. */
  choices?: readonly string[];
  /** For 'rule': the key of the ordered list in a config file, shared by the group's options. */
  group?: string;
}

/** One command's options, in --help order. */
export interface OptionTable {
  command: string;
  options: readonly OptionSpec[];
}

const MIB = 1024 * 1024;

/** A byte count as help text shows it: 67108864 → "64 MiB". */
export function mebibytes(bytes: number): string {
  return `${bytes / MIB} MiB`;
}

/** Milliseconds as the seconds a user writes. */
export function secondsText(ms: number): string {
  return String(ms / 1000);
}
