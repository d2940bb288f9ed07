/**
 * DNS over TCP frames each message with a 2-byte length (RFC 1035 §4.2.2, RFC 7766 §8).
 * The reader is a two-state machine over bytes that may arrive split anywhere, one at a
 * time included: it collects the length, then exactly that many bytes, then starts over.
 */
import { DNS_TCP_LENGTH_PREFIX, DNS_TCP_MAX_MESSAGE } from './constants.js';

const ReaderState = {
  /** Waiting for the length (none or one of its two bytes seen). */
  Length: 'length',
  /** Filling a message of known length. */
  Body: 'body',
} as const;
type ReaderState = (typeof ReaderState)[keyof typeof ReaderState];

export class DnsTcpReader {
  private state: ReaderState = ReaderState.Length;
  /** The first length byte, when only it has arrived. */
  private lengthHigh: number | null = null;
  private body: Buffer = Buffer.alloc(0);
  private filled = 0;

  /** True between messages: no partial length or body held. */
  get atBoundary(): boolean {
    return this.state === ReaderState.Length && this.lengthHigh === null;
  }

  /** Feeds bytes in; returns the messages they completed, in order (a zero length gives an empty message). */
  push(chunk: Buffer): Buffer[] {
    const messages: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.state === ReaderState.Length) offset = this.readLength(chunk, offset, messages);
      else offset = this.readBody(chunk, offset, messages);
    }
    return messages;
  }

  private readLength(chunk: Buffer, offset: number, messages: Buffer[]): number {
    if (this.lengthHigh === null) {
      this.lengthHigh = chunk[offset];
      return offset + 1;
    }
    const length = (this.lengthHigh << 8) | chunk[offset];
    this.lengthHigh = null;
    if (length === 0) {
      messages.push(Buffer.alloc(0));
      return offset + 1;
    }
    this.body = Buffer.allocUnsafe(length);
    this.filled = 0;
    this.state = ReaderState.Body;
    return offset + 1;
  }

  private readBody(chunk: Buffer, offset: number, messages: Buffer[]): number {
    const take = Math.min(this.body.length - this.filled, chunk.length - offset);
    chunk.copy(this.body, this.filled, offset, offset + take);
    this.filled += take;
    if (this.filled === this.body.length) {
      messages.push(this.body);
      this.body = Buffer.alloc(0);
      this.state = ReaderState.Length;
    }
    return offset + take;
  }
}

/** `message` with its length in front, for a TCP stream. */
export function frameForTcp(message: Buffer): Buffer {
  if (message.length > DNS_TCP_MAX_MESSAGE) throw new RangeError(`a DNS message of ${message.length} bytes does not fit a TCP length prefix`);
  const framed = Buffer.allocUnsafe(DNS_TCP_LENGTH_PREFIX + message.length);
  framed.writeUInt16BE(message.length, 0);
  message.copy(framed, DNS_TCP_LENGTH_PREFIX);
  return framed;
}
