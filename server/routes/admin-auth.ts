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
}

/** Shown by the browser's login prompt. Neutral, as any password-protected page's: a prober learns nothing from it. */
const REALM = 'restricted';

const BEARER = /^Bearer +(\S+) *$/i;

export function adminAuth(options: AdminAuthOptions): MiddlewareHandler {
  const { token } = options;
  const challenge = `Basic realm="${REALM}", charset="UTF-8"`;
  return async function adminAuth(c, next) {
    if (token === null) return c.text('not found', 404);
    if (!carriesAdminToken(c.req.header('authorization'), token)) {
      return c.text('unauthorized', 401, {
        'WWW-Authenticate': challenge,
        'Cache-Control': 'no-store',
      });
    }
    await next();
  };
}

/** Whether an Authorization header presents `token` (never, when it is null). */
export function carriesAdminToken(header: string | undefined, token: string | null): boolean {
  if (token === null) return false;
  const presented = presentedAdminToken(header);
  // Always compare (against a dummy when nothing usable came) so timing says nothing.
  return secretsEqual(presented ?? '', token) && presented !== null;
}

/** The token in a Bearer header, or the password of a Basic header; null when neither is there. */
export function presentedAdminToken(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = BEARER.exec(header);
  if (bearer) return bearer[1];
  return parseBasicAuth(header)?.password ?? null;
}
