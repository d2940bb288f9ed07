/**
 * An HTTP response on the raw socket of an upgrade request that will not be upgraded. Node
 * hands such requests to 'upgrade' with no ServerResponse; making one here lets them get
 * exactly the answer the same request without an upgrade would get (the same handler, the
 * same headers and framing), so an upgrade tells a prober nothing more than a GET does.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export function responseOnSocket(req: IncomingMessage, socket: Duplex): ServerResponse {
  const res = new ServerResponse(req);
  // This socket's parser is gone, so no second request can follow: say so, and close after.
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on('finish', () => {
    res.detachSocket(socket as Socket);
    socket.end();
  });
  return res;
}
