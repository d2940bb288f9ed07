/**
 * A minimal SOCKS5 client (RFC 1928), written apart from the product so the bench
 * measures it from outside. It does what an ordinary client does, one step at a time:
 * greeting, wait for the method choice, request, wait for the reply. No pipelining.
 * CONNECT, BIND (both replies) and UDP ASSOCIATE, plus the §7 UDP datagram header.
 */
import { isIPv4 } from 'node:net';
import type { Socket } from 'node:net';
import { connectTcp, readExactly } from './net-io.js';

const SOCKS_VERSION_5 = 0x05;
const METHOD_NO_AUTH = 0x00;
const CMD_CONNECT = 0x01;
const CMD_BIND = 0x02;
const CMD_UDP_ASSOCIATE = 0x03;
const RSV = 0x00;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAINNAME = 0x03;
const ATYP_IPV6 = 0x04;
const REP_SUCCEEDED = 0x00;
const IPV4_BYTES = 4;
const IPV6_BYTES = 16;
const PORT_BYTES = 2;
/** §7: RSV(2) FRAG(1) ATYP(1) DST.ADDR(4 for IPv4) DST.PORT(2). */
const UDP_HEADER_IPV4_BYTES = 2 + 1 + 1 + IPV4_BYTES + PORT_BYTES;
const UDP_FRAG_WHOLE = 0x00;

export class SocksReplyError extends Error {
  constructor(readonly reply: number) {
    super(`SOCKS5 reply 0x${reply.toString(16).padStart(2, '0')}`);
    this.name = 'SocksReplyError';
  }
}

export interface HostPort {
  host: string;
  port: number;
}

/** A time budget shared by the steps of one exchange. */
function budget(timeoutMs: number): () => number {
  const deadline = Date.now() + timeoutMs;
  return () => Math.max(1, deadline - Date.now());
}

/** Connects to the proxy and asks it for `target`; resolves with the socket ready for data. */
export async function socks5Connect(proxy: HostPort, target: HostPort, timeoutMs: number): Promise<Socket> {
  const left = budget(timeoutMs);
  const socket = await socks5Greet(proxy, left());
  try {
    socket.write(encodeRequest(CMD_CONNECT, target));
    await readReply(socket, left());
    return socket;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/**
 * TCP connect to the proxy, then §3: version, one method offered (no authentication),
 * wait for the choice. Resolves with the socket ready for a request.
 */
export async function socks5Greet(proxy: HostPort, timeoutMs: number): Promise<Socket> {
  const left = budget(timeoutMs);
  const socket = await connectTcp(proxy.host, proxy.port, left());
  try {
    socket.write(Buffer.from([SOCKS_VERSION_5, 1, METHOD_NO_AUTH]));
    const choice = await readExactly(socket, 2, left());
    if (choice[0] !== SOCKS_VERSION_5 || choice[1] !== METHOD_NO_AUTH) {
      throw new Error(`proxy chose method 0x${choice[1].toString(16)} (version ${choice[0]})`);
    }
    return socket;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** §4 BIND request for `expectedPeer` (0.0.0.0:0: anyone), on a greeted socket. */
export function sendBindRequest(socket: Socket, expectedPeer: HostPort): void {
  socket.write(encodeRequest(CMD_BIND, expectedPeer));
}

export interface UdpAssociation {
  /** The control connection: the association lives as long as it does (§7). */
  control: Socket;
  /** BND.ADDR:BND.PORT of the reply, where datagrams go. */
  relay: HostPort;
}

/**
 * §4 UDP ASSOCIATE: `from` is where our datagrams will come from (DST.ADDR/DST.PORT of the
 * request). Resolves with the control socket and the relay's UDP address.
 */
export async function socks5UdpAssociate(proxy: HostPort, from: HostPort, timeoutMs: number): Promise<UdpAssociation> {
  const left = budget(timeoutMs);
  const control = await socks5Greet(proxy, left());
  try {
    control.write(encodeRequest(CMD_UDP_ASSOCIATE, from));
    const relay = await readReply(control, left());
    // An unspecified BND.ADDR means "the address you reached me on" (common practice).
    if (relay.host === '0.0.0.0' || relay.host === '::') relay.host = proxy.host;
    return { control, relay };
  } catch (err) {
    control.destroy();
    throw err;
  }
}

/**
 * §6: VER REP RSV ATYP BND.ADDR BND.PORT. Resolves with BND.ADDR:BND.PORT; rejects with
 * SocksReplyError when REP is not "succeeded".
 */
export async function readReply(socket: Socket, timeoutMs: number): Promise<HostPort> {
  const left = budget(timeoutMs);
  const head = await readExactly(socket, 4, left());
  if (head[0] !== SOCKS_VERSION_5) throw new Error(`reply version ${head[0]}`);
  if (head[1] !== REP_SUCCEEDED) throw new SocksReplyError(head[1]);
  const atyp = head[3];
  if (atyp === ATYP_IPV4) {
    const rest = await readExactly(socket, IPV4_BYTES + PORT_BYTES, left());
    return { host: [...rest.subarray(0, IPV4_BYTES)].join('.'), port: rest.readUInt16BE(IPV4_BYTES) };
  }
  if (atyp === ATYP_IPV6) {
    const rest = await readExactly(socket, IPV6_BYTES + PORT_BYTES, left());
    const groups: string[] = [];
    for (let i = 0; i < IPV6_BYTES; i += 2) groups.push(rest.readUInt16BE(i).toString(16));
    return { host: groups.join(':'), port: rest.readUInt16BE(IPV6_BYTES) };
  }
  if (atyp === ATYP_DOMAINNAME) {
    const length = (await readExactly(socket, 1, left()))[0];
    const rest = await readExactly(socket, length + PORT_BYTES, left());
    return { host: rest.subarray(0, length).toString('latin1'), port: rest.readUInt16BE(length) };
  }
  throw new Error(`reply with unknown ATYP 0x${atyp.toString(16)}`);
}

function encodeRequest(command: number, target: HostPort): Buffer {
  if (!isIPv4(target.host)) throw new Error(`bench targets are IPv4 literals, got ${target.host}`);
  const request = Buffer.alloc(4 + IPV4_BYTES + PORT_BYTES);
  request.set([SOCKS_VERSION_5, command, RSV, ATYP_IPV4]);
  request.set(target.host.split('.').map(Number), 4);
  request.writeUInt16BE(target.port, 4 + IPV4_BYTES);
  return request;
}

/** The §7 header for a whole (unfragmented) datagram to an IPv4 destination. */
export function encodeUdpHeader(destination: HostPort): Buffer {
  if (!isIPv4(destination.host)) throw new Error(`bench targets are IPv4 literals, got ${destination.host}`);
  const header = Buffer.alloc(UDP_HEADER_IPV4_BYTES); // RSV 0x0000
  header[2] = UDP_FRAG_WHOLE;
  header[3] = ATYP_IPV4;
  header.set(destination.host.split('.').map(Number), 4);
  header.writeUInt16BE(destination.port, 4 + IPV4_BYTES);
  return header;
}

/**
 * Strips the §7 header from a datagram the proxy sent back; null when it is malformed,
 * fragmented, or shorter than its header claims.
 */
export function stripUdpHeader(datagram: Buffer): Buffer | null {
  if (datagram.length < 4 || datagram[0] !== 0 || datagram[1] !== 0 || datagram[2] !== UDP_FRAG_WHOLE) return null;
  let end: number;
  if (datagram[3] === ATYP_IPV4) end = 4 + IPV4_BYTES + PORT_BYTES;
  else if (datagram[3] === ATYP_IPV6) end = 4 + IPV6_BYTES + PORT_BYTES;
  else if (datagram[3] === ATYP_DOMAINNAME && datagram.length > 4) end = 5 + datagram[4] + PORT_BYTES;
  else return null;
  return datagram.length >= end ? datagram.subarray(end) : null;
}
