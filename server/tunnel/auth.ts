/**
 * Who may open a tunnel: the token comes as `Authorization: Bearer TOKEN`, or, for
 * browsers that cannot set headers, as a `sockbridge.token.<base64url>` subprotocol entry.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WS_TOKEN_SUBPROTOCOL_PREFIX } from '../../protocol/frame.js';
import { digestSecret } from '../../common/secrets.js';
import { cliTokenName } from './token-names.js';

const BEARER_PREFIX = 'bearer ';

export class TokenChecker {
  private readonly entries: Array<{ name: string; digest: Buffer }>;

  /**
   * Tokens given on the command line are named by position (cliTokenName). A users file gives
   * names and SHA-256 digests (`digestSecret` is SHA-256), checked after the tokens.
   */
  constructor(tokens: readonly string[], named: ReadonlyArray<{ name: string; digest: Buffer }> = []) {
    this.entries = [...tokens.map((token, index) => ({ name: cliTokenName(index), digest: digestSecret(token) })), ...named];
  }

  /** The name of the token `presented` matches, or null; every token is compared, matched or not. */
  match(presented: string | null): string | null {
    if (presented === null) return null;
    const candidate = digestSecret(presented);
    let matched: string | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(candidate, entry.digest) && matched === null) matched = entry.name;
    }
    return matched;
  }

  /** True when `presented` is one of the tokens. */
  accepts(presented: string | null): boolean {
    return this.match(presented) !== null;
  }
}

/** The token a tunnel request presents, or null. */
export function presentedToken(req: IncomingMessage): string | null {
  const authorization = req.headers.authorization;
  if (authorization?.toLowerCase().startsWith(BEARER_PREFIX)) return authorization.slice(BEARER_PREFIX.length).trim();
  const protocols = req.headers['sec-websocket-protocol'];
  if (!protocols) return null;
  for (const entry of protocols.split(',')) {
    const value = entry.trim();
    if (value.startsWith(WS_TOKEN_SUBPROTOCOL_PREFIX)) {
      return Buffer.from(value.slice(WS_TOKEN_SUBPROTOCOL_PREFIX.length), 'base64url').toString('utf8');
    }
  }
  return null;
}

/** The subprotocol entry a browser-like client sends to carry its token. */
export function tokenSubprotocol(token: string): string {
  return WS_TOKEN_SUBPROTOCOL_PREFIX + Buffer.from(token, 'utf8').toString('base64url');
}
