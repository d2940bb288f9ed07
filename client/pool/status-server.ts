/**
 * --status-listen: a loopback HTTP listener that answers every GET with the pool's tunnels as
 * JSON ({"tunnels":[{relay, state, rttMs, openStreams, bytesSent, bytesReceived, ageSeconds}]}).
 * It holds no token and no link, only what the client's own log says.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address } from '../../protocol/frame.js';
import type { TunnelStatus } from './tunnel-pool.js';
import { listen as listenOn } from '../../common/listen.js';
import { HttpStatus } from '../http/http-replies.js';

export interface StatusServer {
  address: Address;
  close(): Promise<void>;
}

export async function startStatusServer(listen: Address, tunnels: () => TunnelStatus[]): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(HttpStatus.MethodNotAllowed, { allow: 'GET, HEAD' }).end();
      return;
    }
    const body = JSON.stringify({ tunnels: tunnels() });
    res.writeHead(HttpStatus.Ok, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await listenOn(server, listen);
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
