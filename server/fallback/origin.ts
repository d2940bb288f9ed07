/**
 * The --fallback origin: where it is, how to reach it, and the request a relay sends it on
 * a prober's behalf. Headers keep the prober's names, case and order (rawHeaders); only the
 * hop-by-hop ones of RFC 9110 §7.6.1 are dropped, and Host names the origin, as nginx's
 * proxy_pass does, so an origin elsewhere (a CDN, a virtual host) serves its own site.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { TIMED_OUT } from '../../common/errno-replies.js';

export interface Origin {
  readonly url: URL;
  /** Sends one request to the origin. */
  request(options: RequestOptions): ClientRequest;
  /** Drops the idle kept-alive connections to the origin. */
  close(): void;
}

/**
 * An origin silent this long (no answer yet, or a stalled body) is given up on: 504 if it had
 * not answered, else the connection is cut. nginx's proxy_read_timeout default.
 */
export const ORIGIN_IDLE_TIMEOUT_MS = 60_000;

/** Hop-by-hop: they describe one connection, so a proxy never passes them on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade']);
/** An upgrade must reach the origin as one, so these two stay on an upgrade request. */
const UPGRADE_HEADERS = new Set(['connection', 'upgrade']);

export function createOrigin(fallback: string): Origin {
  const url = new URL(fallback);
  const secure = url.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = secure ? httpsRequest : httpRequest;
  return {
    url,
    request: (options) => {
      const upstream = send({ ...options, agent });
      upstream.setTimeout(ORIGIN_IDLE_TIMEOUT_MS, () => upstream.destroy(Object.assign(new Error('the origin went silent'), { code: TIMED_OUT })));
      return upstream;
    },
    close: () => agent.destroy(),
  };
}

/** The origin's request for `req`: same method, the target under the origin's path, the prober's headers. */
export function originRequestOptions(origin: Origin, req: IncomingMessage, upgrade: boolean): RequestOptions {
  const { url } = origin;
  const basePath = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  return {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? undefined : Number(url.port),
    servername: isIpLiteral(url.hostname) ? undefined : url.hostname,
    method: req.method,
    // CONNECT's target is an authority (RFC 9110 §9.3.6), not a path under the origin's.
    path: req.method === 'CONNECT' ? req.url : basePath + (req.url ?? '/'),
    headers: forwardedHeaders(req, url.host, upgrade),
    setHost: false,
  };
}

/** req.rawHeaders, flat, minus hop-by-hop headers (and those its Connection names), Host set to the origin's. */
function forwardedHeaders(req: IncomingMessage, originHost: string, upgrade: boolean): string[] {
  const named = new Set((req.headers.connection ?? '').split(',').map((token) => token.trim().toLowerCase()));
  const out: string[] = [];
  let hostSeen = false;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const lower = name.toLowerCase();
    if (lower === 'host') {
      if (!hostSeen) out.push(name, originHost);
      hostSeen = true;
      continue;
    }
    const keep = upgrade && UPGRADE_HEADERS.has(lower);
    if (!keep && (HOP_BY_HOP.has(lower) || named.has(lower))) continue;
    out.push(name, req.rawHeaders[i + 1]);
  }
  if (!hostSeen) out.unshift('Host', originHost);
  return out;
}

/** The origin's response headers as they came, minus Connection and Keep-Alive, which are this hop's own. */
export function returnedHeaders(res: IncomingMessage, toHttp10: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const lower = res.rawHeaders[i].toLowerCase();
    if (lower === 'connection' || lower === 'keep-alive') continue;
    // An HTTP/1.0 client cannot read chunks: Node then ends the body by closing, as an origin would.
    if (toHttp10 && lower === 'transfer-encoding') continue;
    out.push(res.rawHeaders[i], res.rawHeaders[i + 1]);
  }
  return out;
}

function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(hostname);
}
