/**
 * The SOCKS5 address layout (RFC 1928 §5): ATYP, then 4 bytes (IPv4), a length byte and
 * a name (domain) or 16 bytes (IPv6), then a 2-byte port. OPEN and OPEN_RESULT frames
 * and SOCKS5 requests and replies all use it, so one codec serves them all.
 */
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AddressErrorCode } from './error-codes.js';
import { AddressType, type Address } from './frame.js';

const IPV4_LENGTH = 4;
const IPV6_LENGTH = 16;
const PORT_LENGTH = 2;
export const MAX_DOMAIN_LENGTH = 255;

/** 0.0.0.0:0, the address a reply carries when it has none to give (a failure, a bind not yet answered). */
export const UNSPECIFIED_ADDRESS: Readonly<Address> = Object.freeze({ host: '0.0.0.0', port: 0 });

/** Thrown when ATYP is none of IPv4, domain, IPv6 (SOCKS5 reply 0x08). */
export class UnknownAddressTypeError extends Error {
  readonly code = AddressErrorCode.AddressType;
  constructor(readonly addressType: number) {
    super(`unknown address type 0x${addressType.toString(16).padStart(2, '0')}`);
  }
}

/** Thrown for a zero-length domain name, which names nothing. */
export class EmptyDomainError extends Error {
  readonly code = AddressErrorCode.EmptyDomain;
  constructor() {
    super('empty domain name');
  }
}

export interface DecodedAddress {
  address: Address;
  /** Offset just past the port. */
  end: number;
}

/** Reads an address at `offset`; null when `buf` ends before the address does. */
export function decodeAddress(buf: Buffer, offset: number): DecodedAddress | null {
  if (buf.length < offset + 1) return null;
  const addressType = buf[offset];
  let hostStart = offset + 1;
  let hostLength: number;
  switch (addressType) {
    case AddressType.IPv4:
      hostLength = IPV4_LENGTH;
      break;
    case AddressType.IPv6:
      hostLength = IPV6_LENGTH;
      break;
    case AddressType.Domain:
      if (buf.length < hostStart + 1) return null;
      hostLength = buf[hostStart];
      if (hostLength === 0) throw new EmptyDomainError();
      hostStart += 1;
      break;
    default:
      throw new UnknownAddressTypeError(addressType);
  }
  const portStart = hostStart + hostLength;
  const end = portStart + PORT_LENGTH;
  if (buf.length < end) return null;
  const hostBytes = buf.subarray(hostStart, portStart);
  const host =
    addressType === AddressType.Domain
      ? hostBytes.toString('latin1')
      : ipaddr.fromByteArray([...hostBytes]).toString();
  return { address: { host, port: buf.readUInt16BE(portStart) }, end };
}

/** The ATYP that `host` would be sent as. */
export function addressTypeOf(host: string): AddressType {
  if (isIPv4(host)) return AddressType.IPv4;
  if (isIPv6(host)) return AddressType.IPv6;
  return AddressType.Domain;
}

/** Bytes an address takes on the wire. */
export function encodedAddressLength(address: Address): number {
  switch (addressTypeOf(address.host)) {
    case AddressType.IPv4:
      return 1 + IPV4_LENGTH + PORT_LENGTH;
    case AddressType.IPv6:
      return 1 + IPV6_LENGTH + PORT_LENGTH;
    default:
      return 1 + 1 + Buffer.byteLength(address.host, 'latin1') + PORT_LENGTH;
  }
}

/** Writes `address` at `offset` and returns the offset past it. */
export function encodeAddressInto(address: Address, buf: Buffer, offset: number): number {
  const addressType = addressTypeOf(address.host);
  buf[offset++] = addressType;
  if (addressType === AddressType.Domain) {
    const length = Buffer.byteLength(address.host, 'latin1');
    if (length === 0 || length > MAX_DOMAIN_LENGTH) throw new RangeError(`domain name of ${length} bytes`);
    buf[offset++] = length;
    offset += buf.write(address.host, offset, 'latin1');
  } else {
    const bytes = ipaddr.parse(stripZone(address.host)).toByteArray();
    Buffer.from(bytes).copy(buf, offset);
    offset += bytes.length;
  }
  buf.writeUInt16BE(address.port, offset);
  return offset + PORT_LENGTH;
}

export function encodeAddress(address: Address): Buffer {
  const buf = Buffer.allocUnsafe(encodedAddressLength(address));
  encodeAddressInto(address, buf, 0);
  return buf;
}

/** An IPv6 zone (fe80::1%eth0) has no meaning on the far side of a tunnel. */
function stripZone(host: string): string {
  const percent = host.indexOf('%');
  return percent === -1 ? host : host.slice(0, percent);
}
