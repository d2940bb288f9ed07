/**
 * --fallback: a public request that is not an authenticated tunnel upgrade goes to the
 * origin, and the origin's answer comes back as it was sent (status, headers, body), so a
 * prober meets the origin's website, not a relay. Bodies are piped both ways, so a slow
 * reader holds the origin back through TCP instead of filling the relay's memory.
 * Upgrades are in upgrade-proxy.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { TIMED_OUT } from '../../common/errno-replies.js';
import type { Logger } from '../../common/log.js';
import { HttpStatus } from '../http-status.js';
import { ErrorReason } from '../status/error-reasons.js';
import { createOrigin, originRequestOptions, returnedHeaders, type Origin } from './origin.js';

export interface FallbackHost {
  logger: Logger;
  countError: (reason: ErrorReason) => void;
  /** True when the request presents a valid tunnel token: such a request never goes to the origin. */
  carriesTunnelToken: (req: IncomingMessage) => boolean;
  /** True when it presents the admin token, which never goes to the origin either. */
  carriesAdminToken: (req: IncomingMessage) => boolean;
}

export interface FallbackProxy {
  readonly origin: Origin;
  readonly host: FallbackHost;
  /** Upgrade (and CONNECT) sockets handed to the origin, which the HTTP server no longer tracks; close() ends them. */
  readonly upgraded: Set<Duplex>;
  /** The public listener's 'request' handler. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

export function createFallbackProxy(fallback: string, host: FallbackHost): FallbackProxy {
  const origin = createOrigin(fallback);
  const upgraded = new Set<Duplex>();
  return {
    origin,
    host,
    upgraded,
    handleRequest: (req, res) => proxyRequest(origin, host, req, res),
    close: () => {
      for (const socket of upgraded) socket.destroy();
      origin.close();
    },
  };
}

function proxyRequest(origin: Origin, host: FallbackHost, req: IncomingMessage, res: ServerResponse): void {
  const secret = carriedSecret(host, req);
  if (secret !== null) return withholdToken(host, req, res, secret);
  const upstream = origin.request(originRequestOptions(origin, req, false));
  upstream.on('response', (originRes) => relayResponse(originRes, req, res, host));
  upstream.on('information', (info) => {
    if (info.statusCode === HttpStatus.Continue && !res.headersSent) res.writeContinue();
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (res.destroyed) return; // we gave up on it ourselves: the prober left
    if (res.headersSent) res.destroy();
    else answerBadGateway(res, host, err);
  });
  // The prober went away: so does the origin's request, and whatever it was sending.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/** The origin's answer, unchanged, on `res` (a real response, or one on an upgrade's socket). */
export function relayResponse(originRes: IncomingMessage, req: IncomingMessage, res: ServerResponse, host: FallbackHost): void {
  const toHttp10 = req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
  // The origin's Date or none: an added one would tell its answers from the relay's.
  res.sendDate = false;
  // An origin that closes after this answer: so does the relay, or keeping the connection open would tell them apart.
  if (/\bclose\b/i.test(String(originRes.headers.connection ?? ''))) res.shouldKeepAlive = false;
  try {
    res.writeHead(originRes.statusCode ?? HttpStatus.BadGateway, originRes.statusMessage, returnedHeaders(originRes, toHttp10));
  } catch (err) {
    // Node's parser takes a control character in a status line or header that its writer refuses (ERR_INVALID_CHAR).
    originRes.destroy();
    res.statusMessage = ''; // the origin's, kept by the failed writeHead
    return answerBadGateway(res, host, err as NodeJS.ErrnoException, 'fallback origin answer cannot be passed on');
  }
  originRes.pipe(res);
  originRes.on('error', () => res.destroy());
  res.on('close', () => {
    if (!originRes.complete) originRes.destroy();
  });
}

/** What a reverse proxy says when its upstream cannot be reached (502) or went silent (504): no body, nothing naming us. */
export function answerBadGateway(res: ServerResponse, host: FallbackHost, err: NodeJS.ErrnoException, why = 'fallback origin unreachable'): void {
  host.logger.warn(why, { error: err.code ?? err.message });
  host.countError(ErrorReason.FallbackUnreachable);
  res.writeHead(err.code === TIMED_OUT ? HttpStatus.GatewayTimeout : HttpStatus.BadGateway, { 'Content-Length': '0' });
  res.end();
}

/** A secret a request may carry, which withholdToken keeps from the origin. */
export type CarriedSecret = 'tunnel token' | 'admin token';

/** Which secret `req` presents, if any: each token is checked once. */
export function carriedSecret(host: FallbackHost, req: IncomingMessage): CarriedSecret | null {
  if (host.carriesTunnelToken(req)) return 'tunnel token';
  return host.carriesAdminToken(req) ? 'admin token' : null;
}

/**
 * A client with a valid token but the wrong path (or no upgrade), or with the admin token
 * (whose routes are not on the public port with --fallback), must not hand its token to the
 * origin, which may be someone else's site. Only token holders ever see this 404.
 */
export function withholdToken(host: FallbackHost, req: IncomingMessage, res: ServerResponse, secret: CarriedSecret): void {
  const remote = req.socket.remoteAddress;
  if (secret === 'tunnel token') {
    host.logger.warn('a request with a valid tunnel token that is no tunnel upgrade on --path: not passed to the fallback (check the path in the client\'s --relay)', { remote });
  } else {
    host.logger.warn('a request with the admin token on the public port: not passed to the fallback (the status page is on --admin-listen)', { remote });
  }
  req.resume();
  res.writeHead(HttpStatus.NotFound, { 'Content-Length': '0' });
  res.end();
}
