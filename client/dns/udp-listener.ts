/**
 * DNS over UDP on --dns-listen: one datagram in, one out. Each answer is cut to what the
 * requester accepts (512 bytes, or its EDNS0 size) with TC set, so it asks again over TCP.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../../common/log.js';
import type { Address } from '../../protocol/frame.js';
import type { DnsForwarder } from './forwarder.js';
import { isQuery, truncateForUdp, udpPayloadLimit } from './message.js';

export interface UdpDnsListener {
  address: Address;
  close(): Promise<void>;
}

export async function startUdpListener(listenOn: Address, forwarder: DnsForwarder, logger: Logger): Promise<UdpDnsListener> {
  const socket = createSocket(isIPv6(listenOn.host) ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(listenOn.port, listenOn.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  let closed = false;
  socket.on('error', (err) => logger.warn('DNS UDP socket error', { error: err.message }));
  socket.on('message', (query, from) => {
    if (!forwarder.isAccepting) return;
    if (!isQuery(query)) {
      forwarder.counters.malformed += 1;
      return;
    }
    void forwarder.answer(query, 'udp').then((answer) => {
      if (!closed) reply(socket, forwarder, answer, udpPayloadLimit(query), from);
    });
  });
  const bound = socket.address();
  return {
    address: { host: bound.address, port: bound.port },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

function reply(socket: Socket, forwarder: DnsForwarder, answer: Buffer, limit: number, to: RemoteInfo): void {
  const { message, truncated } = truncateForUdp(answer, limit);
  if (truncated) forwarder.counters.truncated += 1;
  socket.send(message, to.port, to.address);
}
