/** The TLS-related flags of both commands: files read up front, with errors naming the flag and the file. */
import { readFileSync } from 'node:fs';
import type { RelayTls } from '../server/config.js';
import { UsageError } from './args.js';

/** A file named by a flag, read now so a typo fails at start rather than at the first handshake. */
export function readFlagFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag}: cannot read "${file}"${code ? ` (${code})` : ''}`);
  }
}

/** --tls-cert and --tls-key: both or neither. */
export function relayTlsFlags(cert: string | undefined, key: string | undefined): RelayTls | null {
  if (cert === undefined && key === undefined) return null;
  if (cert === undefined) throw new UsageError('--tls-cert: required with --tls-key (give both or neither)');
  if (key === undefined) throw new UsageError('--tls-key: required with --tls-cert (give both or neither)');
  return { cert: readFlagFile('--tls-cert', cert), key: readFlagFile('--tls-key', key) };
}
