/**
 * The HTTP side of the client's port: Node's own http.Server parses every request (it never
 * listens; client/socks/server.ts hands it the connections whose first byte is a letter).
 * CONNECT opens a tunnel, absolute-form requests are forwarded, GET /proxy.pac serves the
 * PAC file, and anything malformed gets a status and a closed connection.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.js';
import type { HttpAcceptor } from '../socks/server.js';
import { tunnelConnect } from './connect-tunnel.js';
import { closeUnlessComplete, forwardRequest } from './forward-request.js';
import { answer, HttpStatus, PROXY_AUTH_CHALLENGE, rawAnswer } from './http-replies.js';
import { PAC_CONTENT_TYPE, PAC_PATH, PacFiles } from './pac.js';
import type { HttpProxyDeps } from './proxy-deps.js';
import { proxyAuthorized } from './proxy-auth.js';
import { parseAbsoluteForm } from './request-target.js';

/** Request line and headers together; Node's default is 16 KiB too, named here because it is a limit we promise. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** An idle keep-alive connection is closed after this; browsers reopen one when they need it. */
const KEEPALIVE_TIMEOUT_MS = 30_000;
/** How often Node checks for requests whose headers are late; the timeout is enforced within this much. */
const TIMEOUT_CHECK_MS = 100;

export function createHttpProxy(deps: HttpProxyDeps): HttpAcceptor {
  const server = createServer({
    headersTimeout: deps.handshakeTimeoutMs,
    // No limit on a whole request: an upload through the proxy may take as long as it takes.
    requestTimeout: 0,
    maxHeaderSize: MAX_HEADER_BYTES,
    keepAliveTimeout: KEEPALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: TIMEOUT_CHECK_MS,
  });
  const firstRequests = new FirstRequestDeadlines(deps.logger);
  const pacFiles = new PacFiles();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    firstRequests.arrived(req.socket);
    handleRequest(req, res, deps, pacFiles);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    firstRequests.arrived(socket as Socket);
    tunnelConnect(req, socket as Socket, head, deps).catch((err: Error) => {
      deps.logger.error('HTTP CONNECT failed: internal error', { peer: (socket as Socket).remoteAddress, error: err.message });
      socket.destroy();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => refuseMalformed(err, socket as Socket, deps.logger));
  // http.Server starts the timer that enforces headersTimeout on 'listening'; this one never
  // listens (its connections come from the shared port), so it is told to start it here.
  server.emit('listening');
  return {
    accept(socket, handshakeLeftMs) {
      firstRequests.watch(socket, handshakeLeftMs);
      server.emit('connection', socket);
    },
    close() {
      server.close(() => {}); // stops the timer and closes idle keep-alive connections; it never listened
    },
  };
}

function handleRequest(req: IncomingMessage, res: ServerResponse, deps: HttpProxyDeps, pacFiles: PacFiles): void {
  const url = req.url ?? '';
  if (url.startsWith('/')) return serveOwnPath(req, res, deps, pacFiles);
  const absolute = parseAbsoluteForm(url);
  if (absolute === null) {
    deps.logger.info('HTTP request refused: not an http:// URL', { peer: req.socket.remoteAddress, method: req.method });
    return answer(res, HttpStatus.BadRequest, 'a proxy request needs an absolute http:// URL (https goes through CONNECT)');
  }
  if (!proxyAuthorized(req.headers['proxy-authorization'], deps.proxyUser)) {
    return answer(res, HttpStatus.ProxyAuthenticationRequired, 'proxy authentication required', { 'Proxy-Authenticate': PROXY_AUTH_CHALLENGE, ...closeUnlessComplete(req) });
  }
  forwardRequest(req, res, absolute, deps).catch((err: Error) => {
    // Whatever went wrong, this request fails alone; the process goes on serving.
    deps.logger.error('HTTP request failed: internal error', { peer: req.socket.remoteAddress, error: err.message });
    answer(res, HttpStatus.BadGateway, `internal error: ${err.message}`);
  });
}

/** Origin-form requests are for the port itself: the PAC file, and nothing else. */
function serveOwnPath(req: IncomingMessage, res: ServerResponse, deps: HttpProxyDeps, pacFiles: PacFiles): void {
  const path = (req.url ?? '').split('?')[0];
  if (path !== PAC_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
    return answer(res, HttpStatus.NotFound, `this is sockbridge's proxy port: it serves GET ${PAC_PATH}, CONNECT and http:// proxy requests`);
  }
  // The address the browser reached this port on: right even when the listener binds 0.0.0.0.
  const socket = req.socket;
  const pac = pacFiles.get({ host: socket.localAddress ?? '127.0.0.1', port: socket.localPort ?? 0 }, deps.pacRules());
  res.writeHead(HttpStatus.Ok, { 'Content-Type': PAC_CONTENT_TYPE, 'Content-Length': String(pac.length), 'Cache-Control': 'no-cache' });
  res.end(pac);
}

/** Node's clientError code for headers that came too slowly; the handshake deadline answers the same. */
const HANDSHAKE_TIMEOUT_CODE = 'ERR_HTTP_REQUEST_TIMEOUT';
/** Node's clientError codes with a status of their own (RFC 9110 §15.5.9, RFC 6585 §5); any other code is a 400. */
const CLIENT_ERROR_ANSWERS: Readonly<Record<string, { status: HttpStatus; why: string }>> = {
  HPE_HEADER_OVERFLOW: { status: HttpStatus.RequestHeaderFieldsTooLarge, why: `request line and headers over ${MAX_HEADER_BYTES} bytes` },
  [HANDSHAKE_TIMEOUT_CODE]: { status: HttpStatus.RequestTimeout, why: 'request line and headers not complete within the handshake timeout' },
};
/** The client reset the connection: nobody to answer. */
const CLIENT_RESET = 'ECONNRESET';

/** Node's parser refused the bytes, or the request line and headers came too slowly: answer if still possible, and close. */
function refuseMalformed(err: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  if (err.code === CLIENT_RESET || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, why } = (err.code !== undefined && CLIENT_ERROR_ANSWERS[err.code]) || { status: HttpStatus.BadRequest, why: `malformed HTTP request (${err.code ?? 'parse error'})` };
  refuseRaw(socket, status, why, logger);
}

/** A status on a socket whose request got no response yet, then the connection closes. */
function refuseRaw(socket: Socket, status: HttpStatus, why: string, logger: Logger): void {
  logger.info(`HTTP request refused: ${why}`, { peer: `${socket.remoteAddress}:${socket.remotePort}`, status });
  socket.end(rawAnswer(status, why), () => socket.destroy());
}

/**
 * Node's headersTimeout restarts when a request's first byte is parsed, which for the first
 * request is after the listener waited for that byte: this bounds the first request line and
 * headers by what is left of --handshake-timeout since accept, as for SOCKS. Later requests
 * on a keep-alive connection have headersTimeout each.
 */
class FirstRequestDeadlines {
  private readonly timers = new Map<Socket, NodeJS.Timeout>();

  constructor(private readonly logger: Logger) {}

  watch(socket: Socket, handshakeLeftMs: number): void {
    const timer = setTimeout(() => {
      this.arrived(socket);
      if (!socket.writable) return void socket.destroy();
      const { status, why } = CLIENT_ERROR_ANSWERS[HANDSHAKE_TIMEOUT_CODE];
      refuseRaw(socket, status, why, this.logger);
    }, handshakeLeftMs);
    this.timers.set(socket, timer);
    socket.once('close', () => this.arrived(socket));
  }

  /** The first request's headers are in (or the socket is gone): its deadline no longer applies. */
  arrived(socket: Socket): void {
    clearTimeout(this.timers.get(socket));
    this.timers.delete(socket);
  }
}
