/**
 * One Wisp connection on the relay (protocol version 1, MercuryWorkshop/wisp-protocol
 * protocol.md): the first CONTINUE on stream 0 with the buffer size, then one handler per
 * packet type. Streams are dialed with the tunnel's dialer under the account's destination
 * policy and limits, and reported to the status model as the tunnel's streams are.
 */
import type { WebSocket } from 'ws';
import { ErrorReason } from '../status/error-reasons.js';
import { IdleSweep } from '../tunnel/idle-sweep.js';
import { StreamLimiter } from '../tunnel/limits.js';
import {
  decodeWispPacket, encodeWispClose, encodeWispContinue, encodeWispData, WispCloseReason, WispCodecError, WispPacketType,
  WISP_HANDSHAKE_STREAM, type WispClose, type WispConnect, type WispData, type WispPacket,
} from './codec.js';
import { openWispStream } from './open-stream.js';
import type { WispSessionOptions, WispStreamOpener } from './stream-opener.js';
import { WispStream } from './wisp-stream.js';
import { WS_CLOSE_GOING_AWAY } from '../../protocol/ws-close-codes.js';

/** Streams' DATA the WebSocket may hold unsent before the stream sending more is paused. */
export const WISP_CONNECTION_BUFFER_BYTES = 1024 * 1024;
/** One stream's share: a stream over it pauses even while the connection has room, so one download cannot crowd the rest out. */
export const WISP_STREAM_BUFFER_BYTES = 256 * 1024;


export class WispSession implements WispStreamOpener {
  readonly streams = new Map<number, WispStream>();
  readonly limiter: StreamLimiter;
  /** Bytes sent to and received from the page, for the status model. */
  bytesSent = 0;
  bytesReceived = 0;
  /** What all open streams hold for their target sockets (the sum of their pendingBytes). */
  private pendingBytes = 0;
  readonly rttMs = null;
  /** Streams whose sockets wait for the page to catch up (the WebSocket or their own share too full). */
  private readonly paused = new Set<WispStream>();
  private readonly idle: IdleSweep<WispStream> | null;
  private closed = false;
  /** The relay is draining: the connection ends once its last stream has. */
  private closingWhenIdle = false;
  private readonly keepalive: NodeJS.Timeout;
  private lastPongAt = performance.now();

  constructor(
    private readonly ws: WebSocket,
    readonly options: WispSessionOptions,
  ) {
    this.limiter = new StreamLimiter(options.limits);
    this.idle = this.sweepIdle();
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('close', () => this.teardown());
    ws.on('error', () => ws.terminate());
    ws.on('pong', () => (this.lastPongAt = performance.now()));
    this.keepalive = setInterval(() => this.ping(), options.keepaliveIntervalMs);
    this.keepalive.unref();
    // "Immediately after a websocket connection is established, the server must send a CONTINUE
    // packet containing the initial buffer size for each stream. The stream ID … must be set to 0." (Handshake Steps)
    this.send(encodeWispContinue(WISP_HANDSHAKE_STREAM, options.bufferPackets));
  }

  /** Ends the connection: every stream's socket is closed. Idempotent. */
  close(code = WS_CLOSE_GOING_AWAY): void {
    if (this.closed) return;
    this.ws.close(code);
    this.teardown();
  }

  /** A draining relay: open streams may finish (new CONNECTs are refused), then the connection closes (1001). */
  closeWhenIdle(): void {
    this.closingWhenIdle = true;
    if (this.streams.size === 0) this.close();
  }

  // ---- WispStreamHost ----

  sendData(stream: WispStream, bytes: Uint8Array): boolean {
    const packet = encodeWispData(stream.id, bytes);
    stream.inflightBytes += packet.length;
    this.send(packet, () => {
      stream.inflightBytes -= packet.length;
      this.resumePaused();
    });
    const flowing = stream.inflightBytes < WISP_STREAM_BUFFER_BYTES && this.ws.bufferedAmount < WISP_CONNECTION_BUFFER_BYTES;
    if (!flowing) this.paused.add(stream);
    return flowing;
  }

  isPaused(stream: WispStream): boolean {
    return this.paused.has(stream);
  }

  grantCredit(stream: WispStream, packets: number): void {
    this.send(encodeWispContinue(stream.id, packets));
  }

  closeStream(stream: WispStream, reason: number): void {
    if (stream.isClosed) return;
    // CLOSE goes out first: forgetting the last stream of a draining connection ends it.
    this.send(encodeWispClose(stream.id, reason));
    stream.close();
    this.forget(stream);
  }

  track(stream: WispStream): void {
    this.streams.set(stream.id, stream);
    stream.whenClosed(() => this.forget(stream));
  }

  // ---- packets from the page ----

  private onMessage(message: Buffer, isBinary: boolean): void {
    this.bytesReceived += message.length;
    if (!isBinary) return this.badPacket('a text message', null);
    let packet: WispPacket;
    try {
      packet = decodeWispPacket(message);
    } catch (err) {
      if (!(err instanceof WispCodecError)) throw err;
      return this.badPacket(err.message, err.streamId);
    }
    switch (packet.type) {
      case WispPacketType.Connect:
        return this.onConnect(packet);
      case WispPacketType.Data:
        return this.onData(packet);
      case WispPacketType.Close:
        return this.onClose(packet);
      case WispPacketType.Continue:
        return; // only the server sends CONTINUE ("0x03 - CONTINUE"); one from the client means nothing
      default:
        // Unknown types are ignored, not fatal: a version 2 client may send extension packets.
        this.options.logger.debug('wisp: unknown packet type ignored', { type: packet.packetType, stream: packet.streamId });
    }
  }

  private onConnect(packet: WispConnect): void {
    if (packet.streamId === WISP_HANDSHAKE_STREAM || this.streams.has(packet.streamId)) {
      return this.badPacket('CONNECT for stream 0 or for an open stream', null);
    }
    openWispStream(this, packet);
  }

  private onData(packet: WispData): void {
    const stream = this.streams.get(packet.streamId);
    if (stream === undefined) return; // a stream we already closed: its CLOSE and this DATA crossed
    if (stream.receive(packet.payload)) return this.checkPendingBytes();
    this.options.logger.warn('wisp stream closed: DATA beyond its credit', { stream: stream.id, buffer: this.options.bufferPackets });
    this.options.observer.countError(ErrorReason.WispCreditExceeded);
    this.closeStream(stream, WispCloseReason.Throttled);
  }

  /** "Any CLOSE packets … must immediately close the associated stream"; one for an unknown stream is ignored. */
  private onClose(packet: WispClose): void {
    const stream = this.streams.get(packet.streamId);
    if (stream === undefined) return;
    stream.close();
    this.forget(stream);
  }

  /** A malformed packet: the stream it names (if open) is closed with 0x41; the connection carries on. */
  private badPacket(why: string, streamId: number | null): void {
    this.options.logger.warn('wisp: bad packet', { why, stream: streamId });
    this.options.observer.countError(ErrorReason.WispBadPacket);
    const stream = streamId === null ? undefined : this.streams.get(streamId);
    if (stream !== undefined) this.closeStream(stream, WispCloseReason.InvalidInfo);
  }

  pendingChanged(delta: number): void {
    this.pendingBytes += delta;
  }

  /**
   * --max-pending-bytes: the stream holding the most of what target sockets have not taken
   * pays. The sum is kept as it changes; the streams are scanned only when it is over.
   */
  private checkPendingBytes(): void {
    const limit = this.options.limits.maxPendingBytes;
    if (limit === undefined || this.pendingBytes <= limit) return;
    let largest: WispStream | null = null;
    for (const stream of this.streams.values()) {
      if (largest === null || stream.pendingBytes > largest.pendingBytes) largest = stream;
    }
    if (largest === null) return;
    this.options.logger.warn('wisp stream closed: connection limit reached', { stream: largest.id, limit: ErrorReason.PendingBytesPerTunnel, pendingBytes: this.pendingBytes });
    this.options.observer.countError(ErrorReason.PendingBytesPerTunnel);
    this.closeStream(largest, WispCloseReason.Throttled);
  }

  // ---- internals ----

  private send(packet: Buffer, flushed?: () => void): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.bytesSent += packet.length;
    this.ws.send(packet, { binary: true }, flushed);
  }

  /** Paused streams read again once the connection's buffer and their own share are half empty. */
  private resumePaused(): void {
    if (this.paused.size === 0 || this.ws.bufferedAmount > WISP_CONNECTION_BUFFER_BYTES / 2) return;
    for (const stream of this.paused) {
      if (stream.inflightBytes > WISP_STREAM_BUFFER_BYTES / 2) continue;
      this.paused.delete(stream);
      stream.resume();
    }
  }

  private forget(stream: WispStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.paused.delete(stream);
    if (this.closingWhenIdle && this.streams.size === 0) this.close();
  }

  /** --idle-timeout: a stream that moved nothing for it is closed with "TCP data transfer timed out". */
  private sweepIdle(): IdleSweep<WispStream> | null {
    const idleTimeoutMs = this.options.limits.idleTimeoutMs ?? 0;
    if (idleTimeoutMs <= 0) return null;
    return new IdleSweep(this.streams, idleTimeoutMs, (stream, idleMs) => {
      this.options.logger.info('wisp stream closed: idle', { stream: stream.id, idleMs, limitMs: idleTimeoutMs });
      this.options.observer.countError(ErrorReason.IdleTimeout);
      this.closeStream(stream, WispCloseReason.TransferTimeout);
    });
  }

  private ping(): void {
    if (performance.now() - this.lastPongAt > this.options.keepaliveIntervalMs + this.options.keepaliveTimeoutMs) {
      this.options.logger.info('wisp connection closed: no pong', { timeoutMs: this.options.keepaliveTimeoutMs });
      this.ws.terminate();
      this.teardown();
      return;
    }
    this.ws.ping();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    this.idle?.stop();
    for (const stream of [...this.streams.values()]) stream.close();
    this.streams.clear();
    this.paused.clear();
    this.options.observer.close();
  }
}
