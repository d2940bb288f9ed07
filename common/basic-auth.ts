/**
 * The HTTP Basic scheme's credentials (RFC 7617 §2): `Basic` then base64 of `user:password`,
 * the password being everything after the first colon. Shared by the client's proxy port
 * (Proxy-Authorization) and the relay's admin routes (Authorization).
 */
import type { Credentials } from './secrets.js';

/** The scheme name is case-insensitive (RFC 9110 §11.1); token68 here is base64 with its padding. */
const BASIC = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

/** The user and password in a Basic header value, or null when it is absent or not Basic. */
export function parseBasicAuth(header: string | undefined): Credentials | null {
  const basic = header === undefined ? null : BASIC.exec(header);
  if (basic === null) return null;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
