/**
 * The bench's second reference route: the simplest SOCKS-over-WebSocket tunnel there is, one
 * WebSocket per stream, `ws` (with bufferutil) and pipe() and nothing else: no multiplexing,
 * no credit, no pooled frames. Whatever sockbridge's one multiplexed WebSocket costs beyond
 * this is the price of its design, measured in the same run.
 *
 * `node dist/bench/naive-tunnel.js relay` listens for WebSockets on 127.0.0.1 and prints
 * `naive relay {"port":P}`; each one names its target in the query (`?host=H&port=N`).
 * `node dist/bench/naive-tunnel.js client P` listens for SOCKS5 (no authentication, CONNECT
 * to IPv4 or a name) and prints `naive client {"port":S}`; each CONNECT opens a WebSocket to
 * the relay on port P, and the reply goes out once it is open.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocket, WebSocketServer } from 'ws';
import { TARGET_HOST } from './route.js';
import { REP_FAILURE, REP_SUCCEEDED, socksDestination, socksReply } from './socks5-server.js';

const BACKLOG = 16_384;

/** Joins a TCP socket and a WebSocket's stream both ways, with backpressure, through pipe(). */
function pipeBoth(socket: Socket, duplex: Duplex): void {
  socket.pipe(duplex).pipe(socket);
  duplex.on('error', () => socket.destroy());
  socket.on('error', () => duplex.destroy());
}

async function runRelay(): Promise<void> {
  const wss = new WebSocketServer({ host: TARGET_HOST, port: 0, perMessageDeflate: false, backlog: BACKLOG });
  await once(wss, 'listening');
  wss.on('connection', (ws, req) => {
    const query = new URL(req.url ?? '/', 'http://relay').searchParams;
    // The stream is made at once: it holds what the client sends before the target has answered.
    const duplex = createWebSocketStream(ws);
    const target = connect({ host: query.get('host') ?? TARGET_HOST, port: Number(query.get('port')), noDelay: true });
    target.once('connect', () => pipeBoth(target, duplex));
    target.once('error', () => ws.terminate());
  });
  process.stdout.write(`naive relay ${JSON.stringify({ port: (wss.address() as AddressInfo).port })}\n`);
}

async function serveSocks(socket: Socket, relayPort: number): Promise<void> {
  const destination = await socksDestination(socket);
  if (!destination) return void socket.end(socksReply(REP_FAILURE));
  const ws = new WebSocket(`ws://${TARGET_HOST}:${relayPort}/?host=${encodeURIComponent(destination.host)}&port=${destination.port}`, { perMessageDeflate: false });
  ws.once('open', () => {
    socket.write(socksReply(REP_SUCCEEDED));
    pipeBoth(socket, createWebSocketStream(ws));
  });
  ws.once('error', () => socket.end(socksReply(REP_FAILURE)));
}

async function runClient(relayPort: number): Promise<void> {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    serveSocks(socket, relayPort).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: TARGET_HOST, backlog: BACKLOG }, resolve));
  process.stdout.write(`naive client ${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
}

const [role, relayPort] = process.argv.slice(2);
if (role === 'relay') await runRelay();
else if (role === 'client' && Number(relayPort) > 0) await runClient(Number(relayPort));
else throw new Error('usage: naive-tunnel.js relay | naive-tunnel.js client RELAY_PORT');
