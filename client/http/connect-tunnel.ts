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

/** Bytes a client may send behind its CONNECT before the 200; beyond that the socket is paused until the tunnel is up. */
const MAX_HELD_BYTES = 64 * 1024;

export async function tunnelConnect(req: IncomingMessage, socket: Socket, head: Buffer, deps: HttpProxyDeps): Promise<void> {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
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
  const held = new HeldBytes(socket);
  const outcome = await deps.connector.connect({ target, early: head, peer, signal: held.gone });
  held.release();
  if (!outcome.ok) {
    const { status, text } = answerForReply(outcome.reply, outcome.why, outcome.timedOut);
    return refuse(status, text);
  }
  if (held.gone.aborted) socket.destroy(); // the client gave up: nobody to tunnel for
  if (socket.destroyed) return outcome.join(socket); // join gives the outbound up
  deps.logger.debug('HTTP CONNECT established', { peer, dest: formatHostPort(target), route: outcome.route });
  socket.write(CONNECT_ESTABLISHED);
  outcome.join(socket);
}

/**
 * While the outbound opens, the socket keeps being read, so that a client who gives up
 * (FIN, as curl and browsers do; Node's http.Server treats it so too) abandons the dial at
 * once; what it sends meanwhile is held and put back for the tunnel.
 */
class HeldBytes {
  private readonly controller = new AbortController();
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= MAX_HELD_BYTES) this.socket.pause();
  };
  private readonly onGone = (): void => this.controller.abort();

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.once('end', this.onGone);
    socket.once('close', this.onGone);
    socket.resume();
  }

  get gone(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops reading and puts the held bytes back, first in line for whoever reads next. */
  release(): void {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onGone);
    this.socket.off('close', this.onGone);
    if (this.chunks.length > 0) this.socket.unshift(Buffer.concat(this.chunks));
  }
}
