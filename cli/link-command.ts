/**
 * `sockbridge link`: prints one sockbridge:// share link (common/share-link.ts) carrying what a
 * client needs; `sockbridge client --link` takes it. The link holds the token: it goes to
 * stdout only, never to a log.
 */
import { encodeShareLink } from '../common/share-link.js';
import { TUNNEL_PATH } from '../protocol/frame.js';
import { parseFlags, tokensFrom, UsageError } from './args.js';

export const LINK_HELP = `Usage: sockbridge link --relay wss://HOST[:PORT]${TUNNEL_PATH} --token TOKEN [options]

Prints one sockbridge:// link that carries the relay URL, the token and the options below, for
"sockbridge client --link LINK". The link holds the token: hand it over as you would a password.

Options:
  --relay URL           the relay's tunnel endpoint, as clients reach it (ws:// or wss://);
                        repeatable: several relays, the most preferred first (the token,
                        fingerprint, host and sni apply to every one)
  --token TOKEN         the tunnel token (default: env SOCKBRIDGE_TOKEN, its first token)
  --fingerprint SHA256  pin the relay's certificate (wss:// only; hex, colons optional)
  --host NAME           the upgrade request's Host header (client --host)
  --sni NAME            the TLS server name (client --sni; wss:// only)
  --name LABEL          a label for people to tell links apart (the link's #fragment)
  -h, --help            show this help
`;

export async function linkCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    relay: { type: 'string', multiple: true },
    token: { type: 'string' },
    fingerprint: { type: 'string' },
    host: { type: 'string' },
    sni: { type: 'string' },
    name: { type: 'string' },
  });
  if (flags.help) {
    process.stdout.write(LINK_HELP);
    return 0;
  }
  const [relayUrl, ...alsoRelayUrls] = (flags.relay as string[] | undefined) ?? [];
  if (!relayUrl) throw new UsageError(`--relay: the relay URL is required, e.g. --relay wss://relay.example${TUNNEL_PATH}`);
  const token = (flags.token as string | undefined) ?? tokensFrom(undefined)[0];
  if (!token) throw new UsageError('--token: a tunnel token is required (or set SOCKBRIDGE_TOKEN)');
  const link = encodeShareLink({
    relayUrl,
    alsoRelayUrls,
    token,
    fingerprint: (flags.fingerprint as string | undefined) ?? null,
    host: (flags.host as string | undefined) ?? null,
    sni: (flags.sni as string | undefined) ?? null,
    label: (flags.name as string | undefined) ?? null,
  });
  process.stdout.write(`${link}\n`);
  return 0;
}
