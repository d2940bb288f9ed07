/** CONNECT: dial, answer only once the dial has succeeded or failed, then join socket and stream. */
import { ReplyCode } from '../../protocol/frame.js';
import { bridgeSocket } from '../../protocol/socket-bridge.js';
import { formatHostPort } from '../../common/host-port.js';
import { dialTcp, DialError, type DialedSocket } from '../dialers/connect.js';
import { replyForErrno } from '../../common/errno-replies.js';
import { ErrorReason } from '../status/error-reasons.js';
import { refuseOpen, type OpenRequest } from './open-request.js';

export async function handleConnect(request: OpenRequest): Promise<void> {
  const { session, stream, target, destination, options } = request;
  const { logger } = options;
  let dialed: DialedSocket;
  const dialStart = performance.now();
  try {
    dialed = await dialTcp(target, options.dialTimeoutMs, options.policy);
  } catch (err) {
    const code = err instanceof DialError ? err.code : ErrorReason.UnknownDialError;
    const reply = replyForErrno(code);
    const log =
      err instanceof DialError && err.rule
        ? { level: 'warn' as const, message: 'connect refused by policy', fields: { dest: destination, rule: err.rule } }
        : { level: 'info' as const, message: 'connect failed', fields: { dest: destination, code, reply } };
    refuseOpen(request, { reply, reason: code, dialMs: performance.now() - dialStart }, log);
    return;
  }
  const { socket, reads } = dialed;
  if (stream.isClosed) {
    socket.destroy(); // the client gave up while we dialed
    return;
  }
  const bound = { host: socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? 0 };
  logger.debug('connected', { stream: stream.id, dest: destination, bound: formatHostPort(bound) });
  // The destination as resolved: the status page shows it next to the name the client asked for.
  const resolved = socket.remoteAddress ? { host: socket.remoteAddress, port: socket.remotePort ?? target.port } : null;
  options.observer?.opened(stream, resolved, performance.now() - dialStart);
  session.answerOpen(stream, ReplyCode.Succeeded, bound);
  bridgeSocket(stream, socket, {
    reads,
    onClose: (info) => {
      if (info) logger.debug('stream reset', { stream: stream.id, dest: destination, reason: info.reason, byPeer: info.byPeer });
    },
  });
}
