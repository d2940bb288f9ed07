/** Parsing of HOST:PORT settings, with IPv6 in brackets ([::1]:1080). */
import type { Address } from '../protocol/frame.js';
import { MAX_PORT } from './port-range.js';

/** RFC 9110 §4.2.1 and §4.2.2: http and https URLs without a port mean these. */
export const HTTP_DEFAULT_PORT = 80;
export const HTTPS_DEFAULT_PORT = 443;

/** Parses `HOST:PORT`, `[V6]:PORT` or `:PORT`; returns an error message instead of throwing. */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): Address | string {
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(text);
  if (!match) return `"${text}" is not HOST:PORT`;
  const host = match[1] ?? (match[2] || defaultHost);
  const port = Number(match[3]);
  if (port > MAX_PORT) return `port ${port} is out of range`;
  return { host, port };
}

/** Formats an address for display and URLs, bracketing IPv6. */
export function formatHostPort(address: Address): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
