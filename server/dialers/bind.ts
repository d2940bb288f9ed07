/**
 * BIND on the relay (RFC 1928 §4, SOCKS4 note): listen for exactly one incoming
 * connection, on a port in the allowed range, for a bounded time.
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { TIMED_OUT } from '../../common/errno-replies.js';
import type { PortRange } from '../../common/port-range.js';
import type { Address } from '../../protocol/frame.js';
import { ErrorReason } from '../status/error-reasons.js';
import { DialError } from './connect.js';

/** The code `accepted` rejects with when the listener was closed before a peer came: nothing failed. */
export const BIND_CANCELED = 'ECANCELED';

export interface BindOptions {
  /** Address announced in the first reply; null: the local address the listener is on. */
  publicAddress: string | null;
  /** Ports the listener may use; null: any free port. */
  ports: PortRange | null;
  /** How long to wait for the one incoming connection. */
  acceptTimeoutMs: number;
}

export interface BindListener {
  /** Where the listener is, as announced to the client. */
  announced: Address;
  /** The one accepted connection; rejects with ETIMEDOUT when nobody came. */
  accepted: Promise<Socket>;
  /** Stops listening (idempotent); a pending `accepted` rejects. */
  close(): void;
}

/**
 * Opens the listener on the local address the relay uses toward `expectedPeer`
 * (the "outbound side"), or on `fallbackHost` when the peer is unspecified.
 */
export async function openBindListener(expectedPeer: Address, fallbackHost: string, options: BindOptions): Promise<BindListener> {
  const host = (await localAddressToward(expectedPeer.host)) ?? fallbackHost;
  const server = await listenInRange(host, options.ports);
  const port = (server.address() as { port: number }).port;
  let settle: { resolve: (socket: Socket) => void; reject: (err: Error) => void };
  const accepted = new Promise<Socket>((resolve, reject) => {
    settle = { resolve, reject };
  });
  accepted.catch(() => {}); // the caller may have stopped waiting
  const close = (): void => {
    clearTimeout(timer);
    server.close();
    settle.reject(new DialError(BIND_CANCELED, 'bind listener closed'));
  };
  const timer = setTimeout(() => {
    server.close();
    settle.reject(new DialError(TIMED_OUT, `no connection within ${options.acceptTimeoutMs} ms`));
  }, options.acceptTimeoutMs);
  server.on('error', (err) => {
    // An accept failure (e.g. EMFILE) ends this BIND, never the relay.
    clearTimeout(timer);
    server.close();
    settle.reject(new DialError((err as NodeJS.ErrnoException).code ?? ErrorReason.UnknownDialError, err.message));
  });
  server.once('connection', (socket) => {
    clearTimeout(timer);
    server.close(); // one connection per BIND
    settle.resolve(socket);
  });
  return { announced: { host: options.publicAddress ?? host, port }, accepted, close };
}

/** The local IP the kernel would route from toward `peerHost`; null when it names no address. */
async function localAddressToward(peerHost: string): Promise<string | null> {
  const family = isIP(peerHost);
  if (family === 0 || isUnspecified(peerHost)) return null;
  const probe = createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    // connect() on UDP sends nothing; it only asks the kernel for a route.
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.connect(DISCARD_PORT, peerHost, () => resolve());
    });
    return probe.address().address;
  } catch {
    return null;
  } finally {
    probe.close();
  }
}

const DISCARD_PORT = 9;

export function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || /^0+(\.0+){3}$/.test(host);
}

async function listenInRange(host: string, ports: PortRange | null): Promise<Server> {
  if (!ports) return listenOn(host, 0);
  const span = ports.high - ports.low + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i += 1) {
    try {
      return await listenOn(host, ports.low + ((start + i) % span));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new DialError('EADDRINUSE', `no free port in ${ports.low}-${ports.high}`);
}

function listenOn(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}
