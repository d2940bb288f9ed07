/** The header every SOCKS5 UDP datagram carries (RFC 1928 §7): RSV(2) FRAG ATYP DST.ADDR DST.PORT DATA. */
import { decodeAddress, encodeAddressInto, encodedAddressLength } from '../../protocol/address.js';
import type { Address } from '../../protocol/frame.js';

const RESERVED_LENGTH = 2;
const FRAG_OFFSET = 2;
const ADDRESS_OFFSET = 3;
/** FRAG 0x00: a whole datagram. We implement no reassembly, as RFC 1928 §7 allows. */
export const UDP_FRAG_NONE = 0x00;

export interface UdpDatagram {
  frag: number;
  address: Address;
  payload: Buffer;
}

/** Parses one datagram; null when it is too short or its address is malformed. */
export function parseUdpDatagram(buf: Buffer): UdpDatagram | null {
  if (buf.length < ADDRESS_OFFSET + 1) return null;
  try {
    const decoded = decodeAddress(buf, ADDRESS_OFFSET);
    if (decoded === null) return null;
    return { frag: buf[FRAG_OFFSET], address: decoded.address, payload: buf.subarray(decoded.end) };
  } catch {
    return null; // unknown ATYP or empty name: a datagram has no one to complain to
  }
}

export function encodeUdpDatagram(source: Address, payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(ADDRESS_OFFSET + encodedAddressLength(source) + payload.length);
  buf.fill(0, 0, RESERVED_LENGTH);
  buf[FRAG_OFFSET] = UDP_FRAG_NONE;
  const payloadStart = encodeAddressInto(source, buf, ADDRESS_OFFSET);
  payload.copy(buf, payloadStart);
  return buf;
}
