/**
 * Dialing through the SOCKS listener as an application would: with the `socks` npm package
 * (an independent client), over a socket that allows half-open so each direction can end
 * alone; and a raw SOCKS5 CONNECT that reports the exact REP byte for failure tests.
 */
import type { Socket } from 'node:net';
import { SocksClient } from 'socks';
import { connectTcp, readBytes } from '../io/socket-io.js';
import { CMD_CONNECT, greeting, METHOD_NO_AUTH, methodSelection, SOCKS5_VERSION, socks5Request } from './socks-encoder.js';

/** VER REP RSV ATYP + IPv4 address + port, the shape of every reply this client sends. */
const SOCKS5_IPV4_REPLY_LENGTH = 10;

/** A CONNECT through the SOCKS5 listener at `socksPort`; resolves with the relaying socket. */
export async function socksConnect(socksPort: number, port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<Socket> {
  const socket = await connectTcp(socksPort);
  try {
    const { socket: established } = await SocksClient.createConnection({
      proxy: { host: '127.0.0.1', port: socksPort, type: 5 },
      command: 'connect',
      destination: { host, port },
      existing_socket: socket,
      timeout: timeoutMs,
    });
    return established;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

export interface RawSocks5Result {
  /** The REP byte of the reply. */
  rep: number;
  /** Still open on success. */
  socket: Socket;
  /** Resolves when the proxy ends or closes the connection (watched from the start, so never missed). */
  ended: Promise<void>;
}

/**
 * A hand-written SOCKS5 CONNECT to 127.0.0.1:`port`; resolves with the REP byte of the reply.
 * Rejects when no complete reply comes in time.
 */
export async function rawSocks5Connect(socksPort: number, port: number, timeoutMs = 10_000): Promise<RawSocks5Result> {
  const socket = await connectTcp(socksPort);
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => {
    socket.once('end', resolve);
    socket.once('close', resolve);
  });
  try {
    socket.write(greeting(METHOD_NO_AUTH));
    const selection = await readBytes(socket, 2, timeoutMs);
    if (!selection.equals(methodSelection(METHOD_NO_AUTH))) throw new Error(`method selection ${selection.toString('hex')}`);
    socket.write(socks5Request(CMD_CONNECT, '127.0.0.1', port));
    const reply = await readBytes(socket, SOCKS5_IPV4_REPLY_LENGTH, timeoutMs);
    if (reply[0] !== SOCKS5_VERSION) throw new Error(`reply version ${reply[0]}`);
    return { rep: reply[1], socket, ended };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}
