/**
 * A sockbridge session over the browser's WebSocket: the HELLO exchange, the stream table,
 * one handler per inbound frame type, keepalive and go-away (protocol/README.md). Only the
 * client's part: it opens CONNECT streams; BIND and UDP ASSOCIATE are for the Node client.
 */
import {
  ProtocolError,
  Command,
  FRAME_HEADER_SIZE,
  FrameType,
  GoAwayCode,
  MAX_DATA_PAYLOAD,
  MAX_FRAME_SIZE,
  MAX_STREAM_WINDOW,
  MAX_STREAM_WINDOW_V2,
  PROTOCOL_VERSION_LARGE_WINDOWS,
  ReplyCode,
} from '../protocol/frame.js';
import { ProtocolErrorCode } from '../protocol/error-codes.js';
import { DEFAULT_SEND_HIGH_WATER } from '../protocol/session-defaults.js';
import { decodeFrame, encodeData, encodeFin, encodeGoAway, encodeOpen, encodePing, encodeReset, encodeWindowUpdate, type InboundFrame } from './codec.js';
import { StreamIds } from '../protocol/stream-ids.js';
import { SockbridgeError, openFailed, sessionClosed } from './errors.js';
import { Keepalive } from '../protocol/keepalive.js';
import { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS } from '../protocol/session-defaults.js';
import { TcpStream, type StreamOwner } from './tcp-stream.js';
import type { Session, SessionEnd } from './sockbridge.js';
import { WS_CLOSE_NORMAL } from '../protocol/ws-close-codes.js';

/** How often a write waiting for the WebSocket to drain looks again: the browser has no drain event. */
const WIRE_POLL_MS = 5;

type StreamFrame = Extract<InboundFrame, { streamId: number }>;

export class BrowserSession implements Session, StreamOwner {
  readonly closed: Promise<SessionEnd>;
  maxDataPayload = MAX_DATA_PAYLOAD;
  private resolveClosed!: (end: SessionEnd) => void;
  private readonly streams = new Map<number, TcpStream>();
  private readonly opening = new Map<number, { host: string; port: number; settle: (error: SockbridgeError | null) => void }>();
  private readonly ids = new StreamIds('client');
  private ended: SessionEnd | null = null;
  private wireWaiters: Array<() => void> = [];
  private wireTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly keepalive: Keepalive;
  /** DATA moved either way since the keepalive last asked: round trips are then probed more often. */
  private dataMoved = false;

  constructor(
    private readonly ws: WebSocket,
    readonly version: number,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.keepalive = new Keepalive({
      intervalMs: DEFAULT_KEEPALIVE_INTERVAL_MS,
      timeoutMs: DEFAULT_KEEPALIVE_TIMEOUT_MS,
      sendPing: (opaque) => this.send(encodePing(false, opaque)),
      isBusy: () => {
        const busy = this.dataMoved;
        this.dataMoved = false;
        return busy;
      },
      onTick: () => {},
      onRtt: () => {},
      onDead: (silentForMs) => this.end({ code: GoAwayCode.KeepaliveTimeout, reason: `nothing received from the relay for ${silentForMs} ms` }),
    });
    this.keepalive.probe(); // the HELLO exchange is done: measure the path at once
    ws.addEventListener('message', (event) => this.onMessage(event.data));
    ws.addEventListener('close', (event) => this.end({ code: null, reason: `the WebSocket closed (code ${event.code})` }));
  }

  get maxCredit(): number {
    return this.version >= PROTOCOL_VERSION_LARGE_WINDOWS ? MAX_STREAM_WINDOW_V2 : MAX_STREAM_WINDOW;
  }

  /** Applies the relay's HELLO limit: DATA is split to fit the frames it accepts. */
  setPeerFrameLimit(limit: number | null): void {
    if (limit !== null) this.maxDataPayload = Math.min(MAX_DATA_PAYLOAD, Math.min(limit, MAX_FRAME_SIZE) - FRAME_HEADER_SIZE);
  }

  openTcp(host: string, port: number): Promise<TcpStream> {
    if (this.ended) return Promise.reject(sessionClosed(this.ended.reason));
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) return Promise.reject(new RangeError(`port must be 1 to 65535, not ${port}`));
    if (this.ids.exhausted) return Promise.reject(sessionClosed('this session has used every stream id'));
    const id = this.ids.take(); // one that a bad host name leaves unused is just skipped: ids need only grow
    let frame: Uint8Array;
    try {
      frame = encodeOpen(id, Command.Connect, { host, port });
    } catch (err) {
      return Promise.reject(err);
    }
    const stream = new TcpStream(id, this);
    this.streams.set(id, stream);
    this.send(frame);
    return new Promise((resolve, reject) => {
      this.opening.set(id, { host, port, settle: (error) => (error ? reject(error) : resolve(stream)) });
    });
  }

  async close(): Promise<void> {
    if (!this.ended) {
      this.send(encodeGoAway(GoAwayCode.Normal, 'closed by the page'));
      this.end({ code: GoAwayCode.Normal, reason: 'closed by the page' });
    }
    await this.closed;
  }

  // ---- StreamOwner ----

  wireReady(): Promise<void> {
    if (this.ended || this.ws.bufferedAmount < DEFAULT_SEND_HIGH_WATER) return Promise.resolve();
    return new Promise((resolve) => {
      this.wireWaiters.push(resolve);
      this.wireTimer ??= setTimeout(() => this.pollWire(), WIRE_POLL_MS);
    });
  }

  private pollWire(): void {
    this.wireTimer = null;
    if (this.ended || this.ws.bufferedAmount < DEFAULT_SEND_HIGH_WATER) {
      for (const resolve of this.wireWaiters.splice(0)) resolve();
    } else {
      this.wireTimer = setTimeout(() => this.pollWire(), WIRE_POLL_MS);
    }
  }

  rttMs(): number | null {
    return this.keepalive.pathRttMs;
  }

  sendData(streamId: number, payload: Uint8Array): void {
    this.dataMoved = true;
    this.send(encodeData(streamId, payload));
  }

  sendFin(streamId: number): void {
    this.send(encodeFin(streamId));
  }

  sendReset(streamId: number, code: number, reason: string): void {
    this.send(encodeReset(streamId, code, reason));
  }

  sendWindowUpdate(streamId: number, increment: number): void {
    this.send(encodeWindowUpdate(streamId, increment));
  }

  streamClosed(streamId: number, error: SockbridgeError | null): void {
    this.streams.delete(streamId);
    const opening = this.opening.get(streamId);
    this.opening.delete(streamId);
    opening?.settle(error ?? sessionClosed('the stream closed before the relay answered'));
  }

  // ---- inbound ----

  private onMessage(data: unknown): void {
    if (this.ended) return;
    this.keepalive.received();
    try {
      if (!(data instanceof ArrayBuffer)) throw new ProtocolError(ProtocolErrorCode.TextMessage, 'a text message');
      if (data.byteLength > MAX_FRAME_SIZE) throw new ProtocolError(ProtocolErrorCode.FrameTooLarge, `a message of ${data.byteLength} bytes, over the limit ${MAX_FRAME_SIZE}`);
      this.dispatch(decodeFrame(new Uint8Array(data)));
    } catch (err) {
      // A broken rule ends the session naming its code; a failure of our own is a bug, said as one.
      const [code, reason] = err instanceof ProtocolError ? [GoAwayCode.ProtocolError, `${err.code}: ${err.message}`] : [GoAwayCode.InternalError, `internal error: ${String(err)}`];
      this.send(encodeGoAway(code, reason));
      this.end({ code, reason });
    }
  }

  private dispatch(frame: InboundFrame): void {
    switch (frame.type) {
      case FrameType.Hello: throw new ProtocolError(ProtocolErrorCode.SecondHello, 'a second HELLO');
      case FrameType.Ping: return this.onPing(frame.ack, frame.opaque);
      case FrameType.GoAway: return this.end({ code: frame.code, reason: frame.reason });
      case FrameType.Open: throw new ProtocolError(ProtocolErrorCode.UnexpectedOpen, 'an OPEN from the relay');
      default: return this.onStreamFrame(frame);
    }
  }

  private onPing(ack: boolean, opaque: number): void {
    if (ack) this.keepalive.answered(opaque);
    else this.send(encodePing(true, opaque));
  }

  private onStreamFrame(frame: StreamFrame): void {
    const stream = this.streams.get(frame.streamId);
    if (!stream) {
      // Frames for a closed stream may have crossed our RESET; an id never opened is an error.
      this.ids.checkWasOpened(frame.streamId);
      return;
    }
    switch (frame.type) {
      case FrameType.OpenResult: return this.onOpenResult(stream, frame.reply, frame.bound);
      case FrameType.Data:
        this.dataMoved = true;
        return stream.receiveData(frame.payload);
      case FrameType.Fin: return stream.receiveFin();
      case FrameType.Reset: return stream.receiveReset(frame.code, frame.reason);
      case FrameType.WindowUpdate: return stream.receiveWindowUpdate(frame.increment);
      default: throw new ProtocolError(ProtocolErrorCode.UnexpectedFrame, `frame type ${frame.type} on CONNECT stream ${frame.streamId}`);
    }
  }

  private onOpenResult(stream: TcpStream, reply: number, bound: { host: string; port: number }): void {
    const opening = this.opening.get(stream.id);
    if (!opening) return; // a second OPEN_RESULT: the stream is already open
    this.opening.delete(stream.id);
    if (reply === ReplyCode.Succeeded) {
      stream.bound = bound;
      opening.settle(null);
      return;
    }
    // A failed open ends the stream in order: no RESET follows (protocol/README.md, *Streams*).
    this.streams.delete(stream.id);
    const error = openFailed(opening.host, opening.port, reply);
    stream.fail(error);
    opening.settle(error);
  }

  // ---- the wire ----

  private send(frame: Uint8Array): void {
    if (!this.ended && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  /** Ends the session once: every stream fails, the WebSocket closes. */
  private end(end: SessionEnd): void {
    if (this.ended) return;
    this.ended = end;
    this.keepalive.stop();
    const error = sessionClosed(end.reason);
    for (const [id, opening] of [...this.opening]) {
      this.opening.delete(id);
      opening.settle(error);
    }
    for (const stream of [...this.streams.values()]) stream.fail(error);
    this.streams.clear();
    if (this.wireTimer !== null) clearTimeout(this.wireTimer);
    this.pollWire();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(WS_CLOSE_NORMAL);
    this.resolveClosed(end);
  }
}
