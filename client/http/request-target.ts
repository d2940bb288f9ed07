/**
 * The two request-target forms a proxy is sent (RFC 9112 §3.2): absolute-form for requests
 * it forwards (`GET http://host:port/path`) and authority-form for CONNECT (`host:port`).
 * Pure functions: null when the text is not of that form.
 */
import { HTTP_DEFAULT_PORT } from '../../common/host-port.js';
import { MAX_PORT } from '../../common/port-range.js';
import type { Address } from '../../protocol/frame.js';

export interface AbsoluteTarget {
  /** Where the request goes. */
  target: Address;
  /** The authority as the client wrote it, without userinfo: the forwarded Host header (RFC 9112 §3.2.2). */
  authority: string;
  /** The origin-form the origin server is sent: path and query exactly as the client wrote them. */
  path: string;
}

/** `http://authority[/path][?query]`; the fragment never reaches a proxy. https:// is CONNECT's business. */
export function parseAbsoluteForm(requestTarget: string): AbsoluteTarget | null {
  const match = /^http:\/\/([^/?#]*)([^#]*)(?:#.*)?$/i.exec(requestTarget);
  if (!match) return null;
  // userinfo is deprecated in http URLs (RFC 9110 §4.2.4) and never forwarded.
  const authority = match[1].slice(match[1].lastIndexOf('@') + 1);
  const target = parseAuthority(authority, HTTP_DEFAULT_PORT);
  if (!target) return null;
  const rest = match[2];
  const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  return { target, authority, path };
}

/** `host:port` or `[v6]:port`; without a port only when `defaultPort` is given. */
export function parseAuthority(authority: string, defaultPort: number | null = null): Address | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(authority);
  if (!match) return null;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port === null || port === 0 || port > MAX_PORT) return null;
  const host = match[1] ?? match[2];
  if (host.length > 255) return null;
  return { host, port };
}
