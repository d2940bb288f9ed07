/**
 * A hand-driven TCP peer for SOCKS tests, plus encoders for the messages a SOCKS client
 * sends, written independently of the product's encoders (RFC 1928, RFC 1929, SOCKS4/4a).
 * Everything received is kept, so a read can never miss bytes that arrived early.
 */
import { connect, isIPv4, isIPv6, type Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { READER_WAIT_MS, SocketReader } from '../io/socket-reader.js';

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

// ---- SOCKS5 (RFC 1928) and RFC 1929 ----

export const ATYP_IPV4 = 0x01;
export const ATYP_DOMAIN = 0x03;
export const ATYP_IPV6 = 0x04;

export const CMD_CONNECT = 0x01;
export const CMD_BIND = 0x02;
export const CMD_UDP_ASSOCIATE = 0x03;

/** VER NMETHODS METHODS */
export function greeting(...methods: number[]): Buffer {
  return Buffer.from([0x05, methods.length, ...methods]);
}

/** RFC 1929: VER(1) ULEN UNAME PLEN PASSWD */
export function userPass(username: string, password: string): Buffer {
  const user = Buffer.from(username, 'utf8');
  const pass = Buffer.from(password, 'utf8');
  return Buffer.concat([Buffer.from([0x01, user.length]), user, Buffer.from([pass.length]), pass]);
}

/** ATYP ADDR PORT, the ATYP chosen from the host's form. */
export function socks5Address(host: string, port: number): Buffer {
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  if (isIPv4(host) || isIPv6(host)) {
    const bytes = ipaddr.parse(host).toByteArray();
    return Buffer.concat([Buffer.from([isIPv4(host) ? ATYP_IPV4 : ATYP_IPV6, ...bytes]), portBytes]);
  }
  const name = Buffer.from(host, 'latin1');
  return Buffer.concat([Buffer.from([ATYP_DOMAIN, name.length]), name, portBytes]);
}

/** VER CMD RSV ATYP DST.ADDR DST.PORT */
export function socks5Request(command: number, host: string, port: number): Buffer {
  return Buffer.concat([Buffer.from([0x05, command, 0x00]), socks5Address(host, port)]);
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
  if (head[0] !== 0x05) throw new Error(`reply version 0x${head[0].toString(16)} (${head.toString('hex')})`);
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

// ---- SOCKS4 / 4a ----

export const SOCKS4_GRANTED = 90;
export const SOCKS4_REJECTED = 91;

/** VN CD DSTPORT DSTIP USERID NUL [DOMAIN NUL]; a domain makes it SOCKS4a (DSTIP 0.0.0.1). */
export function socks4Request(command: number, host: string, port: number, userId = ''): Buffer {
  const head = Buffer.alloc(8);
  head[0] = 0x04;
  head[1] = command;
  head.writeUInt16BE(port, 2);
  const isDomain = !isIPv4(host);
  Buffer.from(isDomain ? [0, 0, 0, 1] : ipaddr.parse(host).toByteArray()).copy(head, 4);
  const parts = [head, Buffer.from(userId, 'utf8'), Buffer.of(0)];
  if (isDomain) parts.push(Buffer.from(host, 'latin1'), Buffer.of(0));
  return Buffer.concat(parts);
}

// ---- randomness for fuzz-style tests ----

export { seededRandom } from '../fixtures/seeded-random.js';

export function randomBuffer(random: () => number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = Math.floor(random() * 256);
  return buf;
}
