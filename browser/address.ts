/**
 * SOCKS5 addresses (RFC 1928 §5) over Uint8Array, as OPEN carries them and OPEN_RESULT
 * answers: an IP literal goes as ATYP 0x01 or 0x04, anything else as a name of 1 to 255
 * Latin-1 bytes (protocol/README.md, *Address layout*).
 */
import { AddressType, ProtocolError, type Address } from '../protocol/frame.js';
import { ProtocolErrorCode } from '../protocol/error-codes.js';

const IPV4_BYTES = 4;
const IPV6_BYTES = 16;
const IPV6_GROUPS = 8;
const PORT_BYTES = 2;
const MAX_NAME_BYTES = 255;
const MAX_LATIN1 = 0xff;
const IPV4_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/** The bytes of an IPv4 literal, or null. */
function parseIPv4(host: string): number[] | null {
  const match = IPV4_PATTERN.exec(host);
  if (!match) return null;
  const parts = match.slice(1).map(Number);
  return parts.every((part) => part <= MAX_LATIN1) ? parts : null;
}

/** The sixteen bytes of an IPv6 literal (brackets and a zone dropped), or null. */
function parseIPv6(host: string): number[] | null {
  const text = host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (!text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const tail = groups[groups.length - 1];
  const ipv4 = tail.length > 0 ? parseIPv4(tail[tail.length - 1]) : null;
  if (ipv4) tail.splice(-1, 1, ((ipv4[0] << 8) | ipv4[1]).toString(16), ((ipv4[2] << 8) | ipv4[3]).toString(16));
  const present = groups.reduce((sum, list) => sum + list.length, 0);
  if (halves.length === 1 ? present !== IPV6_GROUPS : present >= IPV6_GROUPS) return null;
  const filled = halves.length === 1 ? groups[0] : [...groups[0], ...Array<string>(IPV6_GROUPS - present).fill('0'), ...groups[1]];
  if (!filled.every((group) => HEX_GROUP.test(group))) return null;
  return filled.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & MAX_LATIN1];
  });
}

export function encodeAddress(address: Address): Uint8Array {
  const ipv4 = parseIPv4(address.host);
  const ipv6 = ipv4 ? null : parseIPv6(address.host);
  let head: number[];
  if (ipv4) head = [AddressType.IPv4, ...ipv4];
  else if (ipv6) head = [AddressType.IPv6, ...ipv6];
  else {
    const name = nameBytes(address.host);
    head = [AddressType.Domain, name.length, ...name];
  }
  const bytes = new Uint8Array(head.length + PORT_BYTES);
  bytes.set(head);
  new DataView(bytes.buffer).setUint16(head.length, address.port);
  return bytes;
}

function nameBytes(host: string): number[] {
  const codes = Array.from(host, (char) => char.charCodeAt(0));
  if (codes.length === 0 || codes.length > MAX_NAME_BYTES) throw new RangeError(`a host name must be 1 to ${MAX_NAME_BYTES} characters, not ${codes.length}`);
  if (codes.some((code) => code > MAX_LATIN1)) throw new RangeError(`host name ${JSON.stringify(host)} has characters beyond Latin-1: pass its punycode (xn--) form`);
  return codes;
}

/** Decodes the address at the start of `bytes`; `length` is how many bytes it took. */
export function decodeAddress(bytes: Uint8Array): { address: Address; length: number } {
  if (bytes.length < 1) throw truncated();
  let hostLength: number;
  let host: string;
  const atyp = bytes[0];
  if (atyp === AddressType.IPv4) {
    hostLength = 1 + IPV4_BYTES;
    host = Array.from(need(bytes, hostLength).subarray(1, hostLength)).join('.');
  } else if (atyp === AddressType.IPv6) {
    hostLength = 1 + IPV6_BYTES;
    host = formatIPv6(need(bytes, hostLength).subarray(1, hostLength));
  } else if (atyp === AddressType.Domain) {
    if (bytes.length < 2) throw truncated();
    if (bytes[1] === 0) throw new ProtocolError(ProtocolErrorCode.Address, 'a zero-length name');
    hostLength = 2 + bytes[1];
    host = String.fromCharCode(...need(bytes, hostLength).subarray(2, hostLength));
  } else {
    throw new ProtocolError(ProtocolErrorCode.Address, `ATYP 0x${atyp.toString(16)}`);
  }
  const length = hostLength + PORT_BYTES;
  const port = new DataView(need(bytes, length).buffer, bytes.byteOffset + hostLength, PORT_BYTES).getUint16(0);
  return { address: { host, port }, length };
}

function need(bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length < length) throw truncated();
  return bytes;
}

function truncated(): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.FrameLength, 'an address cut short');
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as "::". */
function formatIPv6(bytes: Uint8Array): string {
  const groups = Array.from({ length: IPV6_GROUPS }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < IPV6_GROUPS; start++) {
    let end = start;
    while (end < IPV6_GROUPS && groups[end] === 0) end++;
    if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
  }
  const text = groups.map((group) => group.toString(16));
  if (bestStart < 0) return text.join(':');
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLength).join(':')}`;
}
