/**
 * UDP ASSOCIATE on the relay: one UDP socket per address family, created on first use,
 * sending each datagram to its destination (names resolved here, through udp-names.ts) and
 * passing replies back with their source address. By default only from an address and port
 * the client has sent to, as a port-restricted NAT does: otherwise anyone who learns the
 * socket's port could send into the client's association.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { UDP_RECEIVE_BUFFER_BYTES, type Address } from '../../protocol/frame.js';
import type { DestinationPolicy } from '../policy/destination-policy.js';
import { UdpNameResolver, type Family, type NameLookup, type ResolvedAddress } from './udp-names.js';

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

export interface UdpAssociationOptions {
  /** Resolves destination names; Node's dns.lookup by default. */
  lookup?: NameLookup;
  /** The local address each family's socket binds (port 0); the unspecified address by default. */
  bindAddresses?: Partial<Record<Family, string>>;
}

export class UdpAssociation {
  private readonly sockets = new Map<Family, { socket: UdpSocket; bound: Promise<UdpSocket> }>();
  private closed = false;
  /** "ip|port" of every destination the client sent to, oldest first (a Map keeps insertion order). */
  private readonly contacted = new Map<string, true>();
  datagramsSent = 0;
  datagramsReceived = 0;
  foreignRepliesDropped = 0;
  /** Datagrams from the client that were not sent, each reported through onDrop. */
  datagramsDropped = 0;
  private readonly names: UdpNameResolver;

  constructor(
    private readonly events: UdpAssociationEvents,
    private readonly policy: DestinationPolicy,
    private readonly replyFilter: UdpReplyFilter = 'contacted',
    private readonly options: UdpAssociationOptions = {},
  ) {
    this.names = new UdpNameResolver(options.lookup);
  }

  /** The IPv4 socket's address: what the relay reports as BND in its answer. */
  async start(): Promise<Address> {
    const socket = await this.socketFor(4);
    const { address, port } = socket.address();
    return { host: address, port };
  }

  send(destination: Address, payload: Buffer): void {
    if (this.closed) return;
    this.forward(destination, payload).catch((err: NodeJS.ErrnoException) => this.drop(destination, err.code ?? err.message));
  }

  /** Releases both sockets and any datagram waiting for a name. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.names.close();
    for (const { socket } of this.sockets.values()) socket.close();
    this.sockets.clear();
  }

  private async forward(destination: Address, payload: Buffer): Promise<void> {
    const { ip, family } = await this.resolve(destination.host);
    const name = isIP(destination.host) === 0 ? destination.host : null;
    const decision = this.policy.decide({ name, ip, port: destination.port, command: 'udp' });
    if (!decision.allowed) return this.drop(destination, `refused by ${decision.rule}`);
    const socket = await this.socketFor(family);
    if (this.closed) return;
    this.remember(ip, destination.port);
    socket.send(payload, destination.port, ip, (err) => {
      if (err) this.drop(destination, err.message);
      else this.datagramsSent += 1;
    });
  }

  private drop(destination: Address, reason: string): void {
    if (this.closed) return; // nobody is listening any more
    this.datagramsDropped += 1;
    this.events.onDrop(destination, reason);
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

  private async resolve(host: string): Promise<ResolvedAddress> {
    const family = isIP(host);
    if (family !== 0) return { ip: host, family: family as Family };
    return this.names.resolve(host);
  }

  /** The family's socket once bound; datagrams that come while it binds wait for the same bind. */
  private socketFor(family: Family): Promise<UdpSocket> {
    let entry = this.sockets.get(family);
    if (!entry) {
      const socket = this.openSocket(family);
      entry = { socket, bound: this.bind(socket, family) };
      this.sockets.set(family, entry);
    }
    return entry.bound;
  }

  private openSocket(family: Family): UdpSocket {
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER_BYTES });
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
    return socket;
  }

  private bind(socket: UdpSocket, family: Family): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      // A failed bind (EMFILE, EADDRNOTAVAIL) comes only as 'error': bind's callback never runs.
      const failBind = (err: Error): void => {
        if (this.sockets.get(family)?.socket === socket) this.sockets.delete(family); // a later datagram may try again
        socket.close();
        reject(err);
      };
      socket.once('error', failBind);
      socket.bind(0, this.options.bindAddresses?.[family], () => {
        socket.off('error', failBind);
        // Send failures reach send's callback; a receive error loses one datagram, which UDP allows.
        socket.on('error', () => {});
        resolve(socket);
      });
    });
  }
}

/** Node prints addresses canonically (RFC 5952 for IPv6), and so does our resolver's output. */
function peerKey(ip: string, port: number): string {
  return `${ip}|${port}`;
}
