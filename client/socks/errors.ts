/**
 * The one error type the SOCKS parsers throw. It carries a stable code for logs and
 * tests, and the SOCKS5 reply the connection should answer with before closing.
 * SOCKS4 has a single failure reply (91, Socks4Reply.Rejected), so a SOCKS4
 * connection ignores `reply`.
 */
import { AddressErrorCode } from '../../protocol/error-codes.js';
import type { ReplyCode } from '../../protocol/frame.js';

export const SocksErrorCode = {
  /** VER/VN is not the version the message must carry. */
  Version: 'ERR_SOCKS_VERSION',
  /** A SOCKS5 greeting offering no methods (RFC 1928 §3). */
  NoMethods: 'ERR_NO_METHODS',
  /** A username/password request whose VER is not 0x01 (RFC 1929 §2). */
  UserPassVersion: 'ERR_USERPASS_VERSION',
  /** A reserved field that must be zero is not; requests accept non-zero RSV, see parsers.ts. */
  Reserved: 'ERR_RESERVED',
  /** ATYP is none of IPv4, domain, IPv6 (RFC 1928 §5). */
  AddressType: AddressErrorCode.AddressType,
  /** A zero-length domain name, in SOCKS5 or SOCKS4a. */
  EmptyDomain: AddressErrorCode.EmptyDomain,
  /** A SOCKS4 user id longer than MAX_SOCKS4_USERID_LENGTH. */
  UserIdTooLong: 'ERR_USERID_TOO_LONG',
  /** A SOCKS4a domain longer than MAX_SOCKS4_DOMAIN_LENGTH. */
  DomainTooLong: 'ERR_DOMAIN_TOO_LONG',
  /** A SOCKS4 DSTIP that names no destination (0.0.0.0). */
  Socks4Address: 'ERR_SOCKS4_ADDRESS',
} as const;
export type SocksErrorCode = (typeof SocksErrorCode)[keyof typeof SocksErrorCode];

export class SocksError extends Error {
  constructor(
    readonly code: SocksErrorCode,
    readonly reply: ReplyCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SocksError';
  }
}
