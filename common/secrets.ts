/** Constant-time comparison of secrets (tokens, passwords). */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Hashing first gives equal-length inputs, so the comparison's time says nothing about length or content. */
export function digestSecret(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function secretsEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digestSecret(presented), digestSecret(expected));
}
