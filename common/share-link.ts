/**
 * The share link: one `sockbridge://` URI (RFC 3986) carrying everything a client needs,
 *   sockbridge://TOKEN@HOST[:PORT][/PATH][?tls=1&fp=HEX&host=NAME&sni=NAME&also=URL…][#LABEL]
 * Each `also=` adds a less preferred relay (a percent-encoded ws(s):// URL); a one-relay link has none.
 * Pure encode and decode; the README's "Share links" section is the format's definition.
 * The token is a secret, so no error message here ever quotes it (nor the whole link).
 */
import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';
import { TUNNEL_PATH } from '../protocol/frame.js';
import { isDnsName } from './dns-name.js';
import { MAX_PORT } from './port-range.js';
import { isHostHeaderValue, normalizeFingerprint } from './relay-identity.js';

export const SHARE_LINK_SCHEME = 'sockbridge';
const LINK_FLAG = '--link';

export interface ShareLink {
  /** ws:// or wss:// URL of the relay's tunnel endpoint: the preferred one. */
  relayUrl: string;
  /** More relays (`also=`), less preferred than relayUrl, in order; absent (when decoded) or empty for one relay. */
  alsoRelayUrls?: readonly string[];
  token: string;
  /** The relay certificate's SHA-256, 64 lowercase hex digits; null for none. */
  fingerprint: string | null;
  /** The upgrade request's Host header (client --host); null for the URL's host. */
  host: string | null;
  /** The TLS server name (client --sni); null for the URL's host. */
  sni: string | null;
  /** A name for people to tell links apart; null for none. */
  label: string | null;
}

/** The query's keys, each at most once but also=; anything else is refused, so a misspelt `fp` cannot silently mean "no pin". */
const enum Param {
  Tls = 'tls',
  Fingerprint = 'fp',
  Host = 'host',
  Sni = 'sni',
  /** The one key that may repeat: each is another relay, in preference order. */
  Also = 'also',
}
const PARAMS: readonly string[] = [Param.Tls, Param.Fingerprint, Param.Host, Param.Sni, Param.Also];
/** As many as a client's pool sensibly spreads over; a longer list is more likely a mistake. */
const MAX_RELAYS = 16;
const TLS_ON = '1';
const TLS_OFF = '0';
const MAX_LABEL = 200;

/** RFC 3986 appendix B, with the authority made mandatory: scheme, authority, path, query, fragment. */
const URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;
/** An also= value once decoded: a scheme, an authority, a path, nothing else. */
const ALSO_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)$/s;
/** RFC 3986 §2.3 unreserved, and §2.2 sub-delims. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const SUB_DELIMS = "!$&'()*+,;=";
/** Raw characters allowed in each part (§3.2.1 userinfo without ":", §3.3 path, §3.4 query, §3.5 fragment). */
const USERINFO_CHARS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const PATH_CHARS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
const QUERY_VALUE_CHARS = /^(?:[A-Za-z0-9\-._~!$'()*+,;:@/?]|%[0-9A-Fa-f]{2})*$/;
const FRAGMENT_CHARS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;
const CONTROL = /[\x00-\x1f\x7f]/;

const quote = (text: string): string => JSON.stringify(text);
const linkError = (message: string): ConfigError => new ConfigError(LINK_FLAG, message);

/** Percent-encodes (RFC 3986 §2.1, UTF-8) every character but the unreserved ones and `keep`. */
function percentEncode(text: string, keep = ''): string {
  let out = '';
  for (const char of text) {
    if (UNRESERVED.test(char) || keep.includes(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Undoes percent-encoding; the bytes must be UTF-8. `what` names the part for the error. */
function percentDecode(text: string, what: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%') {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i], 'utf8'));
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw linkError(`${what} is not UTF-8 once its %-escapes are decoded`);
  }
}

/** Why `label` cannot be a link's label, or null when it can. */
function labelProblem(label: string): string | null {
  if (label.length === 0) return 'is empty';
  if (CONTROL.test(label)) return 'holds a control character';
  if ([...label].length > MAX_LABEL) return `is longer than ${MAX_LABEL} characters`;
  return null;
}

/** One link from a client's settings. Errors name the flag of `sockbridge link` at fault. */
export function encodeShareLink(link: ShareLink): string {
  const relay = parseRelayUrl(link.relayUrl);
  const also = (link.alsoRelayUrls ?? []).map(parseRelayUrl);
  if (link.token.length === 0) throw new ConfigError('--token', 'a tunnel token is required');
  if (also.length + 1 > MAX_RELAYS) throw new ConfigError('--relay', `a link carries at most ${MAX_RELAYS} relays`);
  if (new Set([relay, ...also].map((url) => url.href)).size !== also.length + 1) throw new ConfigError('--relay', 'the same relay URL is given twice');
  const tls = relay.protocol === 'wss:';
  // fp= and sni= apply to every relay of the link, as the client's --fingerprint and --sni do.
  const allTls = tls && also.every((url) => url.protocol === 'wss:');
  const tlsOnly = also.length === 0 ? 'only applies to a wss:// relay' : 'only applies to wss:// relays, and applies to every --relay of the link';
  const params: string[] = [`${Param.Tls}=${tls ? TLS_ON : TLS_OFF}`];
  if (link.fingerprint !== null) {
    const fingerprint = normalizeFingerprint(link.fingerprint);
    if (fingerprint === null) throw new ConfigError('--fingerprint', `expected a SHA-256 fingerprint (64 hex digits, colons allowed), got ${quote(link.fingerprint)}`);
    if (!allTls) throw new ConfigError('--fingerprint', tlsOnly);
    params.push(`${Param.Fingerprint}=${fingerprint}`);
  }
  if (link.host !== null) {
    if (!isHostHeaderValue(link.host)) throw new ConfigError('--host', `expected a host name with an optional :PORT, got ${quote(link.host)}`);
    params.push(`${Param.Host}=${percentEncode(link.host, ':')}`);
  }
  if (link.sni !== null) {
    if (!allTls) throw new ConfigError('--sni', tlsOnly);
    if (isIP(link.sni) !== 0 || !isDnsName(link.sni)) throw new ConfigError('--sni', `${quote(link.sni)} is not a DNS host name`);
    params.push(`${Param.Sni}=${link.sni}`);
  }
  // The whole URL as one query value: ":" and "/" stay readable, anything else (a "%" too) is escaped.
  for (const url of also) params.push(`${Param.Also}=${percentEncode(`${url.protocol}//${url.host}${linkPath(url)}`, ':/')}`);
  let fragment = '';
  if (link.label !== null) {
    const problem = labelProblem(link.label);
    if (problem !== null) throw new ConfigError('--name', `the label ${problem}`);
    fragment = `#${percentEncode(link.label)}`;
  }
  return `${SHARE_LINK_SCHEME}://${percentEncode(link.token)}@${relay.host}${linkPath(relay)}?${params.join('&')}${fragment}`;
}

/** WHATWG's pathname leaves a few characters RFC 3986 does not allow raw ([, ], |, ^, a lone %). */
function linkPath(url: URL): string {
  return url.pathname.replace(/%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu, (char) => percentEncode(char));
}

/** The --relay URL as a link can carry it: ws:// or wss://, a host, nothing but a path after it. */
function parseRelayUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('--relay', `${quote(text)} is not a URL (expected wss://HOST[:PORT]${TUNNEL_PATH})`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new ConfigError('--relay', `must be a ws:// or wss:// URL, got ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new ConfigError('--relay', 'must not carry a user name or password: the token goes in --token');
  if (url.search !== '' || url.hash !== '') throw new ConfigError('--relay', 'must not carry a query or a fragment, which the relay never sees as part of its path');
  const problem = hostPortProblem(url.host);
  if (problem !== null) throw new ConfigError('--relay', problem);
  return url;
}

/** A link back into settings. Strict: every error names --link and the part at fault. */
export function decodeShareLink(text: string): ShareLink {
  const match = URI.exec(text.trim());
  if (match === null) throw linkError(`expected ${SHARE_LINK_SCHEME}://TOKEN@HOST[:PORT]/PATH?…`);
  const [, scheme, authority, rawPath, query, fragment] = match;
  // Schemes compare without case (RFC 3986 §3.1). The text is not echoed: it holds the token.
  if (scheme.toLowerCase() !== SHARE_LINK_SCHEME) throw linkError(`expected a ${SHARE_LINK_SCHEME}:// link, got a ${scheme.slice(0, 20)}: URI`);
  const { params, also } = decodeQuery(query ?? '');
  const tls = params.get(Param.Tls) !== TLS_OFF;
  const { token, hostPort } = decodeAuthority(authority);
  const path = decodePath(rawPath);
  const fingerprint = params.get(Param.Fingerprint) ?? null;
  const sni = params.get(Param.Sni) ?? null;
  if (!tls && fingerprint !== null) throw linkError('fp= pins a certificate, so it needs tls=1');
  if (!tls && sni !== null) throw linkError('sni= is a TLS server name, so it needs tls=1');
  const plain = also.findIndex((url) => url.startsWith('ws:'));
  if (plain >= 0 && fingerprint !== null) throw linkError(`fp= pins every relay's certificate, so also= #${plain + 1} must be a wss:// URL`);
  if (plain >= 0 && sni !== null) throw linkError(`sni= is every relay's TLS server name, so also= #${plain + 1} must be a wss:// URL`);
  const relayUrl = `${tls ? 'wss' : 'ws'}://${hostPort}${path}`;
  if (new URL(relayUrl).pathname !== path) throw linkError(`the path ${quote(path)} is not a plain URL path`);
  checkDistinct(relayUrl, also);
  const decoded: ShareLink = { relayUrl, token, fingerprint, host: params.get(Param.Host) ?? null, sni, label: fragment === undefined ? null : decodeLabel(fragment) };
  return also.length === 0 ? decoded : { ...decoded, alsoRelayUrls: also };
}

/** No relay twice (wss://h and wss://h:443 are one), and no more than a client's pool takes. */
function checkDistinct(relayUrl: string, also: readonly string[]): void {
  if (also.length + 1 > MAX_RELAYS) throw linkError(`a link carries at most ${MAX_RELAYS} relays, this one ${also.length + 1}`);
  const seen = [new URL(relayUrl).href];
  also.forEach((url, index) => {
    if (seen.includes(new URL(url).href)) throw linkError(`also= #${index + 1} names a relay the link already holds`);
    seen.push(new URL(url).href);
  });
}

/** One also= value, decoded: ws(s)://HOST[:PORT][/PATH], checked as the link's own relay is; the scheme made lowercase. */
function decodeAlso(value: string, index: number): string {
  const what = `also= #${index + 1}`;
  const match = ALSO_URL.exec(value);
  // The value is not echoed: a mistaken one might hold a token.
  if (match === null) throw linkError(`${what} must be a ws:// or wss:// URL with nothing after its path (percent-encode it whole)`);
  const [, scheme, hostPort, rawPath] = match;
  const lower = scheme.toLowerCase();
  if (lower !== 'ws' && lower !== 'wss') throw linkError(`${what} must be a ws:// or wss:// URL, got ${scheme.slice(0, 20)}:`);
  if (hostPort.includes('@')) throw linkError(`${what} must not carry a user name or token: the link's token applies to every relay`);
  const problem = hostPortProblem(hostPort);
  if (problem !== null) throw linkError(`${what}: ${problem.replace(' after the "@"', '')}`);
  const path = rawPath === '' ? TUNNEL_PATH : rawPath;
  const pathProblemText = pathProblem(path);
  if (pathProblemText !== null) throw linkError(`${what}: ${pathProblemText}`);
  const url = `${lower}://${hostPort}${path}`;
  if (new URL(url).pathname !== path) throw linkError(`${what}: the path ${quote(path)} is not a plain URL path`);
  return url;
}

/** TOKEN@HOST[:PORT]: the token percent-decoded, the host and port checked and kept as written. */
function decodeAuthority(authority: string): { token: string; hostPort: string } {
  const at = authority.split('@');
  if (at.length !== 2) throw linkError('expected the token, then one "@", then the host (an "@" in the token is written %40)');
  const [userinfo, hostPort] = at;
  if (userinfo.length === 0) throw linkError('the token before the "@" is empty');
  if (userinfo.includes(':')) throw linkError('the token holds a raw ":" (write it as %3A: a ":" there would read as user:password)');
  if (!USERINFO_CHARS.test(userinfo)) throw linkError('the token holds a character that must be percent-encoded, or a "%" not followed by two hex digits');
  const token = percentDecode(userinfo, 'the token');
  const problem = hostPortProblem(hostPort);
  if (problem !== null) throw linkError(problem);
  return { token, hostPort };
}

/** Why HOST[:PORT] cannot be a link's authority, or null when it can. */
function hostPortProblem(hostPort: string): string | null {
  const literal = /^\[([^\]]*)\](.*)$/.exec(hostPort);
  const colon = hostPort.lastIndexOf(':');
  const [host, portPart] = literal !== null ? [literal[1], literal[2]] : colon < 0 ? [hostPort, ''] : [hostPort.slice(0, colon), hostPort.slice(colon)];
  if (host.length === 0) return 'the host after the "@" is empty';
  if (literal !== null ? isIP(host) !== 6 : isIP(host) !== 4 && !isDnsName(host)) {
    return `the host ${quote(host)} is not a DNS name, an IPv4 address or an [IPv6] literal (write an international name in its xn-- form)`;
  }
  if (portPart === '') return null;
  const port = Number(portPart.slice(1));
  if (!/^:\d{1,5}$/.test(portPart) || port < 1 || port > MAX_PORT) return `the port ${quote(portPart.slice(1))} is not a number from 1 to ${MAX_PORT}`;
  return null;
}

/** The tunnel path, kept percent-encoded as the relay URL carries it; empty means the default. */
function decodePath(path: string): string {
  if (path === '') return TUNNEL_PATH;
  const problem = pathProblem(path);
  if (problem !== null) throw linkError(problem);
  return path;
}

/** Why `path` (non-empty) cannot be a tunnel path in a link, or null when it can. */
function pathProblem(path: string): string | null {
  if (!PATH_CHARS.test(path)) return `the path ${quote(path)} holds a character that must be percent-encoded, or a "%" not followed by two hex digits`;
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return `the path ${quote(path)} has a "." or ".." segment`;
  return null;
}

/** The query's parameters: each at most once, but also=, which lists the further relays in order. */
function decodeQuery(query: string): { params: Map<string, string>; also: string[] } {
  const params = new Map<string, string>();
  const also: string[] = [];
  if (query === '') return { params, also };
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const key = equals < 0 ? pair : pair.slice(0, equals);
    const raw = equals < 0 ? '' : pair.slice(equals + 1);
    if (!PARAMS.includes(key)) throw linkError(`unknown parameter ${quote(key.slice(0, 40))} (known: ${PARAMS.join(', ')})`);
    if (params.has(key)) throw linkError(`${key}= is given twice`);
    if (raw.length === 0) throw linkError(`${key}= has no value`);
    if (!QUERY_VALUE_CHARS.test(raw)) throw linkError(`the value of ${key}= holds a character that must be percent-encoded, or a "%" not followed by two hex digits`);
    const value = percentDecode(raw, `the value of ${key}=`);
    if (key === Param.Also) also.push(decodeAlso(value, also.length));
    else params.set(key, checkParam(key, value));
  }
  return { params, also };
}

/** One parameter's decoded value, checked (and a fingerprint normalized). */
function checkParam(key: string, value: string): string {
  switch (key) {
    case Param.Tls:
      if (value !== TLS_ON && value !== TLS_OFF) throw linkError(`tls= must be 1 (wss://) or 0 (ws://), got ${quote(value)}`);
      return value;
    case Param.Fingerprint: {
      const fingerprint = normalizeFingerprint(value);
      if (fingerprint === null) throw linkError(`fp= must be a SHA-256 fingerprint (64 hex digits, colons allowed), got ${quote(value)}`);
      return fingerprint;
    }
    case Param.Host:
      if (!isHostHeaderValue(value)) throw linkError(`host= must be a host name with an optional :PORT, got ${quote(value)}`);
      return value;
    default:
      if (isIP(value) !== 0 || !isDnsName(value)) throw linkError(`sni= must be a DNS host name, got ${quote(value)}`);
      return value;
  }
}

function decodeLabel(fragment: string): string | null {
  if (fragment === '') return null;
  if (!FRAGMENT_CHARS.test(fragment)) throw linkError('the label after "#" holds a character that must be percent-encoded, or a "%" not followed by two hex digits');
  const label = percentDecode(fragment, 'the label after "#"');
  const problem = labelProblem(label);
  if (problem !== null) throw linkError(`the label after "#" ${problem}`);
  return label;
}
