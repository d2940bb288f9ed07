/**
 * CONNECT host:port (RFC 9110 §9.3.6): the HTTP client's socket becomes a tunnel to the
 * target. `200 Connection established` goes out only once the outbound is open (through the
 * relay, or a direct dial), or at once where fast open answers; failures are a status with a
 * short text body, then the connection closes.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { formatHostPort } from '../../common/host-port.js';
import { answerForReply, CONNECT_ESTABLISHED, HttpStatus, PROXY_AUTH_CHALLENGE, rawAnswer } from './http-replies.js';
import { proxyAuthorized } from './proxy-auth.js';
import { parseAuthority } from './request-target.js';
import type { HttpProxyDeps } from './proxy-deps.js';

export async function tunnelConnect(req: IncomingMessage, socket: Socket, head: Buffer, deps: HttpProxyDeps): Promise<void> {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  // Whatever the client sends behind its CONNECT waits in the socket until the tunnel is joined.
  socket.pause();
  socket.setTimeout(0);
  const refuse = (status: HttpStatus, why: string, headers: Record<string, string> = {}): void => {
    deps.logger.info(`HTTP CONNECT refused: ${why}`, { peer, status });
    if (!socket.destroyed) socket.end(rawAnswer(status, why, headers), () => socket.destroy());
  };
  if (!proxyAuthorized(req.headers['proxy-authorization'], deps.proxyUser)) {
    return refuse(HttpStatus.ProxyAuthenticationRequired, 'proxy authentication required', { 'Proxy-Authenticate': PROXY_AUTH_CHALLENGE });
  }
  const target = parseAuthority(req.url ?? '');
  if (target === null) return refuse(HttpStatus.BadRequest, `CONNECT needs host:port, got "${(req.url ?? '').slice(0, 100)}"`);
  const gone = new AbortController();
  const onClose = (): void => gone.abort();
  socket.once('close', onClose);
  const outcome = await deps.connector.connect({ target, early: head, peer, signal: gone.signal });
  socket.off('close', onClose);
  if (!outcome.ok) {
    const { status, text } = answerForReply(outcome.reply, outcome.why, outcome.timedOut);
    return refuse(status, text);
  }
  if (socket.destroyed) return outcome.join(socket); // join gives the outbound up
  deps.logger.debug('HTTP CONNECT established', { peer, dest: formatHostPort(target), route: outcome.route });
  socket.write(CONNECT_ESTABLISHED);
  outcome.join(socket);
}
