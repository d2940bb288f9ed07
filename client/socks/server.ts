/**
 * The client's listener: one port for SOCKS and HTTP. The first byte of each connection says
 * which it is (SOCKS4 and 5 begin with their version, HTTP with a method name); SOCKS goes to
 * a SocksConnection, HTTP to the HTTP proxy, anything else is closed.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Address } from '../../protocol/frame.js';
import { drain } from '../../common/drain.js';
import { SocksConnection, type ConnectionDeps } from './connection.js';
import { SOCKS_VERSION_4, SOCKS_VERSION_5 } from './constants.js';
import { hexByte } from '../../common/hex-byte.js';
import { listen } from '../../common/listen.js';

/** Bursts of connects (a browser opening a page) must not overflow the accept queue; Node's default is 511. */
const LISTEN_BACKLOG = 4096;

/** What the listener hands HTTP connections to (client/http/proxy-server.ts). */
export interface HttpAcceptor {
  /** Takes a socket whose first bytes have been read and put back (unshift); its first request must be in within `handshakeLeftMs`. */
  accept(socket: Socket, handshakeLeftMs: number): void;
  /** Takes no more requests and closes keep-alive connections that wait for none, so a graceful stop need not wait for them. */
  close(): void;
}

export interface SocksServer {
  address: Address;
  /** Stops accepting; connections still open after `graceMs` are cut. */
  close(graceMs?: number): Promise<void>;
}

export async function startSocksServer(listenOn: Address, deps: ConnectionDeps, http: HttpAcceptor | null = null): Promise<SocksServer> {
  const sockets = new Set<Socket>();
  // allowHalfOpen: an application's FIN must travel to the target while replies still flow back.
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    awaitFirstByte(socket, deps, http);
  });
  await listen(server, listenOn, LISTEN_BACKLOG);
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    async close(graceMs = 0) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      http?.close();
      await drain(() => sockets.size === 0, graceMs);
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** The kinds of connection the first byte tells apart. */
type Protocol = 'socks' | 'http' | 'unknown';

/** SOCKS: the version byte (RFC 1928 §3, SOCKS4's VN); HTTP: a method, which is a token of letters in practice (RFC 9110 §9.1). */
function protocolOf(firstByte: number): Protocol {
  if (firstByte === SOCKS_VERSION_5 || firstByte === SOCKS_VERSION_4) return 'socks';
  return /[A-Za-z]/.test(String.fromCharCode(firstByte)) ? 'http' : 'unknown';
}

/**
 * Reads the first chunk, puts it back and hands the socket on. The handshake timeout runs
 * from accept, so a connection that never sends a byte is closed like a stalled handshake.
 */
function awaitFirstByte(socket: Socket, deps: ConnectionDeps, http: HttpAcceptor | null): void {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  const refuse = (why: string): void => {
    deps.logger.info(`connection refused: ${why}`, { peer });
    socket.destroy();
  };
  const acceptedAt = Date.now();
  const timer = setTimeout(() => refuse('nothing sent within the handshake timeout'), deps.handshakeTimeoutMs);
  const onEnd = (): void => {
    clearTimeout(timer);
    refuse('closed before sending anything');
  };
  socket.on('error', () => {}); // 'close' follows; each protocol reports its own errors
  socket.once('close', () => clearTimeout(timer)); // a reset before any byte, or close() destroying it
  socket.once('end', onEnd);
  socket.once('data', (chunk: Buffer) => {
    clearTimeout(timer);
    socket.off('end', onEnd);
    socket.pause();
    socket.unshift(chunk);
    const protocol = protocolOf(chunk[0]);
    // The SOCKS or HTTP handshake keeps the time that is left, so it still ends within the timeout of accept.
    const remainingMs = Math.max(1, deps.handshakeTimeoutMs - (Date.now() - acceptedAt));
    if (protocol === 'socks') new SocksConnection(socket, { ...deps, handshakeTimeoutMs: remainingMs });
    else if (protocol === 'http' && http !== null) http.accept(socket, remainingMs);
    else return refuse(`neither SOCKS nor HTTP (first byte ${hexByte(chunk[0])})`);
    socket.resume();
  });
}
