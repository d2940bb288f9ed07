/**
 * The bytes a SOCKS client sends, and the short fixed answers it expects back (RFC 1928,
 * RFC 1929, SOCKS4/4a). Written independently of the product's encoders and constants, so a
 * wrong value there fails a test instead of agreeing with it. Deliberately malformed input
 * stays written out byte by byte in the tests that send it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

// ---- SOCKS5 (RFC 1928) ----

export const SOCKS5_VERSION = 0x05;

/** Authentication methods (RFC 1928 §3). */
export const METHOD_NO_AUTH = 0x00;
export const METHOD_USER_PASS = 0x02;
export const METHOD_NO_ACCEPTABLE = 0xff;

/** Commands (RFC 1928 §4). */
export const CMD_CONNECT = 0x01;
export const CMD_BIND = 0x02;
export const CMD_UDP_ASSOCIATE = 0x03;

/** Address types (RFC 1928 §5). */
export const ATYP_IPV4 = 0x01;
export const ATYP_DOMAIN = 0x03;
export const ATYP_IPV6 = 0x04;

const RSV = 0x00;

/** VER NMETHODS METHODS */
export function greeting(...methods: number[]): Buffer {
  return Buffer.from([SOCKS5_VERSION, methods.length, ...methods]);
}

/** VER METHOD: the server's choice of method. */
export function methodSelection(method: number): Buffer {
  return Buffer.from([SOCKS5_VERSION, method]);
}

export interface AddressForm {
  /** Send the host as a domain name (ATYP 0x03) even when it is an IP literal. */
  asName?: boolean;
}

/** ATYP ADDR PORT, the ATYP chosen from the host's form (an IP literal gets its own unless `asName`). */
export function socks5Address(host: string, port: number, { asName = false }: AddressForm = {}): Buffer {
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  if (!asName && (isIPv4(host) || isIPv6(host))) {
    const bytes = ipaddr.parse(host).toByteArray();
    return Buffer.concat([Buffer.from([isIPv4(host) ? ATYP_IPV4 : ATYP_IPV6, ...bytes]), portBytes]);
  }
  const name = Buffer.from(host, 'latin1');
  return Buffer.concat([Buffer.from([ATYP_DOMAIN, name.length]), name, portBytes]);
}

/** VER CMD RSV ATYP DST.ADDR DST.PORT, for CONNECT, BIND or UDP ASSOCIATE. */
export function socks5Request(command: number, host: string, port: number, form: AddressForm = {}): Buffer {
  return Buffer.concat([Buffer.from([SOCKS5_VERSION, command, RSV]), socks5Address(host, port, form)]);
}

/** VER REP RSV ATYP BND.ADDR BND.PORT; by default the 0.0.0.0:0 a failure reply carries. */
export function socks5Reply(reply: number, host = '0.0.0.0', port = 0): Buffer {
  return Buffer.concat([Buffer.from([SOCKS5_VERSION, reply, RSV]), socks5Address(host, port)]);
}

// ---- Username/password authentication (RFC 1929) ----

export const AUTH_VERSION = 0x01;
export const AUTH_SUCCESS = 0x00;
/** Any non-zero status is a failure (RFC 1929 §2); this is the one the listener sends. */
export const AUTH_FAILURE = 0x01;

/** VER ULEN UNAME PLEN PASSWD */
export function userPass(username: string, password: string): Buffer {
  const user = Buffer.from(username, 'utf8');
  const pass = Buffer.from(password, 'utf8');
  return Buffer.concat([Buffer.from([AUTH_VERSION, user.length]), user, Buffer.from([pass.length]), pass]);
}

/** VER STATUS: the server's answer to userPass. */
export function authStatus(status: number): Buffer {
  return Buffer.from([AUTH_VERSION, status]);
}

// ---- SOCKS4 / 4a ----

export const SOCKS4_VERSION = 0x04;
export const SOCKS4_GRANTED = 90;
export const SOCKS4_REJECTED = 91;
/** DSTIP 0.0.0.x (x ≠ 0) says a domain name follows the user id (SOCKS4a). */
const SOCKS4A_MARKER_IP = [0, 0, 0, 1];

/** VN CD DSTPORT DSTIP USERID NUL [DOMAIN NUL]; a domain makes it SOCKS4a. */
export function socks4Request(command: number, host: string, port: number, userId = ''): Buffer {
  const head = Buffer.alloc(8);
  head[0] = SOCKS4_VERSION;
  head[1] = command;
  head.writeUInt16BE(port, 2);
  const isDomain = !isIPv4(host);
  Buffer.from(isDomain ? SOCKS4A_MARKER_IP : ipaddr.parse(host).toByteArray()).copy(head, 4);
  const parts = [head, Buffer.from(userId, 'utf8'), Buffer.of(0)];
  if (isDomain) parts.push(Buffer.from(host, 'latin1'), Buffer.of(0));
  return Buffer.concat(parts);
}
