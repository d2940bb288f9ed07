/**
 * An HTTP response on the raw socket of an upgrade request that will not be upgraded. Node
 * hands such requests to 'upgrade' with no ServerResponse; making one here lets them get
 * exactly the answer the same request without an upgrade would get (the same handler, the
 * same headers and framing), so an upgrade tells a prober nothing more than a GET does.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * How long a refused upgrade's socket waits after our FIN for the peer's. The HTTP server let
 * go of the socket at the upgrade, so none of its timeouts apply any more: without this, a
 * peer that reads the answer and never closes would hold the socket (and relay.close()) for good.
 */
const LINGER_MS = 2_000;

/** Sends `last` (if any) and FIN, then lets the socket go when the peer closes too, or after LINGER_MS. */
export function closeRawSocket(socket: Duplex, last?: string): void {
  socket.end(last);
  const giveUp = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(giveUp));
}

/** A bodiless refusal on a raw upgrade socket (429, 503…), then the socket closes. */
export function refuseOnSocket(socket: Duplex, status: number, text: string): void {
  if (socket.destroyed) return;
  closeRawSocket(socket, `HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

export function responseOnSocket(req: IncomingMessage, socket: Duplex): ServerResponse {
  const res = new ServerResponse(req);
  // This socket's parser is gone, so no second request can follow: say so, and close after.
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on('finish', () => {
    res.detachSocket(socket as Socket);
    closeRawSocket(socket);
  });
  return res;
}
