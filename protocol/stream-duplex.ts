/**
 * A multiplexed stream as a Node Duplex, for code that speaks to a stream through Node's
 * stream API (the HTTP proxy hands one to http.request). The socket hot path keeps using
 * socket-bridge.ts. Backpressure holds both ways: writes wait for the stream's onDrain, and
 * credit goes back to the peer only as the reader pulls bytes out of the readable buffer.
 */
import { Duplex } from 'node:stream';
import { ResetCode } from './frame.js';
import type { Stream, StreamCloseInfo } from './stream.js';

/** Why a StreamDuplex failed: the stream was reset, by the peer or here. */
export class StreamResetError extends Error {
  readonly code = 'ERR_STREAM_RESET';
  constructor(readonly info: StreamCloseInfo) {
    super(`stream reset${info.byPeer ? ' by the peer' : ''}: ${info.reason}`);
    this.name = 'StreamResetError';
  }
}

/** A reset carries the error's message, kept short (the wire's limit is MAX_REASON_LENGTH bytes). */
const MAX_REASON_CHARS = 200;

export class StreamDuplex extends Duplex {
  /** Bytes pushed to the readable side whose credit is not yet returned. */
  private unreturned = 0;
  private pendingWrite: (() => void) | null = null;

  constructor(private readonly stream: Stream) {
    super({ allowHalfOpen: true });
    stream.attach({
      onData: (chunk) => {
        this.unreturned += chunk.length;
        if (this.push(chunk)) this.returnCredit();
      },
      onEnd: () => this.push(null),
      onDrain: () => this.resumeWriting(),
      onClose: (info) => {
        this.resumeWriting();
        if (info !== null) this.destroy(new StreamResetError(info));
      },
    });
  }

  override _read(): void {
    this.returnCredit();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.stream.write(chunk)) callback();
    else this.pendingWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.stream.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Ended both ways (autoDestroy after 'end' and 'finish'): the stream still flushes its queue and FIN.
    const orderly = error === null && this.stream.localEnded && this.stream.remoteEnded;
    if (!orderly) this.stream.reset(ResetCode.Aborted, error ? error.message.slice(0, MAX_REASON_CHARS) : 'closed by the local side');
    callback(error);
  }

  private returnCredit(): void {
    if (this.unreturned === 0) return;
    const n = this.unreturned;
    this.unreturned = 0;
    this.stream.consumed(n);
  }

  private resumeWriting(): void {
    const pending = this.pendingWrite;
    this.pendingWrite = null;
    pending?.();
  }
}
