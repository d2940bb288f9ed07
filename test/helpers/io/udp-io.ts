/**
 * UDP for tests: sockets on loopback, an inbox whose waits are bounded, an echo target,
 * a SOCKS5 UDP ASSOCIATE with the `socks` package, and a probe for a closed UDP port.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Socket } from 'node:net';
import { SocksClient, type SocksRemoteHost } from 'socks';
import { Waiters, waitFor, withTimeout } from './waiting.js';

export const UDP_WAIT_MS = 5_000;

export interface UdpMessage {
  data: Buffer;
  from: RemoteInfo;
}

/** A UDP socket bound on `host` (port 0) that keeps every datagram it receives until read. */
export class UdpInbox {
  private readonly queue: UdpMessage[] = [];
  private readonly waiters = new Waiters();
  /** Datagrams received in total (read or not). */
  count = 0;

  private constructor(readonly socket: UdpSocket) {
    socket.on('message', (data, from) => {
      this.count += 1;
      this.queue.push({ data, from });
      this.waiters.wake();
    });
    socket.on('error', () => {});
  }

  static async bind(host = '127.0.0.1'): Promise<UdpInbox> {
    return new UdpInbox(await bindUdp(host));
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Buffer, port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, port, host, (err) => (err ? reject(err) : resolve())));
  }

  /** The next datagram; rejects after `timeoutMs`. */
  async next(timeoutMs = UDP_WAIT_MS): Promise<UdpMessage> {
    await this.waiters.until(() => this.queue.length > 0, { what: 'a datagram', timeoutMs });
    return this.queue.shift()!;
  }

  /** Resolves when nothing arrives for `ms`; rejects with what arrived otherwise. */
  async expectSilence(ms: number): Promise<void> {
    const before = this.count;
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.count !== before) {
      const got = this.queue[this.queue.length - 1];
      throw new Error(`expected no datagram for ${ms} ms, got ${this.count - before} (last from ${got?.from.address}:${got?.from.port})`);
    }
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

export function bindUdp(host: string): Promise<UdpSocket> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export interface UdpEcho {
  host: string;
  port: number;
  /** Datagrams echoed so far. */
  count: number;
  /** Where the last datagram came from: the relay's UDP socket. */
  lastFrom: RemoteInfo | null;
  close(): void;
}

/** Sends every datagram back to where it came from. */
export async function startUdpEcho(host: string): Promise<UdpEcho> {
  const socket = await bindUdp(host);
  const echo: UdpEcho = {
    host,
    port: socket.address().port,
    count: 0,
    lastFrom: null,
    close: () => socket.close(),
  };
  socket.on('message', (data, from) => {
    echo.count += 1;
    echo.lastFrom = from;
    socket.send(data, from.port, from.address);
  });
  socket.on('error', () => {});
  return echo;
}

export interface Association {
  /** The TCP control connection; the association lives as long as it does. */
  control: Socket;
  /** BND.ADDR/BND.PORT of the reply: where to send datagrams. */
  relay: SocksRemoteHost;
}

/** SOCKS5 UDP ASSOCIATE announcing `declared` as the client's UDP address (0.0.0.0:0: not known yet). */
export async function socksAssociate(
  socksPort: number,
  declared: { host: string; port: number },
  socksHost = '127.0.0.1',
  timeoutMs = UDP_WAIT_MS,
): Promise<Association> {
  const client = new SocksClient({ proxy: { host: socksHost, port: socksPort, type: 5 }, command: 'associate', destination: declared, timeout: timeoutMs });
  const established = new Promise<Association>((resolve, reject) => {
    client.once('established', (info) => {
      info.socket.on('error', () => {});
      if (info.remoteHost) resolve({ control: info.socket, relay: info.remoteHost });
      else reject(new Error('associate reply without an address'));
    });
    client.once('error', reject);
  });
  client.connect();
  return withTimeout(established, { what: 'the UDP ASSOCIATE reply', timeoutMs });
}

/**
 * Resolves once a UDP port on loopback is closed: a connected UDP socket learns of the
 * ICMP port-unreachable as ECONNREFUSED (Linux). Rejects if it stays open for `timeoutMs`.
 */
export async function waitUdpPortClosed(host: string, port: number, timeoutMs = UDP_WAIT_MS): Promise<void> {
  await waitFor(() => udpPortRefuses(host, port), { what: `UDP port ${host}:${port} to close`, timeoutMs, intervalMs: UDP_PROBE_INTERVAL_MS });
}

const PROBE_ANSWER_MS = 200;
const UDP_PROBE_INTERVAL_MS = 50;

/** True when a probe datagram to host:port draws ECONNREFUSED within a moment. */
function udpPortRefuses(host: string, port: number): Promise<boolean> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), PROBE_ANSWER_MS);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ECONNREFUSED');
    });
    // ATYP 0xff: should the port still be a live relay, it drops this as malformed.
    socket.connect(port, host, () => socket.send(Buffer.from([0xff, 0xff, 0xff, 0xff])));
  }).finally(() => socket.close());
}

/** True when this machine can bind on ::1. */
export function ipv6LoopbackAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}
