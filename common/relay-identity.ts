/**
 * How a client names and pins its relay, checked alike wherever a user gives them: on the
 * client's command line (--host, --fingerprint) and inside a share link.
 */

/** A Host header value: a name or IPv4 (RFC 3986 reg-name characters) with an optional port, or a bracketed IPv6 literal with one. */
const HOST_HEADER_VALUE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=%]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
/** A SHA-256 fingerprint as stored: 64 lowercase hex digits. */
const FINGERPRINT = /^[0-9a-f]{64}$/;

export function isHostHeaderValue(value: string): boolean {
  return HOST_HEADER_VALUE.test(value);
}

/** `value` (hex, colons optional, any case) as 64 lowercase hex digits, or null when it is no SHA-256 fingerprint. */
export function normalizeFingerprint(value: string): string | null {
  const hex = value.trim().replace(/:/g, '').toLowerCase();
  return FINGERPRINT.test(hex) ? hex : null;
}
