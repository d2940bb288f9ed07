/**
 * An HTTP origin server for proxy tests (Node's http.Server on 127.0.0.1-range port 0). Each
 * request is recorded as it arrived (method, request-target, raw headers, body length and
 * SHA-256) and answered with that record as JSON; GET /bytes/N answers N bytes, chunked.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  /** The request-target as sent: origin-form when a proxy did its job. */
  url: string;
  rawHeaders: string[];
  bodyLength: number;
  bodySha256: string;
}

export interface HttpOrigin {
  host: string;
  port: number;
  /** `http://host:port` */
  base: string;
  seen: SeenRequest[];
  /** TCP connections the origin accepted. */
  connections: number;
  close(): Promise<void>;
}

const BYTES_ROUTE = /^\/bytes\/(\d+)$/;
const BYTES_CHUNK = 64 * 1024;

export function header(request: SeenRequest, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    if (request.rawHeaders[i].toLowerCase() === name.toLowerCase()) values.push(request.rawHeaders[i + 1]);
  }
  return values;
}

/** The byte at offset i of every /bytes/N body, so a reader can check what it got. */
export function patternByte(i: number): number {
  return (i * 31 + 7) & 0xff;
}

export async function startHttpOrigin(host = '127.0.0.1'): Promise<HttpOrigin> {
  const sockets = new Set<Socket>();
  const seen: SeenRequest[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => void record(req, res, seen));
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    base: `http://${host}:${port}`,
    seen,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function record(req: IncomingMessage, res: ServerResponse, seen: SeenRequest[]): Promise<void> {
  const hash = createHash('sha256');
  let bodyLength = 0;
  for await (const chunk of req) {
    hash.update(chunk as Buffer);
    bodyLength += (chunk as Buffer).length;
  }
  const request: SeenRequest = { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, bodyLength, bodySha256: hash.digest('hex') };
  seen.push(request);
  const bytes = BYTES_ROUTE.exec(req.url ?? '');
  if (bytes) return sendPattern(res, Number(bytes[1]));
  const body = JSON.stringify(request);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'X-Origin': 'yes' });
  res.end(body);
}

/** N pattern bytes, chunked, written with backpressure. */
async function sendPattern(res: ServerResponse, length: number): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  for (let offset = 0; offset < length; offset += BYTES_CHUNK) {
    const chunk = Buffer.alloc(Math.min(BYTES_CHUNK, length - offset));
    for (let i = 0; i < chunk.length; i++) chunk[i] = patternByte(offset + i);
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}
