/**
 * The session's end of its WebSocket: it sends frames (large DATA built in pooled buffers),
 * counts the bytes `ws` still holds (the scheduler stops framing DATA above a high-water mark),
 * corks the frames of one turn into one socket write (turn-cork.ts), and closes the socket
 * without waiting on a dead link.
 */
import type { WebSocket } from 'ws';
import { encodeData, encodeDataInto } from './codec.js';
import { POOLED_MIN_BYTES, returnFrameBuffer, takeFrameBuffer } from './frame-pool.js';
import { TurnCork, type Corkable } from './turn-cork.js';
import { WS_CLOSE_NORMAL } from './ws-close-codes.js';

/** A dead link never completes the closing handshake; after this the socket is cut. */
const CLOSE_GRACE_MS = 1_000;

export class WireWriter {
  /** Bytes handed to `ws` that it has not written yet. */
  buffered = 0;
  private readonly cork: TurnCork | null;

  constructor(
    private readonly ws: WebSocket,
    /** The WebSocket's TCP socket, when the session may cork it. */
    transport: Corkable | undefined,
    /** After each frame is written: the scheduler may frame more. */
    private readonly onWritten: () => void,
  ) {
    this.cork = transport ? new TurnCork(transport) : null;
  }

  /** `written` runs once `ws` no longer needs the frame's bytes. */
  send(frame: Buffer, written?: () => void): void {
    this.cork?.hold();
    const length = frame.length;
    this.buffered += length;
    this.ws.send(frame, (err) => {
      this.buffered -= length;
      written?.();
      if (!err) this.onWritten();
    });
  }

  /** A DATA frame: a large payload is framed in a pooled buffer, which goes back once `ws` has written it. */
  sendData(streamId: number, payload: Buffer): void {
    if (payload.length < POOLED_MIN_BYTES) {
      this.send(encodeData(streamId, payload));
      return;
    }
    const buffer = takeFrameBuffer();
    this.send(encodeDataInto(buffer, streamId, payload), () => returnFrameBuffer(buffer));
  }

  close(): void {
    const ws = this.ws;
    if (ws.readyState === ws.CLOSED) return;
    ws.close(WS_CLOSE_NORMAL);
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }
}
