/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, so a proxy removes
 * them before forwarding, in both directions, together with every header the Connection
 * header names. Works on Node's flat rawHeaders ([name, value, name, value, …]), which keep
 * the order, case and repetition the sender used.
 */

/** Always hop-by-hop: RFC 9110 §7.6.1, plus Proxy-Connection, which old clients still send, and the proxy's own credentials. */
const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/** The headers of `rawHeaders` that go on to the next hop, still flat, minus hop-by-hop ones and those in `except`. */
export function endToEndHeaders(rawHeaders: readonly string[], except: readonly string[] = []): string[] {
  const dropped = new Set([...HOP_BY_HOP_HEADERS, ...except.map((name) => name.toLowerCase()), ...namedByConnection(rawHeaders)]);
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!dropped.has(rawHeaders[i].toLowerCase())) kept.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return kept;
}

/**
 * What a Connection header may never take away: the body's framing and the target. Dropping
 * Content-Length because `Connection: content-length` names it would send a GET's body
 * unframed, and the origin would read it as a second request (request smuggling).
 */
const NEVER_HOP_BY_HOP: ReadonlySet<string> = new Set(['content-length', 'host']);

/** The header names listed in every Connection (and Proxy-Connection) header, lowercased. */
function namedByConnection(rawHeaders: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (name !== 'connection' && name !== 'proxy-connection') continue;
    for (const token of rawHeaders[i + 1].split(',')) {
      const trimmed = token.trim().toLowerCase();
      if (trimmed !== '' && !NEVER_HOP_BY_HOP.has(trimmed)) names.push(trimmed);
    }
  }
  return names;
}
