/** The relay's half of a session: execute each OPEN (CONNECT, BIND, UDP ASSOCIATE) for its stream. */
import { Command, ReplyCode, ResetCode } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';
import { formatHostPort } from '../../common/host-port.js';
import { ErrorReason } from '../status/error-reasons.js';
import { handleBind } from './bind-handler.js';
import { handleConnect } from './connect-handler.js';
import { IdleSweep } from './idle-sweep.js';
import { StreamLimiter } from './limits.js';
import { limitPendingBytes } from './pending-limit.js';
import { refuseOpen, type OpenRequest, type ServeSessionOptions } from './open-request.js';
import { handleUdpAssociate } from './udp-handler.js';

const HANDLERS: Readonly<Record<number, (request: OpenRequest) => Promise<void>>> = {
  [Command.Connect]: handleConnect,
  [Command.Bind]: handleBind,
  [Command.UdpAssociate]: handleUdpAssociate,
};

export function serveSession(session: Session, options: ServeSessionOptions): void {
  const limiter = new StreamLimiter(options.limits);
  const idle = sweepIdleStreams(session, options);
  if (options.limits.maxPendingBytes !== undefined) shedPendingBytes(session, options.limits.maxPendingBytes, options);
  session.on('open', (stream, command, target) => {
    // Registered first, so the observer knows the stream before any handler reports on it.
    options.observer?.addStream(stream, command, target);
    const request: OpenRequest = { session, stream, target, destination: formatHostPort(target), options, idle };
    if (admit(request, limiter, command)) runHandler(request, HANDLERS[command]);
  });
}

/** Refuses the OPEN and returns false when no handler, the draining relay, or a tunnel limit stands in its way. */
function admit(request: OpenRequest, limiter: StreamLimiter, command: Command): boolean {
  const { stream, options } = request;
  if (!HANDLERS[command]) {
    refuseOpen(request, { reply: ReplyCode.CommandNotSupported, reason: ErrorReason.CommandNotSupported }, { level: 'warn', message: 'command not supported', fields: { command } });
    return false;
  }
  if (options.isDraining?.()) {
    refuseOpen(request, { reply: ReplyCode.GeneralFailure, reason: ErrorReason.ShuttingDown }, { level: 'info', message: 'stream refused: relay shutting down' });
    return false;
  }
  const limit = limiter.admit(stream, command);
  if (limit) {
    refuseOpen(request, { reply: ReplyCode.GeneralFailure, reason: limit }, { level: 'warn', message: 'stream refused: tunnel limit reached', fields: { limit } });
    return false;
  }
  return true;
}

function runHandler(request: OpenRequest, handler: (request: OpenRequest) => Promise<void>): void {
  handler(request).catch((err: Error) => {
    refuseOpen(
      request,
      { reply: ReplyCode.GeneralFailure, reason: ErrorReason.InternalError },
      { level: 'error', message: 'request failed', fields: { dest: request.destination, error: err.message } },
    );
  });
}

/** --idle-timeout: resets streams that moved nothing for it, logged and counted. Null when off. */
function sweepIdleStreams(session: Session, options: ServeSessionOptions): IdleSweep<Stream> | null {
  const idleTimeoutMs = options.limits.idleTimeoutMs ?? 0;
  if (idleTimeoutMs <= 0) return null;
  const idle = new IdleSweep(session.streams, idleTimeoutMs, (stream, idleMs) => {
    options.logger.info('stream closed: idle', { stream: stream.id, idleMs, limitMs: idleTimeoutMs });
    options.observer?.countError(ErrorReason.IdleTimeout);
    stream.reset(ResetCode.Limit, 'idle timeout');
  });
  session.on('close', () => idle.stop());
  return idle;
}

/** --max-pending-bytes: the stream holding the most pays for a tunnel over the limit. */
function shedPendingBytes(session: Session, limit: number, options: ServeSessionOptions): void {
  limitPendingBytes(session, limit, (stream, incoming) => {
    options.logger.warn('stream reset: tunnel limit reached', {
      stream: stream.id,
      limit: ErrorReason.PendingBytesPerTunnel,
      pendingBytes: session.pendingBytes,
      streamPendingBytes: stream.pendingBytes,
      incoming,
    });
    options.observer?.countError(ErrorReason.PendingBytesPerTunnel);
    stream.reset(ResetCode.Limit, 'tunnel pending bytes over limit');
  });
}
