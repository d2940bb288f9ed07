/**
 * A minimal SOCKS5 CONNECT client (RFC 1928), written apart from the product so the bench
 * measures it from outside. It does what an ordinary client does, one step at a time:
 * greeting, wait for the method choice, request, wait for the reply. No pipelining.
 */
import { isIPv4 } from 'node:net';
import type { Socket } from 'node:net';
import { connectTcp, readExactly } from './net-io.js';

const SOCKS_VERSION_5 = 0x05;
const METHOD_NO_AUTH = 0x00;
const CMD_CONNECT = 0x01;
const RSV = 0x00;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAINNAME = 0x03;
const ATYP_IPV6 = 0x04;
const REP_SUCCEEDED = 0x00;
const IPV4_BYTES = 4;
const IPV6_BYTES = 16;
const PORT_BYTES = 2;

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

/** Connects to the proxy and asks it for `target`; resolves with the socket ready for data. */
export async function socks5Connect(proxy: HostPort, target: HostPort, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const socket = await connectTcp(proxy.host, proxy.port, left());
  try {
    // §3: version, one method offered: no authentication.
    socket.write(Buffer.from([SOCKS_VERSION_5, 1, METHOD_NO_AUTH]));
    const choice = await readExactly(socket, 2, left());
    if (choice[0] !== SOCKS_VERSION_5 || choice[1] !== METHOD_NO_AUTH) {
      throw new Error(`proxy chose method 0x${choice[1].toString(16)} (version ${choice[0]})`);
    }
    // §4: CONNECT to an IPv4 address.
    socket.write(encodeConnectRequest(target));
    // §6: VER REP RSV ATYP, then the bound address; its length depends on ATYP.
    const head = await readExactly(socket, 4, left());
    if (head[0] !== SOCKS_VERSION_5) throw new Error(`reply version ${head[0]}`);
    if (head[1] !== REP_SUCCEEDED) throw new SocksReplyError(head[1]);
    await readExactly(socket, await boundAddressLength(socket, head[3], left()), left());
    return socket;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function encodeConnectRequest(target: HostPort): Buffer {
  if (!isIPv4(target.host)) throw new Error(`bench targets are IPv4 literals, got ${target.host}`);
  const request = Buffer.alloc(4 + IPV4_BYTES + PORT_BYTES);
  request.set([SOCKS_VERSION_5, CMD_CONNECT, RSV, ATYP_IPV4]);
  request.set(target.host.split('.').map(Number), 4);
  request.writeUInt16BE(target.port, 4 + IPV4_BYTES);
  return request;
}

/** Bytes still to read after the 4-byte head: address and port. */
async function boundAddressLength(socket: Socket, atyp: number, timeoutMs: number): Promise<number> {
  if (atyp === ATYP_IPV4) return IPV4_BYTES + PORT_BYTES;
  if (atyp === ATYP_IPV6) return IPV6_BYTES + PORT_BYTES;
  if (atyp === ATYP_DOMAINNAME) return (await readExactly(socket, 1, timeoutMs))[0] + PORT_BYTES;
  throw new Error(`reply with unknown ATYP 0x${atyp.toString(16)}`);
}
