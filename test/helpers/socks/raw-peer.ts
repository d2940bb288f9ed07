/**
 * A hand-driven TCP peer for SOCKS tests and a reader for the SOCKS5 replies it receives
 * (the bytes it sends come from socks-encoder.ts). Everything received is kept, so a read
 * can never miss bytes that arrived early.
 */
import { connect } from 'node:net';
import ipaddr from 'ipaddr.js';
import { READER_WAIT_MS, SocketReader } from '../io/socket-reader.js';
import { ATYP_DOMAIN, ATYP_IPV4, ATYP_IPV6, SOCKS5_VERSION } from './socks-encoder.js';

export const WAIT_MS = READER_WAIT_MS;

/** A socket the test drives by hand: writes, one-byte trickles, and everything received kept. */
export class RawPeer extends SocketReader {
  /** Connects to 127.0.0.1:port with Nagle off, so each write leaves as its own segment. */
  static connect(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, noDelay: true }, () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Sends `bytes` one byte per write, `delayMs` apart. */
  async trickle(bytes: Buffer, delayMs: number): Promise<void> {
    for (const byte of bytes) {
      this.write(Buffer.of(byte));
      await sleep(delayMs);
    }
  }

  /** The proxy has closed its side, by FIN or by closing the socket outright. */
  override get isEnded(): boolean {
    return super.isEnded || this.isClosed;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Socks5Reply {
  reply: number;
  host: string;
  port: number;
  bytes: Buffer;
}

/** Reads one SOCKS5 reply (VER REP RSV ATYP BND.ADDR BND.PORT), whatever its address type. */
export async function readSocks5Reply(peer: RawPeer, timeoutMs = WAIT_MS): Promise<Socks5Reply> {
  const head = await peer.read(4, timeoutMs);
  if (head[0] !== SOCKS5_VERSION) throw new Error(`reply version 0x${head[0].toString(16)} (${head.toString('hex')})`);
  let host: string;
  let rest: Buffer;
  if (head[3] === ATYP_IPV4) {
    rest = await peer.read(4 + 2, timeoutMs);
    host = ipaddr.fromByteArray([...rest.subarray(0, 4)]).toString();
  } else if (head[3] === ATYP_IPV6) {
    rest = await peer.read(16 + 2, timeoutMs);
    host = ipaddr.fromByteArray([...rest.subarray(0, 16)]).toString();
  } else if (head[3] === ATYP_DOMAIN) {
    const length = (await peer.read(1, timeoutMs))[0];
    rest = Buffer.concat([Buffer.from([length]), await peer.read(length + 2, timeoutMs)]);
    host = rest.toString('latin1', 1, 1 + length);
  } else {
    throw new Error(`reply ATYP 0x${head[3].toString(16)}`);
  }
  return { reply: head[1], host, port: rest.readUInt16BE(rest.length - 2), bytes: Buffer.concat([head, rest]) };
}

// ---- randomness for fuzz-style tests ----

export { seededRandom } from '../fixtures/seeded-random.js';

export function randomBuffer(random: () => number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = Math.floor(random() * 256);
  return buf;
}
