/** The client's --link and --link-file: a share link whose settings are the defaults explicit flags override. */
import { decodeShareLink, type ShareLink } from '../common/share-link.js';
import { readFlagFile } from './tls-flags.js';
import { UsageError } from './args.js';

export function linkFromFlags(link: string | undefined, linkFile: string | undefined): ShareLink | null {
  if (link !== undefined && linkFile !== undefined) throw new UsageError('--link-file: give --link or --link-file, not both');
  // A file keeps the secret out of `ps` and shell history (a systemd credential, for one).
  const text = linkFile === undefined ? link : readFlagFile('--link-file', linkFile).toString('utf8');
  return text === undefined ? null : decodeShareLink(text);
}
