/**
 * One CONNECT stream as a page sees it: a ReadableStream that returns credit to the relay
 * only as the page reads (so a page that stops reading holds the target back at the relay),
 * and a WritableStream whose writes wait for the relay's credit and a draining WebSocket.
 * The lifecycle follows protocol/README.md, *Streams*: FIN each way, or RESET for both.
 */
import { INITIAL_STREAM_WINDOW, ProtocolError, ResetCode, type Address } from '../protocol/frame.js';
import { ProtocolErrorCode } from '../protocol/error-codes.js';
import { SockbridgeError, streamReset } from './errors.js';
import { ReceiveCredit } from './receive-credit.js';
import type { TcpConnection } from './sockbridge.js';

export type Chunk = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/** The narrow view of the session a stream needs. */
export interface StreamOwner {
  readonly maxCredit: number;
  /** The path's round trip in ms, null until measured. */
  rttMs(): number | null;
  /** Resolves once the WebSocket buffers little enough to take another DATA frame. */
  wireReady(): Promise<void>;
  /** The largest DATA payload the relay accepts. */
  readonly maxDataPayload: number;
  sendData(streamId: number, payload: Uint8Array): void;
  sendFin(streamId: number): void;
  sendReset(streamId: number, code: number, reason: string): void;
  sendWindowUpdate(streamId: number, increment: number): void;
  streamClosed(streamId: number, error: SockbridgeError | null): void;
}

const utf8 = new TextEncoder();

function toBytes(chunk: Chunk): Uint8Array {
  if (typeof chunk === 'string') return utf8.encode(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError('write a Uint8Array, an ArrayBuffer, a view or a string');
}

export class TcpStream implements TcpConnection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Chunk>;
  bound: Address = { host: '0.0.0.0', port: 0 };
  /** Set once the stream ended abnormally; every later operation fails with it. */
  private failure: SockbridgeError | null = null;
  private sendCredit = INITIAL_STREAM_WINDOW;
  private creditWaiter: (() => void) | null = null;
  private readonly receiveCredit: ReceiveCredit;
  private readonly inbound: Uint8Array[] = [];
  private reader: ReadableStreamDefaultController<Uint8Array> | null = null;
  private readController!: ReadableStreamDefaultController<Uint8Array>;
  private writeController!: WritableStreamDefaultController;
  private finSent = false;
  private finReceived = false;
  private readDone = false;

  constructor(
    readonly id: number,
    private readonly owner: StreamOwner,
  ) {
    this.receiveCredit = new ReceiveCredit(() => owner.rttMs());
    // highWaterMark 0: nothing is pulled ahead of the page's read(), so unread bytes keep their credit.
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (this.readController = controller),
        pull: (controller) => this.pull(controller),
        cancel: () => this.cancelRead(),
      },
      { highWaterMark: 0 },
    );
    this.writable = new WritableStream<Chunk>({
      start: (controller) => void (this.writeController = controller),
      write: (chunk) => this.write(toBytes(chunk)),
      close: () => this.finish(),
      abort: () => this.reset('the page aborted the writable'),
    });
  }

  get isClosed(): boolean {
    return this.failure !== null || (this.finSent && this.finReceived);
  }

  reset(reason = 'reset by the page'): void {
    if (this.isClosed) return;
    this.owner.sendReset(this.id, ResetCode.Aborted, reason);
    this.fail(streamReset(ResetCode.Aborted, reason, false));
  }

  // ---- the page's side ----

  /** After the relay's FIN nothing more can come, so the rest is dropped; before it, the stream is reset (there is no "stop sending"). */
  private cancelRead(): void {
    this.readDone = true;
    this.inbound.length = 0;
    this.reader = null;
    if (!this.finReceived) this.reset('the page cancelled the readable');
  }

  private pull(controller: ReadableStreamDefaultController<Uint8Array>): void {
    const chunk = this.inbound.shift();
    if (chunk) this.deliver(controller, chunk);
    else if (this.finReceived) this.endReadable();
    else this.reader = controller; // the page waits: the next DATA goes straight to it
  }

  private deliver(controller: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array): void {
    controller.enqueue(chunk);
    // No credit once the relay's FIN arrived: no DATA can follow it.
    if (this.finReceived || this.isClosed) return;
    const increment = this.receiveCredit.consume(chunk.length);
    if (increment > 0) this.owner.sendWindowUpdate(this.id, increment);
  }

  private endReadable(): void {
    if (this.readDone) return;
    this.readDone = true;
    this.readController.close();
  }

  private async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      await this.sendable();
      const size = Math.min(this.sendCredit, this.owner.maxDataPayload, bytes.length - offset);
      // The frame copies the bytes, so the page may reuse its buffer once write() resolves.
      this.owner.sendData(this.id, bytes.subarray(offset, offset + size));
      this.sendCredit -= size;
      offset += size;
    }
  }

  /** Waits for credit and for the WebSocket to drain below its high-water mark. */
  private async sendable(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.sendCredit === 0) {
        await new Promise<void>((resolve) => (this.creditWaiter = resolve));
        continue;
      }
      await this.owner.wireReady();
      if (this.failure) throw this.failure;
      if (this.sendCredit > 0) return;
    }
  }

  private finish(): void {
    if (this.failure) throw this.failure;
    this.owner.sendFin(this.id);
    this.finSent = true;
    if (this.finReceived) this.owner.streamClosed(this.id, null);
  }

  // ---- frames from the relay ----

  receiveData(payload: Uint8Array): void {
    if (this.failure) return;
    if (this.finReceived) throw new ProtocolError(ProtocolErrorCode.DataAfterFin, `DATA after FIN on stream ${this.id}`);
    const credit = this.receiveCredit.credit;
    if (!this.receiveCredit.accept(payload.length)) throw new ProtocolError(ProtocolErrorCode.WindowExceeded, `stream ${this.id} sent ${payload.length} bytes with ${credit} of credit`);
    // The message's buffer belongs to this frame alone, so the view can be handed on as it is.
    const reader = this.reader;
    this.reader = null;
    if (reader) this.deliver(reader, payload);
    else this.inbound.push(payload);
  }

  receiveFin(): void {
    if (this.finReceived || this.failure) return;
    this.finReceived = true;
    if (this.inbound.length === 0 && this.reader) {
      this.reader = null;
      this.endReadable();
    }
    if (this.finSent) this.owner.streamClosed(this.id, null);
  }

  receiveWindowUpdate(increment: number): void {
    this.sendCredit += increment;
    if (this.sendCredit > this.owner.maxCredit) throw new ProtocolError(ProtocolErrorCode.WindowOverflow, `stream ${this.id} window grew to ${this.sendCredit}, over ${this.owner.maxCredit}`);
    this.wakeWriter();
  }

  receiveReset(code: number, reason: string): void {
    this.fail(streamReset(code, reason, true));
  }

  /** Ends the stream with `error`: both streams error, a waiting write rejects. Idempotent. */
  fail(error: SockbridgeError): void {
    if (this.isClosed) return;
    this.failure = error;
    this.inbound.length = 0;
    this.reader = null;
    if (!this.readDone) this.readController.error(error);
    this.writeController.error(error);
    this.wakeWriter();
    this.owner.streamClosed(this.id, error);
  }

  private wakeWriter(): void {
    const waiter = this.creditWaiter;
    this.creditWaiter = null;
    waiter?.();
  }
}
