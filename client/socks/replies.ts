/**
 * Encoders for the messages we send back to a SOCKS client. Each returns a fresh
 * Buffer ready for socket.write.
 */
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Address, ReplyCode } from '../../protocol/frame.js';
import { encodeAddressInto, encodedAddressLength } from '../../protocol/address.js';
import {
  SOCKS4_CD_OFFSET,
  SOCKS4_DSTIP_OFFSET,
  SOCKS4_DSTPORT_OFFSET,
  SOCKS4_HEADER_LENGTH,
  SOCKS4_REPLY_VERSION,
  SOCKS4_VN_OFFSET,
  SOCKS5_ADDRESS_OFFSET,
  SOCKS5_RESERVED,
  SOCKS_VERSION_5,
  USERPASS_VERSION,
  type AuthMethod,
  type Socks4Reply,
  type UserPassStatus,
} from './constants.js';

/** RFC 1928 §3: VER METHOD. */
export function encodeMethodSelection(method: AuthMethod): Buffer {
  return Buffer.from([SOCKS_VERSION_5, method]);
}

/** RFC 1929 §2: VER STATUS, where VER is the sub-negotiation's version (0x01). */
export function encodeUserPassStatus(status: UserPassStatus): Buffer {
  return Buffer.from([USERPASS_VERSION, status]);
}

/**
 * RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT. A failure still needs an address
 * field; callers pass UNSPECIFIED_ADDRESS.
 */
export function encodeSocks5Reply(reply: ReplyCode, bound: Address): Buffer {
  const buf = Buffer.allocUnsafe(SOCKS5_ADDRESS_OFFSET + encodedAddressLength(bound));
  buf[0] = SOCKS_VERSION_5;
  buf[1] = reply;
  buf[2] = SOCKS5_RESERVED;
  encodeAddressInto(bound, buf, SOCKS5_ADDRESS_OFFSET);
  return buf;
}

/**
 * SOCKS4 reply: VN(0x00) CD DSTPORT DSTIP. Only BIND's replies give the fields a
 * meaning; SOCKS4 can only say IPv4, so any other bound address is sent as zeros
 * (port too: 0.0.0.0 with a port would tell a BIND client "the proxy's own IP").
 */
export function encodeSocks4Reply(code: Socks4Reply, bound?: Address): Buffer {
  const buf = Buffer.alloc(SOCKS4_HEADER_LENGTH);
  buf[SOCKS4_VN_OFFSET] = SOCKS4_REPLY_VERSION;
  buf[SOCKS4_CD_OFFSET] = code;
  const ip = bound === undefined ? null : ipv4Bytes(bound.host);
  if (bound !== undefined && ip !== null) {
    buf.writeUInt16BE(bound.port, SOCKS4_DSTPORT_OFFSET);
    buf.set(ip, SOCKS4_DSTIP_OFFSET);
  }
  return buf;
}

/** The 4 bytes of an IPv4 host, also when written IPv4-mapped (::ffff:a.b.c.d); else null. */
function ipv4Bytes(host: string): number[] | null {
  if (isIPv4(host)) return ipaddr.IPv4.parse(host).toByteArray();
  if (!isIPv6(host) || host.includes('%')) return null;
  const v6 = ipaddr.IPv6.parse(host);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toByteArray() : null;
}
