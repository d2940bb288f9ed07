/**
 * UDP ASSOCIATE on the relay: one UDP socket per address family, created on first use,
 * sending each datagram to its destination (names resolved here) and passing every
 * reply back with its source address.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UDP_RECEIVE_BUFFER_BYTES, type Address } from '../../protocol/frame.js';
import type { DestinationPolicy } from '../policy/destination-policy.js';

type Family = 4 | 6;

export interface UdpAssociationEvents {
  /** A datagram from `source` for the client. */
  onReply(source: Address, payload: Buffer): void;
  /** A datagram could not be sent (name not resolved, socket error); it is dropped. */
  onDrop(destination: Address, reason: string): void;
}

export class UdpAssociation {
  private readonly sockets = new Map<Family, UdpSocket>();
  private closed = false;
  datagramsSent = 0;
  datagramsReceived = 0;

  constructor(
    private readonly events: UdpAssociationEvents,
    private readonly policy: DestinationPolicy,
  ) {}

  /** The IPv4 socket's address: what the relay reports as BND in its answer. */
  async start(): Promise<Address> {
    const socket = await this.socketFor(4);
    const { address, port } = socket.address();
    return { host: address, port };
  }

  send(destination: Address, payload: Buffer): void {
    if (this.closed) return;
    void this.resolve(destination.host).then(
      async ({ ip, family }) => {
        const name = isIP(destination.host) === 0 ? destination.host : null;
        const decision = this.policy.decide({ name, ip, port: destination.port, command: 'udp' });
        if (!decision.allowed) {
          this.events.onDrop(destination, `refused by ${decision.rule}`);
          return;
        }
        const socket = await this.socketFor(family);
        if (this.closed) return;
        socket.send(payload, destination.port, ip, (err) => {
          if (err) this.events.onDrop(destination, err.message);
          else this.datagramsSent += 1;
        });
      },
      (err: NodeJS.ErrnoException) => this.events.onDrop(destination, err.code ?? err.message),
    );
  }

  /** Releases both sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }

  private async resolve(host: string): Promise<{ ip: string; family: Family }> {
    const family = isIP(host);
    if (family !== 0) return { ip: host, family: family as Family };
    const found = await lookup(host);
    return { ip: found.address, family: found.family as Family };
  }

  private async socketFor(family: Family): Promise<UdpSocket> {
    const existing = this.sockets.get(family);
    if (existing) return existing;
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER_BYTES });
    this.sockets.set(family, socket);
    socket.on('message', (payload, remote) => {
      this.datagramsReceived += 1;
      this.events.onReply({ host: remote.address, port: remote.port }, payload);
    });
    socket.on('error', () => {}); // per-datagram failures are reported through send callbacks
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    if (this.closed) socket.close();
    return socket;
  }
}
