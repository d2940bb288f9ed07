/**
 * The least a SOCKS5 server can do (RFC 1928, no authentication, CONNECT to IPv4 or a name),
 * for the bench's reference routes: the naive tunnel's client and the SOCKS forwarder. The
 * load generator speaks one step at a time, so nothing arrives beyond what each step reads.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';

const SOCKS_VERSION = 0x05;
const NO_AUTH = 0x00;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
export const REP_SUCCEEDED = 0x00;
export const REP_FAILURE = 0x01;

/** Reads exactly `length` bytes; any beyond them go back to the socket. */
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

/** Answers the greeting and reads a CONNECT's destination, or null for anything else. */
export async function socksDestination(socket: Socket): Promise<{ host: string; port: number } | null> {
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

/** A reply with BND 0.0.0.0:0. */
export const socksReply = (code: number): Buffer => Buffer.of(SOCKS_VERSION, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0);
