/**
 * SOCKS wire values, named as in the specifications: SOCKS4 and its 4a extension
 * (Ying-Da Lee's protocol notes), SOCKS5 (RFC 1928) and its username/password
 * sub-negotiation (RFC 1929). Command and ReplyCode are shared with the tunnel's
 * OPEN / OPEN_RESULT frames, so they live in protocol/frame.ts and are only re-exported.
 */
export { Command, ReplyCode } from '../../protocol/frame.js';

/** VN of a SOCKS4/4a request. */
export const SOCKS_VERSION_4 = 0x04;
/** VER of every SOCKS5 message (RFC 1928 §3, §4, §6). */
export const SOCKS_VERSION_5 = 0x05;
/** VN of a SOCKS4 reply: "the version of the reply code and should be 0" (SOCKS4 note). */
export const SOCKS4_REPLY_VERSION = 0x00;
/** RSV of SOCKS5 requests and replies (RFC 1928 §4, §6). */
export const SOCKS5_RESERVED = 0x00;

/** METHOD values of the SOCKS5 method negotiation (RFC 1928 §3). */
export const AuthMethod = {
  NoAuth: 0x00,
  GssApi: 0x01,
  UsernamePassword: 0x02,
  /** Sent when none of the offered methods is acceptable; the client must then close. */
  NoAcceptable: 0xff,
} as const;
export type AuthMethod = (typeof AuthMethod)[keyof typeof AuthMethod];

/** VER of the username/password sub-negotiation (RFC 1929 §2), not the SOCKS version. */
export const USERPASS_VERSION = 0x01;

/** STATUS of the username/password reply (RFC 1929 §2): zero is success, anything else failure. */
export const UserPassStatus = {
  Success: 0x00,
  Failure: 0x01,
} as const;
export type UserPassStatus = (typeof UserPassStatus)[keyof typeof UserPassStatus];

/**
 * Where the fields of a SOCKS4 request and reply sit: both begin VN CD DSTPORT(2) DSTIP(4)
 * (SOCKS4 note); a request goes on with USERID NUL, a reply ends there.
 */
export const SOCKS4_VN_OFFSET = 0;
export const SOCKS4_CD_OFFSET = 1;
export const SOCKS4_DSTPORT_OFFSET = 2;
export const SOCKS4_DSTIP_OFFSET = 4;
export const SOCKS4_DSTIP_LENGTH = 4;
/** The whole of a reply, and a request up to its USERID. */
export const SOCKS4_HEADER_LENGTH = 8;

/** VER CMD RSV (a request) or VER REP RSV (a reply) come before ATYP (RFC 1928 §4, §6). */
export const SOCKS5_ADDRESS_OFFSET = 3;

/** CD of a SOCKS4 reply (90..93 in the SOCKS4 note). */
export const Socks4Reply = {
  Granted: 0x5a,
  /** "Rejected or failed": every SOCKS4 failure is answered with this. */
  Rejected: 0x5b,
  NoIdentd: 0x5c,
  IdentdMismatch: 0x5d,
} as const;
export type Socks4Reply = (typeof Socks4Reply)[keyof typeof Socks4Reply];

/**
 * SOCKS4 fields end with a NUL rather than a length byte, so a client could stream
 * bytes forever; these bounds let the parser give up. 255 matches SOCKS5's one-byte
 * lengths, so a 4a domain always fits an OPEN frame.
 */
export const MAX_SOCKS4_USERID_LENGTH = 255;
export const MAX_SOCKS4_DOMAIN_LENGTH = 255;
