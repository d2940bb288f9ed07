/** The relay's half of a session: execute each OPEN and join the result to its stream. */
import type { Socket } from 'node:net';
import { Command, ReplyCode, type Address } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import { bridgeSocket } from '../../protocol/socket-bridge.js';
import type { Stream } from '../../protocol/stream.js';
import { formatHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import { dialTcp, DialError } from '../dialers/connect.js';
import { replyForErrno } from '../dialers/errno-replies.js';

export interface ServeSessionOptions {
  dialTimeoutMs: number;
  logger: Logger;
}

export function serveSession(session: Session, options: ServeSessionOptions): void {
  session.on('open', (stream, command, address) => {
    if (command === Command.Connect) {
      void handleConnect(session, stream, address, options);
      return;
    }
    options.logger.warn('command not supported', { stream: stream.id, command });
    session.answerOpen(stream, ReplyCode.CommandNotSupported);
  });
}

async function handleConnect(session: Session, stream: Stream, target: Address, options: ServeSessionOptions): Promise<void> {
  const { logger } = options;
  const destination = formatHostPort(target);
  let socket: Socket;
  try {
    socket = await dialTcp(target, options.dialTimeoutMs);
  } catch (err) {
    const code = err instanceof DialError ? err.code : 'EUNKNOWN';
    const reply = replyForErrno(code);
    logger.info('connect failed', { stream: stream.id, dest: destination, code, reply });
    session.answerOpen(stream, reply);
    return;
  }
  if (stream.isClosed) {
    // The client gave up while we dialed.
    socket.destroy();
    return;
  }
  const bound = { host: socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? 0 };
  logger.debug('connected', { stream: stream.id, dest: destination, bound: formatHostPort(bound) });
  session.answerOpen(stream, ReplyCode.Succeeded, bound);
  bridgeSocket(stream, socket, {
    onClose: (info) => {
      if (info) logger.debug('stream reset', { stream: stream.id, dest: destination, reason: info.reason, byPeer: info.byPeer });
    },
  });
}
