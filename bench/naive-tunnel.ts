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
import { createWebSocketStream, WebSocket, WebSocketServer } from 'ws';
import { TARGET_HOST } from './route.js';

const SOCKS_VERSION = 0x05;
const NO_AUTH = 0x00;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const REP_SUCCEEDED = 0x00;
const REP_FAILURE = 0x01;
const BACKLOG = 16_384;

/** Joins a TCP socket and a WebSocket both ways, with backpressure, through pipe(). */
function pipeBoth(socket: Socket, ws: WebSocket): void {
  const duplex = createWebSocketStream(ws);
  socket.pipe(duplex).pipe(socket);
  duplex.on('error', () => socket.destroy());
  socket.on('error', () => duplex.destroy());
}

async function runRelay(): Promise<void> {
  const wss = new WebSocketServer({ host: TARGET_HOST, port: 0, perMessageDeflate: false, backlog: BACKLOG });
  await once(wss, 'listening');
  wss.on('connection', (ws, req) => {
    const query = new URL(req.url ?? '/', 'http://relay').searchParams;
    const target = connect({ host: query.get('host') ?? TARGET_HOST, port: Number(query.get('port')), noDelay: true });
    target.once('connect', () => pipeBoth(target, ws));
    target.once('error', () => ws.terminate());
  });
  process.stdout.write(`naive relay ${JSON.stringify({ port: (wss.address() as AddressInfo).port })}\n`);
}

/** Reads exactly `length` bytes (the load generator speaks one step at a time, so no more arrive). */
async function readExactly(socket: Socket, length: number): Promise<Buffer> {
  let held = Buffer.alloc(0);
  while (held.length < length) {
    const chunk = socket.read() as Buffer | null;
    if (chunk) held = Buffer.concat([held, chunk]);
    else await once(socket, 'readable');
  }
  if (held.length > length) socket.unshift(held.subarray(length));
  return held.subarray(0, length);
}

/** A SOCKS5 CONNECT's destination (RFC 1928 §4), or null for anything this minimal server does not take. */
async function socksDestination(socket: Socket): Promise<{ host: string; port: number } | null> {
  const [version, methods] = await readExactly(socket, 2);
  await readExactly(socket, methods);
  if (version !== SOCKS_VERSION) return null;
  socket.write(Buffer.of(SOCKS_VERSION, NO_AUTH));
  const [, command, , addressType] = await readExactly(socket, 4);
  if (command !== CMD_CONNECT) return null;
  let host: string;
  if (addressType === ATYP_IPV4) host = [...(await readExactly(socket, 4))].join('.');
  else if (addressType === ATYP_DOMAIN) host = (await readExactly(socket, (await readExactly(socket, 1))[0])).toString('latin1');
  else return null;
  return { host, port: (await readExactly(socket, 2)).readUInt16BE(0) };
}

const reply = (code: number): Buffer => Buffer.of(SOCKS_VERSION, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0);

async function serveSocks(socket: Socket, relayPort: number): Promise<void> {
  const destination = await socksDestination(socket);
  if (!destination) return void socket.end(reply(REP_FAILURE));
  const ws = new WebSocket(`ws://${TARGET_HOST}:${relayPort}/?host=${encodeURIComponent(destination.host)}&port=${destination.port}`, { perMessageDeflate: false });
  ws.once('open', () => {
    socket.write(reply(REP_SUCCEEDED));
    pipeBoth(socket, ws);
  });
  ws.once('error', () => socket.end(reply(REP_FAILURE)));
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
