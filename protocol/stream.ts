/**
 * One multiplexed stream: its lifecycle, its send queue and credit, its receive window.
 * The session owns the wire; a stream only decides what may be sent and when to grant credit.
 */
import { returnFrameBuffer, takeFrameBuffer } from './frame-pool.js';
import { Command, INITIAL_STREAM_WINDOW, MAX_DATA_PAYLOAD, MAX_STREAM_WINDOW, ProtocolError, ReplyCode, ResetCode, type Address } from './frame.js';
import { ProtocolErrorCode } from './error-codes.js';
import { UNSPECIFIED_ADDRESS } from './address.js';

export const StreamState = {
  /** OPEN sent (client) or received (relay); no OPEN_RESULT yet. */
  Opening: 'opening',
  Open: 'open',
  /** We sent FIN; the peer may still send. */
  HalfClosedLocal: 'half-closed-local',
  /** The peer sent FIN; we may still send. */
  HalfClosedRemote: 'half-closed-remote',
  Closed: 'closed',
} as const;
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

/** How a stream ended: null for an orderly close (FIN both ways). */
export interface StreamCloseInfo {
  code: ResetCode;
  reason: string;
  /** True when the peer reset the stream, false when this side did. */
  byPeer: boolean;
}

/** What the local side of a stream (usually a socket) is told. */
export interface StreamSink {
  /** Bytes from the peer. Call stream.consumed(n) once the local socket has taken them. */
  onData(chunk: Buffer): void;
  /** The peer will send no more (FIN). */
  onEnd(): void;
  /** The send queue fell below its high-water mark: the source may resume. */
  onDrain(): void;
  /** The stream is gone; no callback follows. */
  onClose(info: StreamCloseInfo | null): void;
}

/** The narrow view of the session a stream needs. */
export interface StreamOwner {
  /** The largest DATA payload the peer accepts (it may announce a limit below MAX_DATA_PAYLOAD). */
  readonly maxDataPayload: number;
  markReady(stream: Stream): void;
  sendData(streamId: number, payload: Buffer): void;
  sendFin(streamId: number): void;
  sendReset(streamId: number, code: ResetCode, reason: string): void;
  sendWindowUpdate(streamId: number, increment: number): void;
  streamClosed(stream: Stream): void;
  /** The stream's received-but-not-consumed bytes changed by `delta` (the session keeps the sum). */
  pendingChanged?(delta: number): void;
}

/**
 * writeBorrowed keeps bytes at least this long in a (64 KiB) frame-pool buffer; shorter ones
 * get a copy of their own size, so many small queued reads don't each pin 64 KiB.
 */
const POOLED_COPY_MIN_BYTES = 16 * 1024;

/** Above this many queued outbound bytes, write() asks the source to pause. */
export const SEND_QUEUE_HIGH_WATER = 2 * MAX_DATA_PAYLOAD;

export class Stream {
  state: StreamState = StreamState.Opening;
  /** Bytes sent and received as DATA, for status and tests. */
  bytesSent = 0;
  bytesReceived = 0;
  readonly openedAt = Date.now();
  /** When DATA (or a datagram) last crossed in either direction; for the relay's idle sweep. */
  lastActivityAt = this.openedAt;
  /** True while the idle sweep must leave the stream alone (a BIND waiting for its peer). */
  idleExempt = false;
  /** Bytes received from the peer that the local side has not yet consumed(). */
  pendingBytes = 0;
  /** Set by the client when the relay answers OPEN. */
  openResult: { reply: ReplyCode; bound: Address } | null = null;

  private sink: StreamSink | null = null;
  /** Inbound bytes that arrived before a sink was attached (bounded by the receive window). */
  private earlyInbound: Buffer[] = [];
  private earlyFin = false;

  private sendQueue: Buffer[] = [];
  /**
   * writeBorrowed's copies still queued: each pool buffer by its memory, returned once its bytes
   * are framed. Null while there are none, so a stream that never borrows pays nothing.
   */
  private pooledInQueue: Map<ArrayBufferLike, Buffer> | null = null;
  private queuedBytes = 0;
  private sendCredit = INITIAL_STREAM_WINDOW;
  private finRequested = false;
  private finSent = false;
  private finReceived = false;
  private drainWanted = false;

  private receiveWindow = INITIAL_STREAM_WINDOW;
  private consumedUnacked = 0;

  /** UDP ASSOCIATE streams: where datagrams from the peer go. */
  onDatagram: ((address: Address, payload: Buffer) => void) | null = null;
  /**
   * BIND, client side: the relay's second answer. A callback rather than a promise, so it
   * runs before any DATA that follows it in the same WebSocket read.
   */
  onBindResult: ((reply: ReplyCode, peer: Address) => void) | null = null;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    readonly id: number,
    readonly command: Command,
    private readonly owner: StreamOwner,
  ) {}

  get isClosed(): boolean {
    return this.state === StreamState.Closed;
  }

  /** Our side asked for FIN (it may still be queued behind data). */
  get localEnded(): boolean {
    return this.finRequested;
  }

  /** The peer's FIN arrived. */
  get remoteEnded(): boolean {
    return this.finReceived;
  }

  /** Connects the local side; anything that arrived before is delivered now. */
  attach(sink: StreamSink): void {
    this.sink = sink;
    for (const chunk of this.earlyInbound) sink.onData(chunk);
    this.earlyInbound = [];
    if (this.earlyFin) sink.onEnd();
  }

  /** Queues bytes for the peer. Returns false when the source should pause until onDrain. */
  write(chunk: Buffer): boolean {
    if (this.isClosed || this.finRequested || chunk.length === 0) return !this.isClosed;
    this.sendQueue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.sendCredit > 0) this.owner.markReady(this);
    const belowHighWater = this.queuedBytes < SEND_QUEUE_HIGH_WATER;
    if (!belowHighWater) this.drainWanted = true;
    return belowHighWater;
  }

  /**
   * Like write, for bytes the caller overwrites once this returns (SharedBufferReads): what the
   * session could not frame at once is copied into a pool buffer, returned when sent.
   */
  writeBorrowed(view: Buffer): boolean {
    const belowHighWater = this.write(view);
    const last = this.sendQueue.length - 1;
    if (last >= 0 && this.sendQueue[last].buffer === view.buffer) {
      const kept = this.sendQueue[last];
      if (kept.length < POOLED_COPY_MIN_BYTES) {
        this.sendQueue[last] = Buffer.from(kept); // a whole pool buffer per small remainder would waste memory
        return belowHighWater;
      }
      const pooled = takeFrameBuffer();
      kept.copy(pooled);
      this.sendQueue[last] = pooled.subarray(0, kept.length);
      (this.pooledInQueue ??= new Map()).set(pooled.buffer, pooled);
    }
    return belowHighWater;
  }

  /** Half-closes our direction: FIN goes out after everything queued. */
  end(): void {
    if (this.isClosed || this.finRequested) return;
    this.finRequested = true;
    this.owner.markReady(this);
  }

  /** Aborts both directions and tells the peer why. Idempotent. */
  reset(code: ResetCode, reason: string): void {
    if (this.isClosed) return;
    this.owner.sendReset(this.id, code, reason);
    this.close({ code, reason, byPeer: false });
  }

  /** The local consumer took `n` bytes: return credit once half a window is used, as yamux does. */
  consumed(n: number): void {
    if (this.isClosed) return;
    const taken = Math.min(n, this.pendingBytes);
    this.pendingBytes -= taken;
    this.owner.pendingChanged?.(-taken);
    if (this.finReceived) return;
    this.consumedUnacked += n;
    if (this.consumedUnacked >= INITIAL_STREAM_WINDOW / 2) {
      this.receiveWindow += this.consumedUnacked;
      this.owner.sendWindowUpdate(this.id, this.consumedUnacked);
      this.consumedUnacked = 0;
    }
  }

  // ---- used by the session's scheduler ----

  /** True when a DATA or FIN frame could be sent now. */
  get hasSendable(): boolean {
    if (this.isClosed || this.finSent) return false;
    if (this.queuedBytes > 0) return this.sendCredit > 0;
    return this.finRequested;
  }

  /** Sends one DATA frame (within credit and frame size), or the FIN once the queue is empty. */
  sendNext(): void {
    if (this.queuedBytes === 0) {
      if (this.finRequested && !this.finSent) this.sendFin();
      return;
    }
    const chunk = this.takeChunk(Math.min(this.sendCredit, this.owner.maxDataPayload));
    this.sendCredit -= chunk.length;
    this.bytesSent += chunk.length;
    this.lastActivityAt = Date.now();
    this.owner.sendData(this.id, chunk); // copies the bytes into the frame
    if (this.pooledInQueue) this.releasePooled(chunk);
    if (this.drainWanted && this.queuedBytes < SEND_QUEUE_HIGH_WATER) {
      this.drainWanted = false;
      this.sink?.onDrain();
    }
  }

  /** Once the last bytes of a pooled copy are framed (no queued rest shares its memory), its buffer goes back. */
  private releasePooled(sent: Buffer): void {
    const queued = this.pooledInQueue;
    const pooled = queued?.get(sent.buffer);
    if (!queued || !pooled || this.sendQueue[0]?.buffer === sent.buffer) return;
    queued.delete(sent.buffer);
    if (queued.size === 0) this.pooledInQueue = null;
    returnFrameBuffer(pooled);
  }

  private takeChunk(limit: number): Buffer {
    const head = this.sendQueue[0];
    if (head.length <= limit) {
      this.sendQueue.shift();
      this.queuedBytes -= head.length;
      return head;
    }
    this.sendQueue[0] = head.subarray(limit);
    this.queuedBytes -= limit;
    return head.subarray(0, limit);
  }

  private sendFin(): void {
    this.finSent = true;
    this.owner.sendFin(this.id);
    this.transition(this.finReceived ? StreamState.Closed : StreamState.HalfClosedLocal);
  }

  // ---- called by the session for inbound frames ----

  openSucceeded(): void {
    if (this.state === StreamState.Opening) this.transition(StreamState.Open);
  }

  receiveData(payload: Buffer): void {
    if (this.finReceived) throw new ProtocolError(ProtocolErrorCode.DataAfterFin, `DATA after FIN on stream ${this.id}`);
    if (payload.length > this.receiveWindow) {
      throw new ProtocolError(ProtocolErrorCode.WindowExceeded, `stream ${this.id} sent ${payload.length} bytes with ${this.receiveWindow} of credit`);
    }
    this.receiveWindow -= payload.length;
    this.bytesReceived += payload.length;
    this.lastActivityAt = Date.now();
    this.pendingBytes += payload.length;
    this.owner.pendingChanged?.(payload.length);
    if (this.sink) this.sink.onData(payload);
    else this.earlyInbound.push(payload);
  }

  /** Runs `listener` once when the stream closes (at once if it already has). */
  whenClosed(listener: () => void): void {
    if (this.isClosed) listener();
    else this.closeListeners.push(listener);
  }

  receiveBindResult(reply: ReplyCode, peer: Address): void {
    if (this.command !== Command.Bind) throw new ProtocolError(ProtocolErrorCode.UnexpectedFrame, `BIND_RESULT on non-BIND stream ${this.id}`);
    this.resolveBind(reply, peer);
    // A failed BIND ends the stream in order: the handler has already answered the application.
    if (reply !== ReplyCode.Succeeded) this.close(null);
  }

  receiveDatagram(address: Address, payload: Buffer): void {
    if (this.command !== Command.UdpAssociate) throw new ProtocolError(ProtocolErrorCode.UnexpectedFrame, `DATAGRAM on non-UDP stream ${this.id}`);
    this.bytesReceived += payload.length;
    this.lastActivityAt = Date.now();
    this.onDatagram?.(address, payload);
  }

  private resolveBind(reply: ReplyCode, peer: Address): void {
    const handler = this.onBindResult;
    this.onBindResult = null;
    handler?.(reply, peer);
  }

  receiveFin(): void {
    if (this.finReceived) return;
    this.finReceived = true;
    if (this.sink) this.sink.onEnd();
    else this.earlyFin = true;
    this.transition(this.finSent ? StreamState.Closed : StreamState.HalfClosedRemote);
  }

  receiveWindowUpdate(increment: number): void {
    this.sendCredit += increment;
    if (this.sendCredit > MAX_STREAM_WINDOW) {
      throw new ProtocolError(ProtocolErrorCode.WindowOverflow, `stream ${this.id} window grew to ${this.sendCredit}`);
    }
    if (this.hasSendable) this.owner.markReady(this);
  }

  receiveReset(code: ResetCode, reason: string): void {
    this.close({ code, reason, byPeer: true });
  }

  /** Ends the stream locally without telling the peer (the session is gone). */
  abandon(reason: string): void {
    this.close({ code: ResetCode.SessionClosed, reason, byPeer: false });
  }

  private close(info: StreamCloseInfo | null): void {
    if (this.isClosed) return;
    this.state = StreamState.Closed;
    if (this.pendingBytes > 0) {
      this.owner.pendingChanged?.(-this.pendingBytes);
      this.pendingBytes = 0;
    }
    this.sendQueue = [];
    for (const pooled of this.pooledInQueue?.values() ?? []) returnFrameBuffer(pooled);
    this.pooledInQueue = null;
    this.queuedBytes = 0;
    this.earlyInbound = [];
    this.onDatagram = null;
    this.resolveBind(ReplyCode.GeneralFailure, UNSPECIFIED_ADDRESS);
    this.owner.streamClosed(this);
    this.sink?.onClose(info);
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  /** The one place the lifecycle changes; an orderly close lands here too. */
  private transition(next: StreamState): void {
    if (this.isClosed) return;
    if (next === StreamState.Closed) {
      this.close(null);
      return;
    }
    if (next === StreamState.HalfClosedLocal && this.state === StreamState.HalfClosedRemote) return;
    if (next === StreamState.HalfClosedRemote && this.state === StreamState.HalfClosedLocal) return;
    this.state = next;
  }
}
