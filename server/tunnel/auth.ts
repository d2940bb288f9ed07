/**
 * Who may open a tunnel: the token comes as `Authorization: Bearer TOKEN`, or, for
 * browsers that cannot set headers, as a `sockbridge.token.<base64url>` subprotocol entry.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WS_TOKEN_SUBPROTOCOL_PREFIX } from '../../protocol/frame.js';
import { digestSecret } from '../../common/secrets.js';

const BEARER_PREFIX = 'bearer ';

export class TokenChecker {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digestSecret);
  }

  /** True when `presented` is one of the tokens; every token is compared, matched or not. */
  accepts(presented: string | null): boolean {
    if (presented === null) return false;
    const candidate = digestSecret(presented);
    let matched = false;
    for (const known of this.digests) matched = timingSafeEqual(candidate, known) || matched;
    return matched;
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
