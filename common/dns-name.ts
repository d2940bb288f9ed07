/** A DNS label (RFC 1035 §2.3.1; underscores allowed, as some CDN names have them). */
const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const MAX_DNS_NAME = 253;

/** A DNS host name, with or without the root's trailing dot. */
export function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return bare.length > 0 && bare.length <= MAX_DNS_NAME && bare.split('.').every((label) => DNS_LABEL.test(label));
}
