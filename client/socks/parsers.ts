/**
 * Incremental parsers for the messages a SOCKS client sends us. Each is a pure
 * function over everything received so far: it returns null while more bytes are
 * needed, `{ value, consumed }` once the message is complete (bytes past `consumed`
 * belong to the next message), or throws SocksError as soon as the bytes seen so far
 * are already wrong. The connection re-runs a parser on its accumulated buffer.
 */
import { ReplyCode, type Address } from '../../protocol/frame.js';
import { decodeAddress, EmptyDomainError, UnknownAddressTypeError } from '../../protocol/address.js';
import {
  MAX_SOCKS4_DOMAIN_LENGTH,
  MAX_SOCKS4_USERID_LENGTH,
  SOCKS4_CD_OFFSET,
  SOCKS4_DSTIP_LENGTH,
  SOCKS4_DSTIP_OFFSET,
  SOCKS4_DSTPORT_OFFSET,
  SOCKS4_HEADER_LENGTH,
  SOCKS5_ADDRESS_OFFSET,
  SOCKS_VERSION_4,
  SOCKS_VERSION_5,
  USERPASS_VERSION,
} from './constants.js';
import { SocksError, SocksErrorCode } from './errors.js';
import { hexByte } from '../../common/hex-byte.js';

export type ParseResult<T> = { value: T; consumed: number } | null;

export interface Greeting {
  methods: number[];
}

export interface UserPassRequest {
  username: string;
  password: string;
}

export interface Socks5Request {
  /** Raw CMD: an unknown one is answered 0x07 by the connection, not rejected here. */
  command: number;
  address: Address;
}

export interface Socks4Request {
  /** Raw CD (1 CONNECT, 2 BIND, the same values as Command). */
  command: number;
  /** Dotted IPv4, or the domain of a SOCKS4a request. */
  address: Address;
  userId: string;
}

/** Marks the end of SOCKS4's USERID and SOCKS4a's domain. */
const NUL = 0x00;
/** VER NMETHODS (RFC 1928 §3). */
const GREETING_HEADER_LENGTH = 2;

/** RFC 1928 §3: VER NMETHODS METHODS. */
export function parseGreeting(buf: Buffer): ParseResult<Greeting> {
  if (!checkVersion(buf, SOCKS_VERSION_5, SocksErrorCode.Version)) return null;
  if (buf.length < GREETING_HEADER_LENGTH) return null;
  const count = buf[1];
  // A client offering nothing can never be served; RFC 1928 allows 1..255 methods.
  if (count === 0) fail(SocksErrorCode.NoMethods, ReplyCode.GeneralFailure, 'greeting offers no methods');
  const end = GREETING_HEADER_LENGTH + count;
  if (buf.length < end) return null;
  return { value: { methods: [...buf.subarray(GREETING_HEADER_LENGTH, end)] }, consumed: end };
}

/**
 * RFC 1929 §2: VER ULEN UNAME PLEN PASSWD. Zero lengths are accepted: the RFC says
 * 1..255, but an empty name simply fails the credential check with a proper reply.
 */
export function parseUserPassRequest(buf: Buffer): ParseResult<UserPassRequest> {
  if (!checkVersion(buf, USERPASS_VERSION, SocksErrorCode.UserPassVersion)) return null;
  const username = readLengthPrefixed(buf, 1);
  if (username === null) return null;
  const password = readLengthPrefixed(buf, username.end);
  if (password === null) return null;
  return { value: { username: username.text, password: password.text }, consumed: password.end };
}

/**
 * RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT. RSV "must be 0x00", but a non-zero
 * RSV harms nothing and Dante accepts it, so we do too rather than drop the client.
 */
export function parseSocks5Request(buf: Buffer): ParseResult<Socks5Request> {
  if (!checkVersion(buf, SOCKS_VERSION_5, SocksErrorCode.Version)) return null;
  if (buf.length < SOCKS5_ADDRESS_OFFSET) return null;
  const decoded = decodeSocks5Address(buf, SOCKS5_ADDRESS_OFFSET);
  if (decoded === null) return null;
  return { value: { command: buf[1], address: decoded.address }, consumed: decoded.end };
}

/**
 * SOCKS4: VN CD DSTPORT DSTIP USERID NUL. SOCKS4a: DSTIP 0.0.0.x with x != 0, and the
 * destination's name follows as DOMAIN NUL, so the proxy resolves it.
 */
export function parseSocks4Request(buf: Buffer): ParseResult<Socks4Request> {
  if (!checkVersion(buf, SOCKS_VERSION_4, SocksErrorCode.Version)) return null;
  if (buf.length < SOCKS4_HEADER_LENGTH) return null;
  const ip = buf.subarray(SOCKS4_DSTIP_OFFSET, SOCKS4_DSTIP_OFFSET + SOCKS4_DSTIP_LENGTH);
  if (ip.every((byte) => byte === 0)) {
    // 0.0.0.0 is neither a destination nor the 4a marker (which needs x != 0).
    fail(SocksErrorCode.Socks4Address, ReplyCode.GeneralFailure, 'SOCKS4 destination 0.0.0.0');
  }
  const userId = readNulTerminated(buf, SOCKS4_HEADER_LENGTH, USERID_FIELD);
  if (userId === null) return null;
  const port = buf.readUInt16BE(SOCKS4_DSTPORT_OFFSET);
  const value = { command: buf[SOCKS4_CD_OFFSET], address: { host: ip.join('.'), port }, userId: userId.text };
  if (!isSocks4aMarker(ip)) return { value, consumed: userId.end };
  const domain = readNulTerminated(buf, userId.end, DOMAIN_FIELD);
  if (domain === null) return null;
  if (domain.text === '') fail(SocksErrorCode.EmptyDomain, ReplyCode.GeneralFailure, 'empty SOCKS4a domain');
  value.address.host = domain.text;
  return { value, consumed: domain.end };
}

/** False when the buffer is empty; throws at once on a wrong first byte. */
function checkVersion(buf: Buffer, expected: number, code: SocksErrorCode): boolean {
  if (buf.length === 0) return false;
  if (buf[0] !== expected) {
    fail(code, ReplyCode.GeneralFailure, `version ${hexByte(buf[0])}, expected ${hexByte(expected)}`);
  }
  return true;
}

/** decodeAddress with its errors turned into SocksErrors carrying the reply to send (RFC 1928 §6). */
function decodeSocks5Address(buf: Buffer, offset: number): ReturnType<typeof decodeAddress> {
  try {
    return decodeAddress(buf, offset);
  } catch (err) {
    if (err instanceof UnknownAddressTypeError) {
      throw new SocksError(SocksErrorCode.AddressType, ReplyCode.AddressTypeNotSupported, err.message, { cause: err });
    }
    if (err instanceof EmptyDomainError) {
      throw new SocksError(SocksErrorCode.EmptyDomain, ReplyCode.GeneralFailure, err.message, { cause: err });
    }
    throw err;
  }
}

interface Field {
  text: string;
  /** Offset just past the field (and its terminator, if any). */
  end: number;
}

/** A one-byte length then that many bytes (RFC 1929 §2), decoded as UTF-8. */
function readLengthPrefixed(buf: Buffer, offset: number): Field | null {
  if (buf.length <= offset) return null;
  const start = offset + 1;
  const end = start + buf[offset];
  if (buf.length < end) return null;
  return { text: buf.toString('utf8', start, end), end };
}

interface NulTerminatedSpec {
  name: string;
  max: number;
  tooLong: SocksErrorCode;
  encoding: BufferEncoding;
}

/** User ids are read as UTF-8, like RFC 1929 names. */
const USERID_FIELD: NulTerminatedSpec = {
  name: 'user id',
  max: MAX_SOCKS4_USERID_LENGTH,
  tooLong: SocksErrorCode.UserIdTooLong,
  encoding: 'utf8',
};

/** A 4a domain is read as latin1, as decodeAddress reads SOCKS5 domains: same bytes, same host. */
const DOMAIN_FIELD: NulTerminatedSpec = {
  name: 'SOCKS4a domain',
  max: MAX_SOCKS4_DOMAIN_LENGTH,
  tooLong: SocksErrorCode.DomainTooLong,
  encoding: 'latin1',
};

/**
 * A NUL-terminated field of at most `spec.max` bytes. Throws once more than that many
 * bytes have arrived without a NUL, so a client cannot make us buffer without end.
 */
function readNulTerminated(buf: Buffer, start: number, spec: NulTerminatedSpec): Field | null {
  const length = buf.subarray(start, start + spec.max + 1).indexOf(NUL);
  if (length === -1) {
    if (buf.length - start > spec.max) {
      fail(spec.tooLong, ReplyCode.GeneralFailure, `${spec.name} longer than ${spec.max} bytes`);
    }
    return null;
  }
  return { text: buf.toString(spec.encoding, start, start + length), end: start + length + 1 };
}

/** 0.0.0.x with x != 0 announces a SOCKS4a domain. */
function isSocks4aMarker(ip: Buffer): boolean {
  return ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0;
}

function fail(code: SocksErrorCode, reply: ReplyCode, message: string): never {
  throw new SocksError(code, reply, message);
}
