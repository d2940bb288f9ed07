/**
 * UDP ASSOCIATE on the relay: one UDP socket per address family, created on first use,
 * sending each datagram to its destination (names resolved here) and passing replies back
 * with their source address. By default only from an address and port the client has sent
 * to, as a port-restricted NAT does: otherwise anyone who learns the socket's port could
 * send into the client's association.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UDP_RECEIVE_BUFFER_BYTES, type Address } from '../../protocol/frame.js';
import type { DestinationPolicy } from '../policy/destination-policy.js';

type Family = 4 | 6;

/** Which sources may send into an association: those the client sent to, or any. */
export type UdpReplyFilter = 'contacted' | 'any';
export const UDP_REPLY_FILTERS: readonly UdpReplyFilter[] = ['contacted', 'any'];

/** Destinations remembered per association; beyond this the oldest is forgotten, so memory stays bounded. */
export const MAX_CONTACTED_PEERS = 4096;

export interface UdpAssociationEvents {
  /** A datagram from `source` for the client. */
  onReply(source: Address, payload: Buffer): void;
  /** A datagram could not be sent (name not resolved, socket error); it is dropped. */
  onDrop(destination: Address, reason: string): void;
  /** A datagram came from a source the client has not sent to, and the filter dropped it. */
  onForeignReply(source: Address): void;
}

export class UdpAssociation {
  private readonly sockets = new Map<Family, UdpSocket>();
  private closed = false;
  /** "ip|port" of every destination the client sent to, oldest first (a Map keeps insertion order). */
  private readonly contacted = new Map<string, true>();
  datagramsSent = 0;
  datagramsReceived = 0;
  foreignRepliesDropped = 0;

  constructor(
    private readonly events: UdpAssociationEvents,
    private readonly policy: DestinationPolicy,
    private readonly replyFilter: UdpReplyFilter = 'contacted',
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
        this.remember(ip, destination.port);
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

  private remember(ip: string, port: number): void {
    const key = peerKey(ip, port);
    this.contacted.delete(key); // re-inserted as the newest
    this.contacted.set(key, true);
    if (this.contacted.size > MAX_CONTACTED_PEERS) this.contacted.delete(this.contacted.keys().next().value as string);
  }

  private accepts(source: Address): boolean {
    return this.replyFilter === 'any' || this.contacted.has(peerKey(source.host, source.port));
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
      const source = { host: remote.address, port: remote.port };
      if (!this.accepts(source)) {
        this.foreignRepliesDropped += 1;
        this.events.onForeignReply(source);
        return;
      }
      this.datagramsReceived += 1;
      this.events.onReply(source, payload);
    });
    socket.on('error', () => {}); // per-datagram failures are reported through send callbacks
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    if (this.closed) socket.close();
    return socket;
  }
}

/** Node prints addresses canonically (RFC 5952 for IPv6), and so does our resolver's output. */
function peerKey(ip: string, port: number): string {
  return `${ip}|${port}`;
}
