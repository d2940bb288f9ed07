/**
 * Admin authentication for the status page, its API, its events and /metrics. The admin
 * token (separate from tunnel tokens) is accepted as `Authorization: Bearer TOKEN` for
 * scripts and Prometheus, and as HTTP Basic with any user name and the token as password,
 * so a browser prompts for it (RFC 7617). Without an admin token these routes do not exist.
 */
import type { MiddlewareHandler } from 'hono';
import { parseBasicAuth } from '../../common/basic-auth.js';
import { secretsEqual } from '../../common/secrets.js';

export interface AdminAuthOptions {
  /** The admin token; null turns the protected routes off (404). */
  token: string | null;
  /** Shown by the browser's login prompt; by default a neutral word that names no product. */
  realm?: string;
}

/** Neutral, as any password-protected page's: a prober learns nothing from the prompt. */
const DEFAULT_REALM = 'restricted';

const BEARER = /^Bearer +(\S+) *$/i;

export function adminAuth(options: AdminAuthOptions): MiddlewareHandler {
  const { token, realm = DEFAULT_REALM } = options;
  const challenge = `Basic realm="${realm}", charset="UTF-8"`;
  return async function adminAuth(c, next) {
    if (token === null) return c.text('not found', 404);
    const presented = presentedAdminToken(c.req.header('authorization'));
    // Always compare (against a dummy when nothing usable came) so timing says nothing.
    const ok = secretsEqual(presented ?? '', token) && presented !== null;
    if (!ok) {
      return c.text('unauthorized', 401, {
        'WWW-Authenticate': challenge,
        'Cache-Control': 'no-store',
      });
    }
    await next();
  };
}

/** The token in a Bearer header, or the password of a Basic header; null when neither is there. */
export function presentedAdminToken(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = BEARER.exec(header);
  if (bearer) return bearer[1];
  return parseBasicAuth(header)?.password ?? null;
}
