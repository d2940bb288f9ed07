/** The relay's version, read once from package.json (found by walking up: source and dist/ sit at different depths). */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'sockbridge' && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // not at this depth; try the next
    }
  }
  return 'unknown';
}

export const RELAY_VERSION = readVersion();
