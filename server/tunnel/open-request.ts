/** One OPEN as the relay's command handlers see it, the settings they run under, and how they refuse it. */
import type { Address, ReplyCode } from '../../protocol/frame.js';
import type { IdleSweep } from './idle-sweep.js';
import type { Session } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';
import type { Logger, LogFields } from '../../common/log.js';
import type { BindOptions } from '../dialers/bind.js';
import type { UdpReplyFilter } from '../dialers/udp.js';
import type { DestinationPolicy } from '../policy/destination-policy.js';
import type { OpenObserver } from '../status/open-observer.js';
import type { TunnelLimits } from './limits.js';

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
  /** Told of each stream and how its OPEN ends (the relay's status model); optional so the tunnel works without one. */
  observer?: OpenObserver;
}

/** What a command handler gets: the session, the stream, the requested address, and the settings. */
export interface OpenRequest {
  session: Session;
  stream: Stream;
  target: Address;
  /** `target` as HOST:PORT, for logs. */
  destination: string;
  options: ServeSessionOptions;
  /** The session's --idle-timeout sweep; null when it is off. */
  idle: IdleSweep<Stream> | null;
}

/** Why an OPEN failed: the SOCKS reply the client gets, and the name it is counted under. */
export interface Refusal {
  reply: ReplyCode;
  /** An ErrorReason or an errno code. */
  reason: string;
  /** How long the dial took, for a CONNECT. */
  dialMs?: number;
}

/** A log line; the stream's id is put first among its fields. */
export interface RefusalLog {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields?: LogFields;
}

/** Logs why, tells the observer (unless the client already gave up), and answers the OPEN with the refusal. */
export function refuseOpen(request: OpenRequest, refusal: Refusal, log: RefusalLog): void {
  report(request, refusal, log);
  request.session.answerOpen(request.stream, refusal.reply);
}

/** The same for BIND's second answer: the listener was up, but no acceptable peer came. */
export function refuseBind(request: OpenRequest, refusal: Refusal, log: RefusalLog): void {
  report(request, refusal, log);
  request.session.answerBind(request.stream, refusal.reply);
}

function report({ stream, options }: OpenRequest, { reply, reason, dialMs }: Refusal, { level, message, fields }: RefusalLog): void {
  options.logger[level](message, { stream: stream.id, ...fields });
  if (!stream.isClosed) options.observer?.refused(stream, reply, reason, dialMs);
}
