/**
 * Proxy authentication for HTTP clients (RFC 9110 §11.7.2, Basic per RFC 7617): with
 * --socks-user, every HTTP request must carry the same user and password as SOCKS5 clients
 * send (RFC 1929), in Proxy-Authorization.
 */
import { secretsEqual } from '../../common/secrets.js';
import type { SocksCredentials } from '../config.js';

const BASIC_PREFIX = /^basic[ \t]+/i;

/** The credentials in a `Basic` Proxy-Authorization value, or null when it is absent or not Basic. */
export function parseBasicCredentials(header: string | undefined): SocksCredentials | null {
  if (header === undefined || !BASIC_PREFIX.test(header)) return null;
  const encoded = header.replace(BASIC_PREFIX, '').trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** True when no credentials are required, or the header carries the right ones. */
export function proxyAuthorized(header: string | undefined, expected: SocksCredentials | null): boolean {
  if (expected === null) return true;
  const presented = parseBasicCredentials(header);
  if (presented === null) return false;
  // Both halves are always compared, so timing doesn't tell which one was wrong.
  const userMatches = secretsEqual(presented.username, expected.username);
  const passwordMatches = secretsEqual(presented.password, expected.password);
  return userMatches && passwordMatches;
}
