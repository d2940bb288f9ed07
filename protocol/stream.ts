/**
 * One multiplexed stream: its lifecycle, its send queue and credit, its receive window.
 * The session owns the wire; a stream only decides what may be sent and when to grant credit.
 */
import { Command, MAX_DATA_PAYLOAD, ProtocolError, ReplyCode, ResetCode, type Address } from './frame.js';
import { ProtocolErrorCode } from './error-codes.js';
import { UNSPECIFIED_ADDRESS } from './address.js';
import { ReceiveWindow, type WindowSettings } from './receive-window.js';
import { SendQueue } from './send-queue.js';

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

/** What moves a stream along its lifecycle. */
type StreamEvent = 'opened' | 'fin-sent' | 'fin-received' | 'closed';

/** The lifecycle: each state's successor per event; an event missing from a row changes nothing. */
const NEXT_STATE: Readonly<Record<StreamState, Partial<Record<StreamEvent, StreamState>>>> = {
  [StreamState.Opening]: { opened: StreamState.Open, 'fin-sent': StreamState.HalfClosedLocal, 'fin-received': StreamState.HalfClosedRemote, closed: StreamState.Closed },
  [StreamState.Open]: { 'fin-sent': StreamState.HalfClosedLocal, 'fin-received': StreamState.HalfClosedRemote, closed: StreamState.Closed },
  [StreamState.HalfClosedLocal]: { 'fin-received': StreamState.Closed, closed: StreamState.Closed },
  [StreamState.HalfClosedRemote]: { 'fin-sent': StreamState.Closed, closed: StreamState.Closed },
  [StreamState.Closed]: {},
};

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

/** Above this many queued outbound bytes, write() asks the source to pause. */
export const SEND_QUEUE_HIGH_WATER = 2 * MAX_DATA_PAYLOAD;

export class Stream {
  /** Changed only by transition(). */
  state: StreamState = StreamState.Opening;
  /** Bytes sent and received as DATA, for status and tests. */
  bytesSent = 0;
  bytesReceived = 0;
  readonly openedAt = Date.now();
  /** Set by the client when the relay answers OPEN. */
  openResult: { reply: ReplyCode; bound: Address } | null = null;

  private sink: StreamSink | null = null;
  /** OPEN_RESULT success was sent (relay) or received (client). A FIN can come first: it moves the state, not this. */
  private answered = false;
  /** How the stream closed (null: in order), for a sink attached after that. */
  private closeInfo: StreamCloseInfo | null = null;
  /** Inbound bytes that arrived before a sink was attached (bounded by the receive window). */
  private earlyInbound: Buffer[] = [];

  private readonly sendQueue = new SendQueue();
  private sendCredit: number;
  /** end() was called: FIN goes out once the queue ahead of it is empty. */
  private finQueued = false;
  private drainWanted = false;
  private readonly receiveWindow: ReceiveWindow;

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
    windows: WindowSettings,
  ) {
    this.sendCredit = windows.initial;
    this.receiveWindow = new ReceiveWindow(windows);
  }

  get isClosed(): boolean {
    return this.state === StreamState.Closed;
  }

  /** Waiting for its OPEN_RESULT (relay: still dialing), even if a FIN already came with the OPEN. */
  get isOpening(): boolean {
    return !this.answered && !this.isClosed;
  }

  /** Our side asked for FIN (it may still be queued behind data). */
  get localEnded(): boolean {
    return this.finQueued;
  }

  /** The peer's FIN arrived. */
  get remoteEnded(): boolean {
    return this.state === StreamState.HalfClosedRemote;
  }

  /** Bytes received from the peer that the local side has not yet consumed(). */
  get pendingBytes(): number {
    return this.isClosed ? 0 : this.receiveWindow.buffered;
  }

  /** Bytes queued for the peer and not yet sent (waiting for credit or the wire), for status and tests. */
  get queuedBytes(): number {
    return this.sendQueue.bytes;
  }

  /** The receive window's current target size, for status and the bench. */
  get receiveWindowSize(): number {
    return this.receiveWindow.size;
  }

  /** Connects the local side; anything that arrived before is delivered now. */
  attach(sink: StreamSink): void {
    this.sink = sink;
    if (this.isClosed) {
      // E.g. OPEN_RESULT and a RESET in one WebSocket read: closed before the opener got to attach.
      sink.onClose(this.closeInfo);
      return;
    }
    for (const chunk of this.earlyInbound) sink.onData(chunk);
    this.earlyInbound = [];
    if (this.remoteEnded) sink.onEnd();
  }

  /** Queues bytes for the peer. Returns false when the source should pause until onDrain. */
  write(chunk: Buffer): boolean {
    if (this.isClosed || this.finQueued || chunk.length === 0) return !this.isClosed;
    this.sendQueue.push(chunk);
    if (this.sendCredit > 0) this.owner.markReady(this);
    const belowHighWater = this.sendQueue.bytes < SEND_QUEUE_HIGH_WATER;
    if (!belowHighWater) this.drainWanted = true;
    return belowHighWater;
  }

  /**
   * Like write, for bytes the caller overwrites once this returns (SharedBufferReads): what the
   * session could not frame at once is copied (SendQueue.copyBorrowedTail).
   */
  writeBorrowed(view: Buffer): boolean {
    const belowHighWater = this.write(view);
    this.sendQueue.copyBorrowedTail(view.buffer);
    return belowHighWater;
  }

  /** Half-closes our direction: FIN goes out after everything queued. */
  end(): void {
    if (this.isClosed || this.finQueued) return;
    this.finQueued = true;
    this.owner.markReady(this);
  }

  /** Aborts both directions and tells the peer why. Idempotent. */
  reset(code: ResetCode, reason: string): void {
    if (this.isClosed) return;
    this.owner.sendReset(this.id, code, reason);
    this.close({ code, reason, byPeer: false });
  }

  /** The local consumer took `n` bytes; the receive window decides when credit goes back, and how much. */
  consumed(n: number): void {
    if (this.isClosed) return;
    const before = this.receiveWindow.buffered;
    const increment = this.receiveWindow.consume(n);
    this.owner.pendingChanged?.(this.receiveWindow.buffered - before);
    if (increment > 0 && !this.remoteEnded) this.owner.sendWindowUpdate(this.id, increment);
  }

  // ---- used by the session's scheduler ----

  /** True when a DATA or FIN frame could be sent now. */
  get hasSendable(): boolean {
    if (this.isClosed || this.finSent) return false;
    if (this.sendQueue.bytes > 0) return this.sendCredit > 0;
    return this.finQueued;
  }

  /** Sends one DATA frame (within credit and frame size), or the FIN once the queue is empty. */
  sendNext(): void {
    if (this.sendQueue.bytes === 0) {
      if (this.finQueued && !this.finSent) {
        this.owner.sendFin(this.id);
        this.transition('fin-sent');
      }
      return;
    }
    const chunk = this.sendQueue.take(Math.min(this.sendCredit, this.owner.maxDataPayload));
    this.sendCredit -= chunk.length;
    this.bytesSent += chunk.length;
    this.owner.sendData(this.id, chunk); // copies the bytes into the frame
    this.sendQueue.framed(chunk);
    if (this.drainWanted && this.sendQueue.bytes < SEND_QUEUE_HIGH_WATER) {
      this.drainWanted = false;
      this.sink?.onDrain();
    }
  }

  private get finSent(): boolean {
    return this.state === StreamState.HalfClosedLocal || this.isClosed;
  }

  // ---- called by the session for inbound frames ----

  openSucceeded(): void {
    this.answered = true;
    this.transition('opened');
  }

  receiveData(payload: Buffer): void {
    if (this.remoteEnded) throw new ProtocolError(ProtocolErrorCode.DataAfterFin, `DATA after FIN on stream ${this.id}`);
    if (!this.receiveWindow.accept(payload.length)) {
      // A refused frame changes nothing, so the credit read here is what the peer overran.
      throw new ProtocolError(ProtocolErrorCode.WindowExceeded, `stream ${this.id} sent ${payload.length} bytes with ${this.receiveWindow.credit} of credit`);
    }
    this.bytesReceived += payload.length;
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
    this.onDatagram?.(address, payload);
  }

  private resolveBind(reply: ReplyCode, peer: Address): void {
    const handler = this.onBindResult;
    this.onBindResult = null;
    handler?.(reply, peer);
  }

  receiveFin(): void {
    if (this.remoteEnded || this.isClosed) return;
    this.sink?.onEnd(); // before the transition: with our FIN already sent, it closes the stream
    this.transition('fin-received');
  }

  receiveWindowUpdate(increment: number, maxCredit: number): void {
    this.sendCredit += increment;
    if (this.sendCredit > maxCredit) {
      throw new ProtocolError(ProtocolErrorCode.WindowOverflow, `stream ${this.id} window grew to ${this.sendCredit}, over ${maxCredit}`);
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
    if (this.transition('closed')) this.cleanUp(info);
  }

  /** The one place the lifecycle changes. Returns true when the event moved the stream to Closed. */
  private transition(event: StreamEvent): boolean {
    const next = NEXT_STATE[this.state][event];
    if (next === undefined) return false;
    this.state = next;
    if (next !== StreamState.Closed) return false;
    if (event !== 'closed') this.cleanUp(null); // FIN both ways: an orderly close
    return true;
  }

  private cleanUp(info: StreamCloseInfo | null): void {
    this.closeInfo = info;
    this.owner.pendingChanged?.(-this.receiveWindow.buffered); // state is Closed: pendingBytes already reads 0
    this.receiveWindow.release();
    this.sendQueue.clear();
    this.earlyInbound = [];
    this.onDatagram = null;
    this.resolveBind(ReplyCode.GeneralFailure, UNSPECIFIED_ADDRESS);
    this.owner.streamClosed(this);
    this.sink?.onClose(info);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
