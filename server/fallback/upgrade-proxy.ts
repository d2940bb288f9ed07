/**
 * --fallback for upgrade (and CONNECT) requests: the origin decides. If it switches protocols, its 101
 * goes back as it came and the two sockets are piped together, both ways, with
 * backpressure; if it answers anything else, that answer goes back as for any request.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { responseOnSocket } from '../socket-response.js';
import { answerBadGateway, carriedSecret, relayResponse, withholdToken, type FallbackProxy } from './fallback-proxy.js';
import { originRequestOptions } from './origin.js';

export function proxyUpgrade(proxy: FallbackProxy, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const secret = carriedSecret(proxy.host, req);
  if (secret !== null) return withholdToken(proxy.host, req, responseOnSocket(req, socket), secret);
  // The HTTP server no longer tracks this socket: close() ends it, switched or still sending its body.
  proxy.upgraded.add(socket);
  socket.on('close', () => proxy.upgraded.delete(socket));
  const upstream = proxy.origin.request(originRequestOptions(proxy.origin, req, true));
  let settled = false;
  let rest = sendDeclaredBody(req, socket, head, upstream);
  const switched = (originRes: IncomingMessage, originSocket: Duplex, originHead: Buffer): void => {
    settled = true;
    // Switched: the two ends may be quiet as long as they like, as on any WebSocket.
    (originSocket as Socket).setTimeout(0);
    socket.write(switchingHead(originRes));
    if (originHead.length > 0) socket.write(originHead);
    if (rest.length > 0) originSocket.write(rest);
    rest = Buffer.alloc(0);
    originSocket.on('error', () => socket.destroy());
    socket.on('error', () => originSocket.destroy());
    originSocket.on('close', () => socket.destroy());
    socket.on('close', () => originSocket.destroy());
    originSocket.pipe(socket);
    socket.pipe(originSocket);
  };
  // A CONNECT the origin accepts (2xx) switches just as an upgrade does.
  upstream.on('upgrade', switched);
  upstream.on('connect', switched);
  upstream.on('response', (originRes) => {
    settled = true;
    relayResponse(originRes, req, responseOnSocket(req, socket), proxy.host);
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (settled || socket.destroyed) return;
    settled = true;
    answerBadGateway(responseOnSocket(req, socket), proxy.host, err);
  });
  socket.on('close', () => {
    if (!settled) upstream.destroy();
  });
}

/**
 * Node's parser stops at the head of an upgrade request, so a body it declares (a POST with
 * Upgrade headers) is still raw bytes in `head` and on the socket. The origin waits for it, as
 * it would from the prober directly: pass on exactly Content-Length bytes, with backpressure,
 * then end the request. Returns what of `head` lies beyond the body; bytes past it on the socket are put back.
 */
function sendDeclaredBody(req: IncomingMessage, socket: Duplex, head: Buffer, upstream: ClientRequest): Buffer {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(declared) || declared <= 0) {
    upstream.end();
    return head;
  }
  const inHead = head.subarray(0, declared);
  upstream.write(inHead);
  let left = declared - inHead.length;
  if (left === 0) {
    upstream.end();
    return head.subarray(declared);
  }
  const take = (chunk: Buffer): void => {
    const part = chunk.subarray(0, left);
    left -= part.length;
    // An origin that does not read holds the prober back, as piping would: nothing piles up here.
    if (!upstream.write(part) && left > 0) {
      socket.pause();
      upstream.once('drain', () => left > 0 && socket.resume());
    }
    if (left > 0) return;
    socket.off('data', take);
    socket.pause();
    if (part.length < chunk.length) socket.unshift(chunk.subarray(part.length));
    upstream.end();
  };
  socket.on('data', take);
  return Buffer.alloc(0);
}

/** The origin's 101 response head, header names and order as it sent them. */
function switchingHead(res: IncomingMessage): string {
  let head = `HTTP/1.1 ${res.statusCode ?? 101} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i < res.rawHeaders.length; i += 2) head += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
}
