/**
 * Joins a multiplexed stream to a TCP socket in both directions, with backpressure both
 * ways: a socket that can't keep up withholds credit from the peer; a stream without
 * credit pauses the socket it reads from. FIN and resets cross in both directions.
 */
import type { Socket } from 'node:net';
import { ResetCode } from './frame.js';
import type { SharedBufferReads } from './shared-read.js';
import { TurnCork } from './turn-cork.js';
import type { Stream, StreamCloseInfo } from './stream.js';

export interface BridgeOptions {
  /** Called once when the pairing ends, with null for an orderly close. */
  onClose?: (info: StreamCloseInfo | null) => void;
  /** The socket was made with this `onread`: its bytes come from there, not from 'data' events. */
  reads?: SharedBufferReads;
}

/** The socket must have been created with allowHalfOpen, so each direction can end alone. */
export function bridgeSocket(stream: Stream, socket: Socket, options: BridgeOptions = {}): void {
  let closed = false;
  const finish = (info: StreamCloseInfo | null): void => {
    if (closed) return;
    closed = true;
    options.onClose?.(info);
  };

  const cork = new TurnCork(socket);
  stream.attach({
    onData(chunk) {
      cork.hold();
      socket.write(chunk, (err) => {
        if (!err) stream.consumed(chunk.length);
      });
    },
    onEnd() {
      socket.end();
    },
    onDrain() {
      socket.resume();
    },
    onClose(info) {
      if (info !== null && !socket.destroyed) {
        // A socket already shutting down (end() pending) can't be reset: libuv answers EINVAL and leaks the handle.
        if (socket.writableEnded) socket.destroy();
        else socket.resetAndDestroy();
      } else if (info === null && !socket.writableEnded) {
        socket.end(); // closed in order before the bridge began (a failed BIND answer, say): nothing more comes
      }
      finish(info);
    },
  });

  if (options.reads) {
    options.reads.attach(socket, (view) => stream.writeBorrowed(view));
  } else {
    socket.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk)) socket.pause();
    });
  }
  if (socket.readableEnded) stream.end();
  else socket.on('end', () => stream.end());
  socket.on('error', (err: NodeJS.ErrnoException) => {
    const code = err.code === 'ECONNRESET' ? ResetCode.PeerReset : ResetCode.Aborted;
    stream.reset(code, err.code ?? err.message);
  });
  socket.on('close', () => {
    // Both directions ended cleanly: the stream still flushes what it queued, then FINs.
    if (stream.isClosed || (stream.localEnded && stream.remoteEnded)) return;
    stream.reset(ResetCode.Aborted, 'socket closed');
  });
}
