/** A StreamSink for protocol tests that records what a stream delivers. */
import type { Stream, StreamCloseInfo, StreamSink } from '../../../protocol/stream.js';

/** A sink that records everything; it calls consumed() only when told to. */
export class Recorder implements StreamSink {
  chunks: Buffer[] = [];
  bytes = 0;
  ended = false;
  drains = 0;
  closeInfo: StreamCloseInfo | null | undefined = undefined;
  autoConsume: boolean;

  constructor(
    private readonly stream: Stream,
    options: { autoConsume: boolean },
  ) {
    this.autoConsume = options.autoConsume;
    stream.attach(this);
  }

  get closed(): boolean {
    return this.closeInfo !== undefined;
  }

  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  onData(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.bytes += chunk.length;
    if (this.autoConsume) this.stream.consumed(chunk.length);
  }

  onEnd(): void {
    this.ended = true;
  }

  onDrain(): void {
    this.drains += 1;
  }

  onClose(info: StreamCloseInfo | null): void {
    this.closeInfo = info;
  }
}
