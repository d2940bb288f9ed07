/**
 * One Wisp TCP stream on the relay: the dialed target socket, the client's credit in
 * packets (protocol.md, "0x03 - CONTINUE"), and per-stream backpressure toward the page.
 * The session owns the WebSocket; this object only asks it to send.
 */
import type { Socket } from 'node:net';
import { Command } from '../../protocol/frame.js';
import type { SharedBufferReads } from '../../protocol/shared-read.js';
import type { StreamCounters } from '../status/open-observer.js';

/** A target that never reads must not hold a closed stream's socket: half a minute is generous. */
const FLUSH_ON_CLOSE_MS = 30_000;

/** The lifecycle, changed only in WispStream.moveTo. */
export const WispStreamState = {
  /** CONNECT received; dialing. */
  Opening: 'opening',
  Open: 'open',
  Closed: 'closed',
} as const;
export type WispStreamState = (typeof WispStreamState)[keyof typeof WispStreamState];

/** What a stream needs from its session. */
export interface WispStreamHost {
  /** Sends DATA for the stream; false: the stream is paused (its socket stops reading) until the session resumes it. */
  sendData(stream: WispStream, bytes: Uint8Array): boolean;
  /** The stream is paused because the page is not reading fast enough. */
  isPaused(stream: WispStream): boolean;
  /** The client may send `packets` more DATA on the stream. */
  grantCredit(stream: WispStream, packets: number): void;
  /** Tells the client the stream ended, with `reason`, and forgets it. */
  closeStream(stream: WispStream, reason: number): void;
  /** The bytes this stream holds for its target socket changed by `delta` (the connection keeps the sum). */
  pendingChanged(delta: number): void;
}

export class WispStream implements StreamCounters {
  state: WispStreamState = WispStreamState.Opening;
  bytesSent = 0;
  bytesReceived = 0;
  readonly openedAt = Date.now();
  /** DATA packets the client may still send, by the most generous reading of what it was told. */
  allowance: number;
  /** Packets taken from the client and not yet written out by the target socket. */
  pendingPackets = 0;
  pendingBytes = 0;
  /** Bytes of this stream's DATA handed to the WebSocket and not yet written to its socket. */
  inflightBytes = 0;
  private socket: Socket | null = null;
  /** A UDP stream's datagram sender, and where its datagrams go (the name resolved once). */
  private udp: { send(payload: Buffer): void; close(): void } | null = null;
  /** DATA that came while dialing (the spec lets a client send before the dial completes). */
  private early: Buffer[] = [];
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    readonly id: number,
    readonly command: Command,
    private readonly bufferPackets: number,
    private readonly host: WispStreamHost,
  ) {
    this.allowance = bufferPackets;
  }

  get isClosed(): boolean {
    return this.state === WispStreamState.Closed;
  }

  get isOpening(): boolean {
    return this.state === WispStreamState.Opening;
  }

  whenClosed(listener: () => void): void {
    if (this.isClosed) listener();
    else this.closeListeners.push(listener);
  }

  /** The dial succeeded: what came early is written, and the target's bytes flow to the page. */
  attach(socket: Socket, reads: SharedBufferReads, closeReasons: { ended: number; failed: number }): void {
    this.socket = socket;
    this.moveTo(WispStreamState.Open);
    for (const payload of this.early.splice(0)) this.write(payload);
    socket.on('end', () => this.host.closeStream(this, closeReasons.ended));
    socket.on('error', () => this.host.closeStream(this, closeReasons.failed));
    socket.on('close', () => this.host.closeStream(this, closeReasons.ended));
    reads.attach(socket, (view) => {
      if (this.isClosed) return false;
      this.bytesSent += view.length;
      return this.host.sendData(this, view);
    });
  }

  /**
   * A UDP stream: each DATA is one datagram, and a reply is one DATA back. "If the associated
   * stream is a UDP socket, then CONTINUE packets must not be sent" (0x03 - CONTINUE), so no
   * credit is counted; replies that find the page's buffer full are dropped, as UDP may be.
   */
  attachUdp(sender: { send(payload: Buffer): void; close(): void }): void {
    this.udp = sender;
    this.moveTo(WispStreamState.Open);
    for (const payload of this.early.splice(0)) sender.send(payload);
  }

  /** A datagram from the destination; false when it was dropped for a full buffer. */
  reply(payload: Buffer): boolean {
    if (this.isClosed || this.host.isPaused(this)) return false;
    this.bytesSent += payload.length;
    this.host.sendData(this, payload);
    return true;
  }

  /** One DATA from the client; false when it had no credit left (the caller closes the stream). */
  receive(payload: Buffer): boolean {
    if (this.command === Command.UdpAssociate) return this.receiveDatagram(payload);
    if (this.allowance <= 0) return false;
    this.allowance -= 1;
    this.bytesReceived += payload.length;
    this.pendingPackets += 1;
    this.pendingBytes += payload.length;
    this.host.pendingChanged(payload.length);
    if (this.socket === null) this.early.push(payload);
    else this.write(payload);
    return true;
  }

  /** The page caught up (the session no longer counts the stream as paused): the target socket reads again. */
  resume(): void {
    if (this.isClosed) return;
    this.socket?.resume();
  }

  private receiveDatagram(payload: Buffer): boolean {
    this.bytesReceived += payload.length;
    if (this.udp !== null) this.udp.send(payload);
    else if (this.early.length < this.bufferPackets) this.early.push(payload); // while the socket binds; beyond, dropped
    return true;
  }

  /** Ends the stream (idempotent). The target gets what the client already sent, then FIN. */
  close(): void {
    if (this.isClosed) return;
    // What a closed stream still holds no longer counts against the connection.
    this.host.pendingChanged(-this.pendingBytes);
    this.moveTo(WispStreamState.Closed);
    this.early = [];
    this.udp?.close();
    const socket = this.socket;
    if (socket !== null && !socket.destroyed) {
      socket.end(() => socket.destroy());
      const giveUp = setTimeout(() => socket.destroy(), FLUSH_ON_CLOSE_MS).unref();
      socket.once('close', () => clearTimeout(giveUp)); // else each closed stream holds its socket for the full wait
    }
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private write(payload: Buffer): void {
    this.socket?.write(payload, () => {
      this.pendingPackets -= 1;
      this.pendingBytes -= payload.length;
      if (!this.isClosed) this.host.pendingChanged(-payload.length);
      this.maybeGrant();
    });
  }

  /**
   * A CONTINUE once half the buffer is used and the socket took what it was given: the client
   * is told to send `buffer - pending` more. Its old remainder may still be in flight, so the
   * allowance grows by the grant rather than being reset: a client that counts right is never
   * accused, and the packets held stay under 1.5 buffers.
   */
  private maybeGrant(): void {
    if (this.isClosed || this.allowance > this.bufferPackets / 2) return;
    const grant = this.bufferPackets - this.pendingPackets;
    if (grant <= this.bufferPackets / 2) return;
    this.allowance += grant;
    this.host.grantCredit(this, grant);
  }

  private moveTo(next: WispStreamState): void {
    this.state = next;
  }
}
