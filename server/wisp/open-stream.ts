/**
 * A Wisp CONNECT on the relay: the same checks and the same dialer as a tunnel's CONNECT
 * (tunnel/connect-handler.ts), answered the Wisp way: nothing on success (the client may
 * already be sending), a CLOSE whose reason close-reasons.ts maps from the failure.
 */
import { replyForErrno } from '../../common/errno-replies.js';
import { formatHostPort } from '../../common/host-port.js';
import { Command, ReplyCode, type Address } from '../../protocol/frame.js';
import { dialTcp, DialError } from '../dialers/connect.js';
import { ErrorReason } from '../status/error-reasons.js';
import { wispCloseReasonFor } from './close-reasons.js';
import { WispCloseReason, WispStreamType, type WispConnect } from './codec.js';
import type { WispRefusal, WispStreamOpener } from './stream-opener.js';
import { openUdp } from './wisp-udp.js';
import { WispStream } from './wisp-stream.js';

export function openWispStream(session: WispStreamOpener, packet: WispConnect): void {
  const { options } = session;
  const command = packet.streamType === WispStreamType.Udp ? Command.UdpAssociate : Command.Connect;
  const stream = new WispStream(packet.streamId, command, options.bufferPackets, session);
  const target: Address = { host: packet.hostname, port: packet.port };
  session.track(stream);
  options.observer.addStream(stream, command, target);
  const refusal = admissionRefusal(session, packet, stream);
  if (refusal !== null) return refuse(session, stream, target, refusal);
  if (command === Command.UdpAssociate) void openUdp(session, stream, target).then((failure) => failure && refuse(session, stream, target, failure));
  else void dial(session, stream, target);
}

/** Why the stream may not even be dialed: a bad request, UDP off, a draining relay, a limit. */
function admissionRefusal(session: WispStreamOpener, packet: WispConnect, stream: WispStream): WispRefusal | null {
  const { options } = session;
  if (packet.streamType !== WispStreamType.Tcp && packet.streamType !== WispStreamType.Udp) {
    return { reply: ReplyCode.CommandNotSupported, reason: ErrorReason.CommandNotSupported };
  }
  if (packet.streamType === WispStreamType.Udp && !options.udp) return { reply: ReplyCode.CommandNotSupported, reason: ErrorReason.CommandNotSupported };
  // The codec reads the port as a u16, so only 0 is out of range.
  if (packet.port === 0 || packet.hostname.length === 0) {
    return { reply: ReplyCode.AddressTypeNotSupported, reason: ErrorReason.WispBadPacket };
  }
  if (options.isDraining()) return { reply: ReplyCode.GeneralFailure, reason: ErrorReason.ShuttingDown };
  const limit = session.limiter.admit(stream, stream.command);
  if (limit !== null) return { reply: ReplyCode.GeneralFailure, reason: limit };
  return null;
}

async function dial(session: WispStreamOpener, stream: WispStream, target: Address): Promise<void> {
  const { options } = session;
  const started = performance.now();
  try {
    const { socket, reads } = await dialTcp(target, options.dialTimeoutMs, options.policy);
    if (stream.isClosed) {
      socket.destroy(); // the page gave up while we dialed
      return;
    }
    const resolved = socket.remoteAddress ? { host: socket.remoteAddress, port: socket.remotePort ?? target.port } : null;
    options.observer.opened(stream, resolved, performance.now() - started);
    options.logger.debug('wisp stream connected', { stream: stream.id, dest: formatHostPort(target) });
    stream.attach(socket, reads, { ended: WispCloseReason.Voluntary, failed: WispCloseReason.NetworkError });
  } catch (err) {
    const code = err instanceof DialError ? err.code : ErrorReason.UnknownDialError;
    if (err instanceof DialError && err.rule) options.logger.warn('wisp connect refused by policy', { stream: stream.id, dest: formatHostPort(target), rule: err.rule });
    refuse(session, stream, target, { reply: replyForErrno(code), reason: code, dialMs: performance.now() - started });
  }
}

function refuse(session: WispStreamOpener, stream: WispStream, target: Address, refusal: WispRefusal): void {
  const { options } = session;
  if (stream.isClosed) return;
  const close = wispCloseReasonFor(refusal.reply, refusal.reason);
  options.logger.info('wisp stream refused', { stream: stream.id, dest: formatHostPort(target), reason: refusal.reason, close });
  options.observer.refused(stream, refusal.reply, refusal.reason, refusal.dialMs);
  session.closeStream(stream, close);
}
