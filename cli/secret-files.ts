/** Secrets read from files (--token-file, --admin-token-file), so they never sit on a command line that `ps` shows. */
import { UsageError } from './args.js';
import { readFlagFile } from './tls-flags.js';

/** The non-blank lines of `file`, each trimmed (a CRLF or a trailing space is not part of a token). */
export function readSecretLines(source: string, file: string): string[] {
  return readFlagFile(source, file).toString('utf8').split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
}

/** The first non-blank line of `file`; a file without one is an error. */
export function readSecret(source: string, file: string): string {
  const [secret] = readSecretLines(source, file);
  if (secret === undefined) throw new UsageError(`${source}: "${file}" holds no token`);
  return secret;
}
