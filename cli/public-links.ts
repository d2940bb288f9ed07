/**
 * The relay's --public-url: at start, one share link per --token token, printed to stdout and
 * never through the logger (the links hold the tokens). --users entries get none: the relay
 * holds only their hashes, which cannot be turned back into tokens.
 */
import { ConfigError } from '../common/config-error.js';
import type { Logger } from '../common/log.js';
import { encodeShareLink } from '../common/share-link.js';
import { UsageError } from './args.js';

const PUBLIC_URL_FLAG = '--public-url';
/** A stand-in token, to check the URL before the relay starts. */
const PROBE_TOKEN = 'probe';

/** The URL clients use; with no path of its own (wss://relay.example) the relay's --path is added. */
export function publicUrlFlag(value: string | undefined, relayPath: string): string | null {
  if (value === undefined) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${PUBLIC_URL_FLAG}: "${value}" is not a URL (expected wss://HOST[:PORT]/PATH, as clients reach the relay)`);
  }
  if (url.pathname === '/' && !value.endsWith('/')) url.pathname = relayPath;
  const publicUrl = url.href;
  try {
    encodeShareLink({ relayUrl: publicUrl, token: PROBE_TOKEN, fingerprint: null, host: null, sni: null, label: null });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`${PUBLIC_URL_FLAG}: ${err.message.slice(err.setting.length + 2)}`);
    throw err;
  }
  return publicUrl;
}

/** Token names follow the status page's: token-1, token-2… by position. */
export function printPublicLinks(publicUrl: string, tokens: readonly string[], relayPath: string, logger: Logger): void {
  if (new URL(publicUrl).pathname !== relayPath) {
    logger.warn('--public-url names another path than the relay serves: fine only if a proxy in front rewrites it', { publicPath: new URL(publicUrl).pathname, path: relayPath });
  }
  if (tokens.length === 0) logger.info('--public-url: no share links, as --users holds only hashes of tokens (make them with "sockbridge link")');
  const lines = tokens.map((token, index) => {
    const name = `token-${index + 1}`;
    return `share link ${name}: ${encodeShareLink({ relayUrl: publicUrl, token, fingerprint: null, host: null, sni: null, label: name })}\n`;
  });
  process.stdout.write(lines.join(''));
  if (tokens.length > 0) logger.info('share links printed to stdout, one per --token token (each holds its token: keep them secret)', { url: publicUrl, links: tokens.length });
}
