/** The relay's half of a session: execute each OPEN (CONNECT, BIND, UDP ASSOCIATE) for its stream. */
import { Command, ReplyCode, ResetCode, type Address } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';
import { formatHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import type { BindOptions } from '../dialers/bind.js';
import type { UdpReplyFilter } from '../dialers/udp.js';
import type { DestinationPolicy } from '../policy/destination-policy.js';
import { LimitName, startIdleSweep, StreamLimiter, type TunnelLimits } from './limits.js';
import { handleBind } from './bind-handler.js';
import { handleConnect } from './connect-handler.js';
import { handleUdpAssociate } from './udp-handler.js';

export interface ServeSessionOptions {
  dialTimeoutMs: number;
  /** Where CONNECT and UDP may go. */
  policy: DestinationPolicy;
  /** How much one tunnel may hold open. */
  limits: TunnelLimits;
  /** True while the relay shuts down: new streams are refused, open ones finish. */
  isDraining?: () => boolean;
  bind: BindOptions;
  /** Which sources may send into a UDP association (default: those the client sent to). */
  udpReplies?: UdpReplyFilter;
  /** The relay's own address on the tunnel's connection, announced for BIND when nothing better is known. */
  localAddress: string;
  logger: Logger;
  /** Told how each OPEN ends (the relay's status model); optional so the tunnel works without one. */
  observer?: OpenObserver;
}

/** Hears the outcome of every OPEN: the status page and the metrics are fed from here. */
export interface OpenObserver {
  /** The OPEN succeeded. `resolved` is where the relay connected (CONNECT) or listens (BIND); `dialMs` for CONNECT. */
  opened(stream: Stream, resolved: Address | null, dialMs?: number): void;
  /** The OPEN (or BIND's second answer) failed with `reply`; `reason` is an errno code or a short stable name. */
  refused(stream: Stream, reply: ReplyCode, reason: string, dialMs?: number): void;
  /** A failure after the OPEN succeeded (an idle stream, a tunnel over its pending bytes); `reason` is a stable name. */
  countError?(reason: string): void;
}

/** What a command handler gets: the session, the stream, the requested address, and the settings. */
export interface OpenRequest {
  session: Session;
  stream: Stream;
  target: Address;
  destination: string;
  options: ServeSessionOptions;
}

const HANDLERS: Readonly<Record<number, (request: OpenRequest) => Promise<void>>> = {
  [Command.Connect]: handleConnect,
  [Command.Bind]: handleBind,
  [Command.UdpAssociate]: handleUdpAssociate,
};

export function serveSession(session: Session, options: ServeSessionOptions): void {
  const limiter = new StreamLimiter(options.limits);
  const idleTimeoutMs = options.limits.idleTimeoutMs ?? 0;
  if (idleTimeoutMs > 0) {
    const stopSweep = startIdleSweep(session.streams, idleTimeoutMs, (stream, idleMs) => {
      options.logger.info('stream closed: idle', { stream: stream.id, idleMs, limitMs: idleTimeoutMs });
      options.observer?.countError?.(LimitName.IdleTimeout);
      stream.reset(ResetCode.Limit, 'idle timeout');
    });
    session.on('close', stopSweep);
  }
  // The relay's Session checks maxPendingBytes; here the stream holding the most pays for it.
  session.on('pending-over-limit', (stream, incoming) => {
    options.logger.warn('stream reset: tunnel limit reached', {
      stream: stream.id,
      limit: LimitName.PendingBytes,
      pendingBytes: session.pendingBytes,
      streamPendingBytes: stream.pendingBytes,
      incoming,
    });
    options.observer?.countError?.(LimitName.PendingBytes);
    stream.reset(ResetCode.Limit, 'tunnel pending bytes over limit');
  });
  session.on('open', (stream, command, target) => {
    const handler = HANDLERS[command];
    if (!handler) {
      options.logger.warn('command not supported', { stream: stream.id, command });
      options.observer?.refused(stream, ReplyCode.CommandNotSupported, 'command-not-supported');
      session.answerOpen(stream, ReplyCode.CommandNotSupported);
      return;
    }
    if (options.isDraining?.()) {
      options.logger.info('stream refused: relay shutting down', { stream: stream.id });
      options.observer?.refused(stream, ReplyCode.GeneralFailure, 'shutting-down');
      session.answerOpen(stream, ReplyCode.GeneralFailure);
      return;
    }
    const limit = limiter.admit(stream, command);
    if (limit) {
      options.logger.warn('stream refused: tunnel limit reached', { stream: stream.id, limit });
      options.observer?.refused(stream, ReplyCode.GeneralFailure, limit);
      session.answerOpen(stream, ReplyCode.GeneralFailure);
      return;
    }
    const request = { session, stream, target, destination: formatHostPort(target), options };
    handler(request).catch((err: Error) => {
      options.logger.error('request failed', { stream: stream.id, dest: request.destination, error: err.message });
      if (!stream.isClosed) options.observer?.refused(stream, ReplyCode.GeneralFailure, 'internal-error');
      session.answerOpen(stream, ReplyCode.GeneralFailure);
    });
  });
}
