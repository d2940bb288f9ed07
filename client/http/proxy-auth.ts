/**
 * Proxy authentication for HTTP clients (RFC 9110 §11.7.2, Basic per RFC 7617): with
 * --socks-user, every HTTP request must carry the same user and password as SOCKS5 clients
 * send (RFC 1929), in Proxy-Authorization.
 */
import { parseBasicAuth } from '../../common/basic-auth.js';
import { credentialsEqual } from '../../common/secrets.js';
import type { SocksCredentials } from '../config.js';

/** True when no credentials are required, or the header carries the right ones. */
export function proxyAuthorized(header: string | undefined, expected: SocksCredentials | null): boolean {
  if (expected === null) return true;
  const presented = parseBasicAuth(header);
  return presented !== null && credentialsEqual(presented, expected);
}
