/**
 * A raw DNS client for tests: one query over UDP, or a TCP connection that pipelines
 * length-prefixed queries (RFC 7766 §6.2.1.1) and reads answers in the order they come.
 */
import type { Socket } from 'node:net';
import { connectTcp } from './socket-io.js';
import { SocketReader } from './socket-reader.js';
import { UdpInbox, UDP_WAIT_MS } from './udp-io.js';

const TCP_LENGTH_PREFIX = 2;

/** Sends `query` to 127.0.0.1:`port` from a fresh socket and returns the one datagram that answers it. */
export async function udpExchange(port: number, query: Buffer, timeoutMs = UDP_WAIT_MS): Promise<Buffer> {
  const inbox = await UdpInbox.bind('127.0.0.1');
  try {
    await inbox.send(query, port, '127.0.0.1');
    return (await inbox.next(timeoutMs)).data;
  } finally {
    inbox.close();
  }
}

export class TcpDnsConnection {
  private constructor(
    readonly socket: Socket,
    private readonly reader: SocketReader,
  ) {}

  static async open(port: number): Promise<TcpDnsConnection> {
    const socket = await connectTcp(port);
    return new TcpDnsConnection(socket, new SocketReader(socket));
  }

  /** Writes `query` with its length in front; `raw` writes bytes as given. */
  send(query: Buffer): void {
    const length = Buffer.alloc(TCP_LENGTH_PREFIX);
    length.writeUInt16BE(query.length, 0);
    this.socket.write(Buffer.concat([length, query]));
  }

  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async next(timeoutMs = UDP_WAIT_MS): Promise<Buffer> {
    const length = (await this.reader.read(TCP_LENGTH_PREFIX, timeoutMs)).readUInt16BE(0);
    return this.reader.read(length, timeoutMs);
  }

  /** Resolves once the listener ended or closed the connection. */
  waitEnd(timeoutMs = UDP_WAIT_MS): Promise<void> {
    return this.reader.waitEnd(timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}
