/**
 * DNS over TCP on --dns-listen (RFC 7766): length-prefixed queries, pipelined if the client
 * likes, answered in the order the upstream answers them (§6.2.1.1 allows any order). A
 * client that stops reading stops being read; an idle one is closed (§6.2.3).
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Address } from '../../protocol/frame.js';
import type { DnsForwarder } from './forwarder.js';
import { isQuery } from './message.js';
import { DnsTcpReader, frameForTcp } from './tcp-framing.js';
import { listen } from '../../common/listen.js';

/** A connection with nothing in flight and nothing received for this long is closed. */
export const DNS_TCP_IDLE_MS = 30_000;

export interface TcpDnsListener {
  address: Address;
  close(): Promise<void>;
}

export async function startTcpListener(listenOn: Address, forwarder: DnsForwarder, idleMs = DNS_TCP_IDLE_MS): Promise<TcpDnsListener> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    if (!forwarder.isAccepting) return void socket.destroy();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, forwarder, idleMs);
  });
  await listen(server, listenOn);
  const bound = server.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    address: { host: bound.address, port: bound.port },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function serveConnection(socket: Socket, forwarder: DnsForwarder, idleMs: number): void {
  const reader = new DnsTcpReader();
  let outstanding = 0;
  let clientEnded = false;
  const endIfDone = (): void => {
    if (clientEnded && outstanding === 0 && !socket.writableEnded) socket.end();
  };
  socket.setTimeout(idleMs, () => {
    if (outstanding > 0 || socket.writableEnded) return;
    socket.end();
    // Half-open sockets: our FIN alone would leave a client that never answers it here for good.
    const giveUp = setTimeout(() => socket.destroy(), idleMs).unref();
    socket.once('close', () => clearTimeout(giveUp));
  });
  socket.on('error', () => {}); // 'close' follows; a client's reset is nothing to log
  socket.on('drain', () => socket.resume());
  socket.on('end', () => {
    clientEnded = true;
    endIfDone();
  });
  socket.on('data', (chunk: Buffer) => {
    if (!forwarder.isAccepting) return;
    for (const query of reader.push(chunk)) {
      if (!isQuery(query)) {
        forwarder.counters.malformed += 1;
        socket.destroy(); // framing can't be trusted after this
        return;
      }
      outstanding += 1;
      void forwarder.answer(query, 'tcp').then((answer) => {
        outstanding -= 1;
        if (socket.destroyed || socket.writableEnded) return;
        if (!socket.write(frameForTcp(answer))) socket.pause();
        endIfDone();
      });
    }
  });
}
