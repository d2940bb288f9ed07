/**
 * IPv6 addresses that stand for an IPv4 address. A NAT64 gateway (common behind a cloud NAT
 * with DNS64), a stateless translator or a 6to4 relay on the relay's path delivers them to
 * the IPv4 address they carry, so the policy judges that address: 64:ff9b::a00:1 is 10.0.0.1.
 * Only forms with the IPv4 address at a fixed place are here. IPv4-mapped ::ffff:0:0/96 is not:
 * ipaddr.process() already turns it into IPv4 before anything else looks at it.
 */
import ipaddr from 'ipaddr.js';

const BITS_PER_BYTE = 8;
const IPV4_BYTES = 4;

export interface EmbeddingForm {
  /** How a refusal names the form: `NAT64 64:ff9b::/96`. */
  name: string;
  prefix: [ipaddr.IPv6, number];
  /** Where the 32 bits of the IPv4 address start, counted from the first bit of the address. */
  ipv4AtBit: number;
}

export const EMBEDDING_FORMS: readonly EmbeddingForm[] = [
  // RFC 6052 §2.1-2.2: the well-known prefix 64:ff9b::/96 puts the IPv4 address in the last
  // 32 bits. The local-use 64:ff9b:1::/48 (RFC 8215) may carry it at any prefix length the
  // network chose, so it is not here and the safe default refuses it whole.
  { name: 'NAT64 64:ff9b::/96', prefix: ipaddr.IPv6.parseCIDR('64:ff9b::/96'), ipv4AtBit: 96 },
  // RFC 2765 §2.1 (SIIT; ipaddr.js names the range after its successor, RFC 6145): an
  // IPv4-translated address is ::ffff:0:a.b.c.d, the IPv4 address in the last 32 bits.
  { name: 'IPv4-translated ::ffff:0:0:0/96', prefix: ipaddr.IPv6.parseCIDR('::ffff:0:0:0/96'), ipv4AtBit: 96 },
  // RFC 3056 §2: a 6to4 site prefix is 2002:V4ADDR::/48, the IPv4 address in bits 16-47.
  { name: '6to4 2002::/16', prefix: ipaddr.IPv6.parseCIDR('2002::/16'), ipv4AtBit: 16 },
];

export interface EmbeddedIPv4 {
  address: ipaddr.IPv4;
  form: EmbeddingForm;
}

/** The IPv4 address an IPv6 address carries in one of EMBEDDING_FORMS; null for any other address. */
export function embeddedIPv4(address: ipaddr.IPv4 | ipaddr.IPv6): EmbeddedIPv4 | null {
  if (address.kind() !== 'ipv6') return null;
  const form = EMBEDDING_FORMS.find((candidate) => address.match(candidate.prefix));
  if (form === undefined) return null;
  const start = form.ipv4AtBit / BITS_PER_BYTE;
  return { address: new ipaddr.IPv4(address.toByteArray().slice(start, start + IPV4_BYTES)), form };
}
