/**
 * A small website standing in for a --fallback origin: its own Server header, a home page,
 * a redirect, a 404 page, a POST handler, a 64 MiB download written with backpressure (it
 * counts what the kernel took, so a test can see whether a reader holds it back), and a
 * WebSocket echo at /ws. Other upgrades get its own 400 page, as a site without WebSockets
 * would, and CONNECT a 405.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Keystream, MiB } from '../workloads/bulk-data.js';

export const ORIGIN_SERVER = 'bakery-httpd/2.4';
export const BIG_PATH = '/downloads/big.bin';
export const BIG_BYTES = 64 * MiB;
export const BIG_SEED = 'fallback-origin-big';
const CHUNK = 64 * 1024;

export interface FallbackOrigin {
  url: string;
  port: number;
  /** Bytes of BIG_PATH the origin has handed to its sockets so far, over all requests. */
  bigBytesSent(): number;
  /** Every request's Authorization and Sec-WebSocket-Protocol headers, upgrades included, as received. */
  credentialsSeen: string[];
  close(): Promise<void>;
}

const HOME = '<!doctype html><html><head><title>Bakery</title></head><body><h1>Fresh bread daily</h1></body></html>\n';
const NOT_FOUND = '<!doctype html><html><body><h1>404 — no such page</h1></body></html>\n';
const NO_UPGRADE = '<!doctype html><html><body><h1>400 — bad request</h1></body></html>\n';

export async function startFallbackOrigin(): Promise<FallbackOrigin> {
  let bigSent = 0;
  const credentialsSeen: string[] = [];
  const record = (req: IncomingMessage): void => {
    for (const name of ['authorization', 'sec-websocket-protocol']) {
      const value = req.headers[name];
      if (typeof value === 'string') credentialsSeen.push(value);
    }
  };
  const server = createServer((req, res) => {
    record(req);
    res.setHeader('Server', ORIGIN_SERVER);
    if (req.url === BIG_PATH) return void sendBig(res, (bytes) => (bigSent += bytes));
    route(req, res);
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    record(req);
    if (req.url === '/ws') return void wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
    const body = Buffer.from(NO_UPGRADE);
    socket.end(`HTTP/1.1 400 Bad Request\r\nServer: ${ORIGIN_SERVER}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${NO_UPGRADE}`);
  });
  server.on('connect', (req, socket) => {
    record(req);
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nServer: ${ORIGIN_SERVER}\r\nAllow: GET, HEAD, POST\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    bigBytesSent: () => bigSent,
    credentialsSeen,
    async close() {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function route(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Set-Cookie': ['session=abc; Path=/', 'theme=light; Path=/'], 'X-Frame-Options': 'SAMEORIGIN' });
    return void res.end(HOME);
  }
  if (req.url === '/old-menu') {
    res.writeHead(301, { Location: '/menu', 'Content-Type': 'text/html' });
    return void res.end('<a href="/menu">moved</a>\n');
  }
  if (req.url === '/order' && req.method === 'POST') return void answerOrder(req, res);
  res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(NOT_FOUND);
}

/** Echoes what it was sent, by size and digest, in a chunked answer. */
function answerOrder(req: IncomingMessage, res: ServerResponse): void {
  const hash = createHash('sha256');
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  req.on('end', () => {
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.write(JSON.stringify({ bytes, type: req.headers['content-type'] ?? null }));
    res.end(JSON.stringify({ sha256: hash.digest('hex') }));
  });
}

/** BIG_BYTES of keystream, one chunk at a time, waiting for 'drain' whenever a write is refused. */
function sendBig(res: ServerResponse, counted: (bytes: number) => void): void {
  const source = new Keystream(BIG_SEED);
  let left = BIG_BYTES;
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(BIG_BYTES) });
  const pump = (): void => {
    while (left > 0) {
      const chunk = source.next(Math.min(CHUNK, left));
      left -= chunk.length;
      const more = res.write(chunk, () => counted(chunk.length));
      if (!more) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}
