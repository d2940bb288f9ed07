/**
 * `--config FILE`: YAML (so JSON too) whose keys are the long option names. Read whole on
 * start and on SIGHUP; any problem names the file, and the key when there is one.
 */
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../args.js';
import { readFlagFile } from '../tls-flags.js';

/** One top-level key of a config file and its value, as YAML gave it. */
export type ConfigDocument = ReadonlyMap<string, unknown>;

export function readConfigFile(path: string): ConfigDocument {
  return parseConfigText(readFlagFile('--config', path).toString('utf8'), path);
}

function parseConfigText(text: string, path: string): ConfigDocument {
  let doc: unknown;
  try {
    // uniqueKeys (the default) refuses a key given twice rather than keeping the last.
    doc = parseYaml(text, { prettyErrors: false });
  } catch (err) {
    throw new UsageError(`${path}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`${path}: expected a mapping of option names to values, e.g. "listen: 127.0.0.1:8080"`);
  return new Map(Object.entries(doc as Record<string, unknown>));
}
