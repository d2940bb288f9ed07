/**
 * BIND through a SOCKS listener with the `socks` package, as an active-FTP client would
 * use it: the first reply says where the proxy listens, the second who connected. The
 * control socket allows half-open, so each direction can be ended alone.
 */
import type { Socket } from 'node:net';
import { SocksClient, type SocksRemoteHost } from 'socks';
import { connectTcp } from '../io/socket-io.js';
import { withTimeout } from '../io/waiting.js';

export const BIND_WAIT_MS = 5_000;

export interface BindAttempt {
  /** The SOCKS control socket (later the relaying socket). Destroy it to abandon the BIND. */
  socket: Socket;
  /** First reply: where the relay listens for the application server. */
  bound(timeoutMs?: number): Promise<SocksRemoteHost>;
  /** Second reply: the application server's address; rejects with the socks package's error. */
  established(timeoutMs?: number): Promise<SocksRemoteHost>;
  close(): void;
}

/** Starts a BIND naming `destination` (the host expected to connect). */
export async function socksBind(socksPort: number, type: 4 | 5, destination: { host: string; port: number }): Promise<BindAttempt> {
  const socket = await connectTcp(socksPort);
  socket.on('error', () => {}); // the socks package reports errors through its own 'error' event
  const client = new SocksClient({
    proxy: { host: '127.0.0.1', port: socksPort, type },
    command: 'bind',
    destination,
    existing_socket: socket,
  });
  const bound = new Promise<SocksRemoteHost>((resolve, reject) => {
    client.once('bound', (info) => {
      if (info.remoteHost) resolve(info.remoteHost);
      else reject(new Error('first reply without an address'));
    });
    client.once('error', reject);
  });
  const established = new Promise<SocksRemoteHost>((resolve, reject) => {
    client.once('established', (info) => {
      if (info.remoteHost) resolve(info.remoteHost);
      else reject(new Error('second reply without an address'));
    });
    client.once('error', reject);
  });
  bound.catch(() => {});
  established.catch(() => {}); // a test that never awaits a reply must not crash the run
  client.connect(socket);
  return {
    socket,
    bound: (timeoutMs = BIND_WAIT_MS) => withTimeout(bound, { what: 'the first BIND reply', timeoutMs }),
    established: (timeoutMs = BIND_WAIT_MS) => withTimeout(established, { what: 'the second BIND reply', timeoutMs }),
    close: () => socket.destroy(),
  };
}
