/**
 * A multiplexing session over one `ws` WebSocket: the stream table, one handler per frame
 * type, keepalive and go-away; which stream frames next is the scheduler's (send-scheduler.ts).
 * Used by both the client and the relay.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import {
  encodeBindResult,
  encodeDatagram,
  encodeFin,
  encodeGoAway,
  encodeHello,
  encodeOpen,
  encodeOpenResult,
  encodePing,
  encodeReset,
  encodeWindowUpdate,
  decodeFrame,
} from './codec.js';
import {
  Command,
  FRAME_HEADER_SIZE,
  FrameType,
  GoAwayCode,
  INITIAL_STREAM_WINDOW,
  MAX_DATA_PAYLOAD,
  MAX_FRAME_SIZE,
  MAX_STREAM_WINDOW,
  MAX_STREAM_WINDOW_V2,
  PROTOCOL_VERSION_LARGE_WINDOWS,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  ProtocolError,
  ReplyCode,
  ResetCode,
  type Address,
  type Frame,
} from './frame.js';
import { ProtocolErrorCode } from './error-codes.js';
import { UNSPECIFIED_ADDRESS, encodedAddressLength } from './address.js';
import { Keepalive } from './keepalive.js';
import { SendScheduler } from './send-scheduler.js';
import { DEFAULT_SEND_HIGH_WATER } from './session-defaults.js';
import { WireWriter } from './wire-writer.js';
import type { WindowSettings } from './receive-window.js';
import { Stream, type StreamOwner } from './stream.js';
import { StreamIds } from './stream-ids.js';
import { WindowBudget } from './window-budget.js';
import {
  DEFAULT_MAX_STREAM_WINDOW,
  DEFAULT_WINDOW_BUDGET,
  type OpenResult,
  type SessionCloseInfo,
  type SessionEvents,
  type SessionOptions,
} from './session-options.js';

export {
  DEFAULT_KEEPALIVE_INTERVAL_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_MAX_STREAM_WINDOW,
  DEFAULT_WINDOW_BUDGET,
  type OpenResult,
  type SessionCloseInfo,
  type SessionEvents,
  type SessionOptions,
  type SessionRole,
} from './session-options.js';

export class Session extends EventEmitter<SessionEvents> implements StreamOwner {
  readonly streams = new Map<number, Stream>();
  /** Resolves with the negotiated version once HELLOs have been exchanged. */
  readonly ready: Promise<number>;
  version = 0;
  /** The latest round-trip sample, in ms. */
  rttMs: number | null = null;
  bytesSent = 0;
  bytesReceived = 0;
  /** Datagrams this side dropped because the wire was congested. */
  datagramsDropped = 0;
  /** Datagrams this side dropped because their frame would exceed the peer's frame-size limit. */
  datagramsTooLarge = 0;
  /** The largest frame the peer accepts: its HELLO says, or MAX_FRAME_SIZE when it does not. */
  peerMaxFrameSize = MAX_FRAME_SIZE;
  /** The largest DATA payload the peer accepts; streams split their data to fit. */
  maxDataPayload = MAX_DATA_PAYLOAD;
  /** Sum over open streams of bytes received but not yet consumed (kept incrementally). */
  pendingBytes = 0;
  /**
   * Runs before each DATA frame is delivered, so a limit on what the session holds (the relay's
   * --max-pending-bytes) can make room by resetting streams; if it resets the frame's own
   * stream, the frame is dropped with it.
   */
  beforeData: ((stream: Stream, incoming: number) => void) | null = null;
  closeInfo: SessionCloseInfo | null = null;

  private resolveReady!: (version: number) => void;
  private rejectReady!: (err: Error) => void;
  private readonly pendingOpens = new Map<number, (result: OpenResult) => void>();
  private readonly ids: StreamIds;
  private readonly keepalive: Keepalive;
  /** The growth every stream's receive window draws from. */
  readonly windowBudget: WindowBudget;
  private readonly windows: WindowSettings;
  private bytesAtLastTick = 0;
  private readonly maxFrameSize: number;
  private readonly wire: WireWriter;
  private readonly scheduler: SendScheduler;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: SessionOptions,
  ) {
    super();
    this.ids = new StreamIds(options.role);
    // The wire calls back only once a frame is written, by when the scheduler exists.
    this.wire = new WireWriter(ws, options.transport, () => this.scheduler.flush());
    this.scheduler = new SendScheduler(this.wire, options.sendHighWater ?? DEFAULT_SEND_HIGH_WATER);
    this.maxFrameSize = options.maxFrameSize ?? MAX_FRAME_SIZE;
    this.windowBudget = new WindowBudget(options.windowBudget ?? DEFAULT_WINDOW_BUDGET);
    this.windowBudget.noteWindow(INITIAL_STREAM_WINDOW);
    const maxStreamWindow = options.maxStreamWindow ?? DEFAULT_MAX_STREAM_WINDOW;
    this.windows = {
      initial: INITIAL_STREAM_WINDOW,
      maxWindow: () => Math.min(maxStreamWindow, this.peerMaxCredit),
      budget: this.windowBudget,
      rttMs: () => this.keepalive.pathRttMs,
      now: () => performance.now(),
    };
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // a failed handshake is reported through 'close' as well
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('close', () => this.teardown({ code: GoAwayCode.InternalError, reason: 'WebSocket closed', byPeer: false }));
    ws.on('error', (err) => this.teardown({ code: GoAwayCode.InternalError, reason: `WebSocket error: ${err.message}`, byPeer: false }));
    this.keepalive = new Keepalive({
      intervalMs: options.keepaliveIntervalMs,
      timeoutMs: options.keepaliveTimeoutMs,
      // Nothing but HELLO (or GO_AWAY) may precede HELLO, so pings wait for the handshake (a probe follows it).
      sendPing: (opaque) => {
        if (this.version !== 0) this.sendControl(encodePing(false, opaque));
      },
      isBusy: () => this.movedSinceLastTick(),
      onTick: (now) => this.windowBudget.sweep(now),
      onRtt: (ms) => {
        this.rttMs = ms;
        this.emit('rtt', ms);
      },
      onDead: (silentForMs) => {
        this.teardown({ code: GoAwayCode.KeepaliveTimeout, reason: `nothing received for ${silentForMs} ms`, byPeer: false });
        this.ws.terminate();
      },
    });
    if (options.role === 'client') this.sendControl(encodeHello(PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX, this.maxFrameSize));
  }

  get isClosed(): boolean {
    return this.closeInfo !== null;
  }

  /** How long since the peer last sent anything (a frame of any kind). */
  get silentForMs(): number {
    return this.keepalive.silentForMs();
  }

  /** Sends a PING unless one is in flight: a pool checks a quiet link this way (client/pool/). */
  checkLiveness(): void {
    if (this.version !== 0 && !this.isClosed) this.keepalive.pingIfIdle();
  }

  /** The most credit the peer accepts per stream: version 2 lets windows grow to the path. */
  private get peerMaxCredit(): number {
    return this.version >= PROTOCOL_VERSION_LARGE_WINDOWS ? MAX_STREAM_WINDOW_V2 : MAX_STREAM_WINDOW;
  }

  private movedSinceLastTick(): boolean {
    const moved = this.bytesSent + this.bytesReceived;
    const busy = moved !== this.bytesAtLastTick;
    this.bytesAtLastTick = moved;
    return busy;
  }

  /** Client side: opens a stream. The result resolves when the relay answers (or the session dies). */
  openStream(command: Command, address: Address): { stream: Stream; result: Promise<OpenResult> } {
    if (this.options.role !== 'client') throw new Error('only the client opens streams');
    if (this.isClosed) throw new Error('session is closed');
    const stream = new Stream(this.ids.take(), command, this, this.windows);
    this.streams.set(stream.id, stream);
    const result = new Promise<OpenResult>((resolve) => this.pendingOpens.set(stream.id, resolve));
    this.sendControl(encodeOpen(stream.id, command, address));
    return { stream, result };
  }

  /** Relay side: answers an OPEN. A failure closes the stream at once (the client does the same). */
  answerOpen(stream: Stream, reply: ReplyCode, bound: Address = UNSPECIFIED_ADDRESS): void {
    if (stream.isClosed) return;
    this.sendControl(encodeOpenResult(stream.id, reply, bound));
    if (reply === ReplyCode.Succeeded) stream.openSucceeded();
    else stream.abandon(`open refused with reply ${reply}`);
  }

  /** Relay side of BIND: the second answer (peer accepted, or why not). A failure ends the stream. */
  answerBind(stream: Stream, reply: ReplyCode, peer: Address = UNSPECIFIED_ADDRESS): void {
    if (stream.isClosed) return;
    this.sendControl(encodeBindResult(stream.id, reply, peer));
    if (reply !== ReplyCode.Succeeded) stream.abandon(`bind failed with reply ${reply}`);
  }

  /**
   * Sends one datagram on a UDP ASSOCIATE stream. Datagrams are unreliable by design: when
   * the wire is congested this one is dropped (and counted) rather than queued.
   */
  sendDatagram(stream: Stream, address: Address, payload: Buffer): boolean {
    if (!this.datagramFits(address, payload)) {
      this.datagramsTooLarge += 1;
      return false;
    }
    if (stream.isClosed || this.isClosed || !this.scheduler.hasRoom) {
      this.datagramsDropped += 1;
      return false;
    }
    stream.bytesSent += payload.length;
    this.bytesSent += payload.length;
    this.wire.send(encodeDatagram(stream.id, address, payload));
    return true;
  }

  /** False when a DATAGRAM carrying this would exceed the peer's frame-size limit (it would end the session). */
  datagramFits(address: Address, payload: Buffer): boolean {
    return FRAME_HEADER_SIZE + encodedAddressLength(address) + payload.length <= this.peerMaxFrameSize;
  }

  /** Ends the session: tells the peer why, then closes the WebSocket. Idempotent. */
  close(code: GoAwayCode = GoAwayCode.Normal, reason = 'closed', errorCode?: ProtocolErrorCode): void {
    if (this.isClosed) return;
    this.sendControl(encodeGoAway(code, reason));
    this.teardown(errorCode === undefined ? { code, reason, byPeer: false } : { code, reason, byPeer: false, errorCode });
  }

  // ---- StreamOwner ----

  markReady(stream: Stream): void {
    if (!this.isClosed) this.scheduler.markReady(stream);
  }

  sendData(streamId: number, payload: Buffer): void {
    this.bytesSent += payload.length;
    this.wire.sendData(streamId, payload);
  }

  sendFin(streamId: number): void {
    this.wire.send(encodeFin(streamId));
  }

  sendReset(streamId: number, code: ResetCode, reason: string): void {
    this.sendControl(encodeReset(streamId, code, reason));
  }

  sendWindowUpdate(streamId: number, increment: number): void {
    this.sendControl(encodeWindowUpdate(streamId, increment));
  }

  pendingChanged(delta: number): void {
    this.pendingBytes += delta;
  }

  streamClosed(stream: Stream): void {
    this.streams.delete(stream.id);
    this.scheduler.forget(stream);
    const resolveOpen = this.pendingOpens.get(stream.id);
    if (resolveOpen) {
      this.pendingOpens.delete(stream.id);
      resolveOpen({ reply: ReplyCode.GeneralFailure, bound: UNSPECIFIED_ADDRESS });
    }
  }

  // ---- sending ----

  /** Control frames skip the scheduler: they only ever wait behind what is already on the wire. */
  private sendControl(frame: Buffer): void {
    if (this.isClosed) return;
    this.wire.send(frame);
  }

  // ---- receiving ----

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.isClosed) return;
    this.keepalive.received();
    try {
      if (!isBinary) throw new ProtocolError(ProtocolErrorCode.TextMessage, 'text message on a binary protocol');
      if (data.length > this.maxFrameSize) {
        throw new ProtocolError(ProtocolErrorCode.FrameTooLarge, `frame of ${data.length} bytes, over the ${this.maxFrameSize}-byte limit this side announced`);
      }
      const frame = decodeFrame(data);
      // A GO_AWAY may come instead of HELLO: the peer refuses the session and says why.
      if (this.version === 0 && frame.type !== FrameType.Hello && frame.type !== FrameType.GoAway) {
        throw new ProtocolError(ProtocolErrorCode.NoHello, `frame type ${frame.type} before HELLO`);
      }
      this.handle(frame);
    } catch (err) {
      // A bug of ours must cost this tunnel, never the process and the other tunnels.
      if (err instanceof ProtocolError) this.close(GoAwayCode.ProtocolError, `${err.code}: ${err.message}`, err.code);
      else this.close(GoAwayCode.InternalError, `internal error: ${(err as Error).message}`);
    }
  }

  private handle(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Hello: return this.onHello(frame.minVersion, frame.maxVersion, frame.maxFrameSize);
      case FrameType.Open: return this.onOpen(frame.streamId, frame.command, frame.address);
      case FrameType.OpenResult: return this.onOpenResult(frame.streamId, { reply: frame.reply, bound: frame.bound });
      case FrameType.Data: return this.onData(frame.streamId, frame.payload);
      case FrameType.Fin: return this.existingStream(frame.streamId)?.receiveFin();
      case FrameType.Reset: return this.existingStream(frame.streamId)?.receiveReset(frame.code, frame.reason);
      case FrameType.WindowUpdate: return this.existingStream(frame.streamId)?.receiveWindowUpdate(frame.increment, this.peerMaxCredit);
      case FrameType.Ping: return this.onPing(frame.ack, frame.opaque);
      case FrameType.GoAway: return this.teardown({ code: frame.code, reason: frame.reason, byPeer: true });
      case FrameType.BindResult: return this.clientStream(frame.streamId)?.receiveBindResult(frame.reply, frame.peer);
      case FrameType.Datagram: return this.onDatagram(frame.streamId, frame.address, frame.payload);
    }
  }

  /** A peer whose HELLO announces no limit may not understand the long form, so the relay answers in the short one. */
  private onHello(minVersion: number, maxVersion: number, peerMaxFrameSize: number | undefined): void {
    if (this.version !== 0) throw new ProtocolError(ProtocolErrorCode.SecondHello, 'HELLO received twice');
    const version = Math.min(maxVersion, PROTOCOL_VERSION_MAX);
    if (version < Math.max(minVersion, PROTOCOL_VERSION_MIN)) {
      this.close(GoAwayCode.UnsupportedVersion, `peer speaks versions ${minVersion}-${maxVersion}, we speak ${PROTOCOL_VERSION_MIN}-${PROTOCOL_VERSION_MAX}`);
      return;
    }
    this.version = version;
    if (peerMaxFrameSize !== undefined) {
      this.peerMaxFrameSize = Math.min(peerMaxFrameSize, MAX_FRAME_SIZE);
      this.maxDataPayload = Math.min(MAX_DATA_PAYLOAD, this.peerMaxFrameSize - FRAME_HEADER_SIZE);
    }
    if (this.options.role === 'relay') {
      this.sendControl(peerMaxFrameSize === undefined ? encodeHello(version, version) : encodeHello(version, version, this.maxFrameSize));
    }
    this.resolveReady(version);
    this.keepalive.probe();
  }

  private onOpen(streamId: number, command: Command, address: Address): void {
    if (this.options.role !== 'relay') throw new ProtocolError(ProtocolErrorCode.UnexpectedOpen, 'the relay does not open streams');
    this.ids.acceptOpen(streamId);
    const stream = new Stream(streamId, command, this, this.windows);
    this.streams.set(streamId, stream);
    this.emit('open', stream, command, address);
  }

  private onOpenResult(streamId: number, result: OpenResult): void {
    const resolveOpen = this.pendingOpens.get(streamId);
    const stream = this.streams.get(streamId);
    if (!resolveOpen || !stream) {
      this.existingStream(streamId); // validates the id
      return;
    }
    this.pendingOpens.delete(streamId);
    if (result.reply === ReplyCode.Succeeded) stream.openSucceeded();
    else stream.abandon(`open refused with reply ${result.reply}`);
    stream.openResult = result;
    resolveOpen(result);
    this.emit('openResult', stream, result);
  }

  private onData(streamId: number, payload: Buffer): void {
    this.bytesReceived += payload.length;
    const stream = this.existingStream(streamId);
    if (!stream) return;
    if (this.beforeData) {
      this.beforeData(stream, payload.length);
      if (stream.isClosed) return; // reset to make room: the frame goes with it
    }
    stream.receiveData(payload);
  }

  private onDatagram(streamId: number, address: Address, payload: Buffer): void {
    this.bytesReceived += payload.length;
    this.existingStream(streamId)?.receiveDatagram(address, payload);
  }

  /**
   * The stream for a frame, or undefined for one that has closed: frames may cross a RESET
   * in flight, so they are dropped. An id that was never opened is a protocol error.
   */
  private existingStream(streamId: number): Stream | undefined {
    const stream = this.streams.get(streamId);
    if (stream) return stream;
    this.ids.checkWasOpened(streamId);
    return undefined;
  }

  private clientStream(streamId: number): Stream | undefined {
    if (this.options.role !== 'client') throw new ProtocolError(ProtocolErrorCode.UnexpectedFrame, 'only the relay answers BIND');
    return this.existingStream(streamId);
  }

  private onPing(ack: boolean, opaque: number): void {
    if (ack) this.keepalive.answered(opaque);
    else this.sendControl(encodePing(true, opaque));
  }

  // ---- teardown ----

  private teardown(info: SessionCloseInfo): void {
    if (this.isClosed) return;
    this.closeInfo = info;
    this.scheduler.stop();
    this.keepalive.stop();
    this.rejectReady(new Error(`session closed before HELLO: ${info.reason}`));
    for (const stream of [...this.streams.values()]) stream.abandon(`session closed: ${info.reason}`);
    this.wire.close();
    this.emit('close', info);
  }
}
