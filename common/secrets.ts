/** Constant-time comparison of secrets (tokens, passwords). */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Hashing first gives equal-length inputs, so the comparison's time says nothing about length or content. */
export function digestSecret(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function secretsEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digestSecret(presented), digestSecret(expected));
}

/** A user name and password: SOCKS5's (RFC 1929) and HTTP Basic's (RFC 7617). */
export interface Credentials {
  username: string;
  password: string;
}

/** Both halves are always compared, so timing doesn't tell which one was wrong. */
export function credentialsEqual(presented: Credentials, expected: Credentials): boolean {
  const userMatches = secretsEqual(presented.username, expected.username);
  const passwordMatches = secretsEqual(presented.password, expected.password);
  return userMatches && passwordMatches;
}
