/**
 * The client's end of a UDP association: a UDP socket beside the SOCKS listener that
 * takes datagrams from the SOCKS client only, unwraps them onto the tunnel, and wraps
 * the relay's datagrams back with their source address. A datagram to a destination a
 * --block rule refuses never leaves the machine, as a blocked CONNECT does not.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { UDP_RECEIVE_BUFFER_BYTES, type Address } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';
import { encodeUdpDatagram, parseUdpDatagram, UDP_FRAG_NONE } from './udp-header.js';

export interface UdpRelayCounters {
  forwarded: number;
  returned: number;
  droppedForeign: number;
  droppedFragment: number;
  droppedMalformed: number;
  droppedCongested: number;
  /** Datagrams whose frame would exceed the relay's frame-size limit (its --max-frame-size). */
  droppedTooLarge: number;
  /** Datagrams to a destination a --block rule refuses. */
  droppedBlocked: number;
}

/** What the association asks of the client around it; each listener is told once per association. */
export interface UdpRelayHooks {
  /** A datagram does not fit the relay's frame-size limit. */
  onTooLarge?(payloadBytes: number, limit: number): void;
  /** The --block rule that refuses `destination`, or null. */
  blockedBy?(destination: Address): string | null;
  /** A datagram to `destination` was dropped for `rule`. */
  onBlocked?(destination: Address, rule: string): void;
}

export class UdpRelay {
  readonly counters: UdpRelayCounters = { forwarded: 0, returned: 0, droppedForeign: 0, droppedFragment: 0, droppedMalformed: 0, droppedCongested: 0, droppedTooLarge: 0, droppedBlocked: 0 };
  /** Where the SOCKS client sends from: learnt from its first datagram unless the request named it. */
  private clientPort: number;
  private closed = false;
  private lastActivity = performance.now();

  private constructor(
    private readonly socket: UdpSocket,
    private readonly clientHost: string,
    expectedPort: number,
    private readonly session: Session,
    private readonly stream: Stream,
    private readonly hooks: UdpRelayHooks,
  ) {
    this.clientPort = expectedPort;
    socket.on('message', (msg, from) => this.fromClient(msg, from.address, from.port));
    socket.on('error', () => {});
    stream.onDatagram = (source, payload) => this.fromRelay(source, payload);
  }

  /** Binds next to the SOCKS listener; `expectedPort` 0 accepts any port from the client's IP. */
  static async open(
    listenHost: string,
    clientHost: string,
    expectedPort: number,
    session: Session,
    stream: Stream,
    hooks: UdpRelayHooks = {},
  ): Promise<UdpRelay> {
    const socket = createSocket({ type: isIPv6(listenHost) ? 'udp6' : 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER_BYTES });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, listenHost, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpRelay(socket, clientHost, expectedPort, session, stream, hooks);
  }

  get address(): Address {
    const { address, port } = this.socket.address();
    return { host: address, port };
  }

  get idleMs(): number {
    return Math.round(performance.now() - this.lastActivity);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.onDatagram = null;
    this.socket.close();
  }

  private fromClient(msg: Buffer, host: string, port: number): void {
    if (host !== this.clientHost || (this.clientPort !== 0 && port !== this.clientPort)) {
      this.counters.droppedForeign += 1;
      return;
    }
    this.clientPort = port;
    const datagram = parseUdpDatagram(msg);
    if (!datagram) {
      this.counters.droppedMalformed += 1;
      return;
    }
    if (datagram.frag !== UDP_FRAG_NONE) {
      this.counters.droppedFragment += 1;
      return;
    }
    // Checked one by one, so a --block reloaded by SIGHUP holds at once; a blocked datagram keeps nothing alive.
    const rule = this.hooks.blockedBy?.(datagram.address) ?? null;
    if (rule !== null) {
      if (this.counters.droppedBlocked === 0) this.hooks.onBlocked?.(datagram.address, rule);
      this.counters.droppedBlocked += 1;
      return;
    }
    this.lastActivity = performance.now();
    if (!this.session.datagramFits(datagram.address, datagram.payload)) {
      // Sending it would end the whole tunnel; UDP may lose a datagram, so this one is lost.
      if (this.counters.droppedTooLarge === 0) this.hooks.onTooLarge?.(datagram.payload.length, this.session.peerMaxFrameSize);
      this.counters.droppedTooLarge += 1;
      return;
    }
    if (this.session.sendDatagram(this.stream, datagram.address, datagram.payload)) this.counters.forwarded += 1;
    else this.counters.droppedCongested += 1;
  }

  private fromRelay(source: Address, payload: Buffer): void {
    if (this.closed || this.clientPort === 0) return; // nowhere to deliver yet
    this.lastActivity = performance.now();
    this.counters.returned += 1;
    this.socket.send(encodeUdpDatagram(source, payload), this.clientPort, this.clientHost);
  }
}
