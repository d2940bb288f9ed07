/**
 * Which stream frames next: round-robin over the streams with something to send (data with
 * credit, or a FIN), one frame each per pass, while the wire holds less than its high-water
 * mark. So one busy stream cannot starve the others, and the WebSocket's buffer stays small
 * enough that a control frame or a quiet stream's bytes never wait behind megabytes.
 */
import type { Stream } from './stream.js';
import type { WireWriter } from './wire-writer.js';

export class SendScheduler {
  /** Insertion order is the round-robin order: a stream that sent goes to the back. */
  private readonly ready = new Set<Stream>();
  private stopped = false;

  constructor(
    private readonly wire: WireWriter,
    private readonly highWater: number,
  ) {}

  /** The wire is below its high-water mark. */
  get hasRoom(): boolean {
    return this.wire.buffered < this.highWater;
  }

  /** `stream` has something to send: it joins the rotation, and frames go out if the wire has room. */
  markReady(stream: Stream): void {
    if (this.ready.has(stream)) return;
    this.ready.add(stream);
    this.flush();
  }

  /** A closed stream leaves the rotation. */
  forget(stream: Stream): void {
    this.ready.delete(stream);
  }

  /** Frames as much as the wire takes; called again whenever the wire has written a frame. */
  flush(): void {
    while (!this.stopped && this.ready.size > 0 && this.hasRoom) {
      const stream: Stream = this.ready.values().next().value!;
      this.ready.delete(stream);
      if (!stream.hasSendable) continue; // e.g. a FIN queued behind bytes that wait for credit
      stream.sendNext();
      if (stream.hasSendable) this.ready.add(stream);
    }
  }

  /** The session is over: nothing more is framed. */
  stop(): void {
    this.stopped = true;
    this.ready.clear();
  }
}
