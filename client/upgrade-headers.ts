/**
 * What the client adds to its WebSocket upgrade request for a CDN or a reverse proxy in front
 * of the relay: --host (the Host header), --sni (the TLS server name) and --header 'Name: value'.
 * Pure checks; the values are used by relay-transport.ts.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../common/config-error.js';
import { isDnsName } from '../common/dns-name.js';
import { isHostHeaderValue } from '../common/relay-identity.js';

/** A field name is a token (RFC 9110 §5.1, §5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value: visible characters, spaces, tabs and obs-text, no CR, LF or NUL (RFC 9110 §5.5). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** A URI authority's host and optional port (RFC 3986 §3.2.2): a reg-name or IPv4, or an IP literal. */

/** A value echoed in an error, quoted and escaped: a CR or LF in it must not break the one-line message. */
const quote = (text: string): string => JSON.stringify(text);

/** Headers sockbridge sets itself, or that would break the upgrade, and why --header may not. */
const RESERVED_HEADERS: ReadonlyMap<string, string> = new Map([
  ['host', 'set it with --host'],
  ['authorization', 'sockbridge sends the token in it'],
  ['upgrade', 'part of the WebSocket handshake sockbridge sends'],
  ['connection', 'part of the WebSocket handshake sockbridge sends'],
  ['content-length', 'an upgrade request has no body'],
  ['transfer-encoding', 'an upgrade request has no body'],
]);
/** Sec-WebSocket-Key, -Version, -Protocol, -Extensions…: all the handshake's (RFC 6455 §4.1). */
const RESERVED_PREFIX = 'sec-websocket-';

/** Why `name` may not be set with --header, or null when it may. */
function reservedReason(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower.startsWith(RESERVED_PREFIX)) return 'part of the WebSocket handshake sockbridge sends';
  return RESERVED_HEADERS.get(lower) ?? null;
}

/** One --header value, 'Name: value', split and checked; the value is trimmed of spaces and tabs. */
export function parseHeaderFlag(flagValue: string): { name: string; value: string } {
  const colon = flagValue.indexOf(':');
  if (colon < 0) throw new ConfigError('--header', `expected 'Name: value', got ${quote(flagValue)}`);
  const name = flagValue.slice(0, colon);
  const value = flagValue.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  checkHeader(name, value);
  return { name, value };
}

/** The --header values in order, as one headers object; a name given twice (in any case) is refused. */
export function parseHeaderFlags(flagValues: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const flagValue of flagValues) {
    const { name, value } = parseHeaderFlag(flagValue);
    if (Object.keys(headers).some((seen) => seen.toLowerCase() === name.toLowerCase())) {
      throw new ConfigError('--header', `${quote(name)} is given twice`);
    }
    headers[name] = value;
  }
  return headers;
}

/** Checks headers given as an object (startClient's `headers`), as the CLI's are checked. */
export function checkHeaders(headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) checkHeader(name, value);
}

function checkHeader(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new ConfigError('--header', `${quote(name)} is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only)`);
  const reason = reservedReason(name);
  if (reason !== null) throw new ConfigError('--header', `${quote(name)} cannot be set with --header: ${reason}`);
  if (!FIELD_VALUE.test(value)) throw new ConfigError('--header', `the value of ${quote(name)} holds a control character (CR, LF, NUL…)`);
}

/** --host: a host name or IP, with an optional port, as a Host header carries it. */
export function checkHostFlag(host: string): void {
  if (!isHostHeaderValue(host)) throw new ConfigError('--host', `expected a host name with an optional :PORT (as a Host header carries it), got ${quote(host)}`);
}

/** --sni: a DNS name. SNI cannot carry an IP address (RFC 6066 §3). */
export function checkSniFlag(sni: string): void {
  const name = sni.endsWith('.') ? sni.slice(0, -1) : sni;
  if (isIP(name.replace(/^\[|\]$/g, '')) !== 0) throw new ConfigError('--sni', `${quote(sni)} is an IP address, which SNI cannot carry (RFC 6066 §3): give a host name, or leave --sni out`);
  if (!isDnsName(sni)) {
    throw new ConfigError('--sni', `${quote(sni)} is not a DNS host name`);
  }
}
