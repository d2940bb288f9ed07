/**
 * `sockbridge hash-token`: the SHA-256 of a token, as a users file's `tokenSha256`. The token
 * is read from stdin, never from the command line, where `ps` and shell history would keep it.
 */
import { digestSecret } from '../common/secrets.js';
import { parseFlags, UsageError } from './args.js';

export const HASH_TOKEN_HELP = `Usage: printf %s "$TOKEN" | sockbridge hash-token

Prints the SHA-256 of the token read from stdin (one trailing newline is ignored), in hex,
for the "tokenSha256" field of a --users file. Same as: printf %s "$TOKEN" | sha256sum
`;

export async function hashTokenCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {});
  if (flags.help) {
    process.stdout.write(HASH_TOKEN_HELP);
    return 0;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // `echo "$TOKEN" |` adds a newline that is not part of the token.
  const token = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (token.length === 0) throw new UsageError('hash-token: no token on stdin (printf %s "$TOKEN" | sockbridge hash-token)');
  process.stdout.write(`${digestSecret(token).toString('hex')}\n`);
  return 0;
}
