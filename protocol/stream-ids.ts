/**
 * Stream ids of one session (protocol/README.md, "Streams"): the client opens every stream,
 * with odd ids that only ever grow, so the relay can tell a frame for a stream that has closed
 * (dropped: it crossed a RESET) from one for a stream that never existed (a protocol error).
 */
import { ProtocolError, type SessionRole } from './frame.js';
import { ProtocolErrorCode } from './error-codes.js';

const FIRST_CLIENT_STREAM_ID = 1;
const STREAM_ID_STEP = 2;
const MAX_STREAM_ID = 0xffff_ffff;

export class StreamIds {
  /** Client: the id the next OPEN takes. */
  private next = FIRST_CLIENT_STREAM_ID;
  /** Relay: the highest id an OPEN has used. */
  private highestOpened = 0;

  constructor(private readonly role: SessionRole) {}

  /** Client side: every id has been used, so no stream can open any more. */
  get exhausted(): boolean {
    return this.next > MAX_STREAM_ID;
  }

  /** Client side: the id for a new stream. */
  take(): number {
    if (this.next > MAX_STREAM_ID) throw new Error('stream ids exhausted');
    const id = this.next;
    this.next += STREAM_ID_STEP;
    return id;
  }

  /** Relay side: an OPEN's id must be odd and above every earlier one. */
  acceptOpen(id: number): void {
    if (id % STREAM_ID_STEP !== FIRST_CLIENT_STREAM_ID || id <= this.highestOpened) {
      throw new ProtocolError(ProtocolErrorCode.StreamId, `OPEN for stream ${id} after ${this.highestOpened}`);
    }
    this.highestOpened = id;
  }

  /** For a frame whose stream is not open: throws unless the id was opened once (and has closed since). */
  checkWasOpened(id: number): void {
    const everOpened = this.role === 'relay' ? id <= this.highestOpened : id < this.next;
    if (!everOpened) throw new ProtocolError(ProtocolErrorCode.StreamId, `frame for stream ${id}, which was never opened`);
  }
}
