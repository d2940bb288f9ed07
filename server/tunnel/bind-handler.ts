/**
 * BIND: check the request against the destination rules, listen, answer with where; when
 * the one peer connects, check it is the host the client named and that the rules allow it,
 * answer again with the peer's address, then join socket and stream.
 */
import type { Socket } from 'node:net';
import { ReplyCode, type Address } from '../../protocol/frame.js';
import { bridgeSocket } from '../../protocol/socket-bridge.js';
import type { Stream } from '../../protocol/stream.js';
import { formatHostPort } from '../../common/host-port.js';
import { BIND_CANCELED, openBindListener, type BindListener } from '../dialers/bind.js';
import { DialError } from '../dialers/connect.js';
import { replyForErrno } from '../../common/errno-replies.js';
import { ErrorReason } from '../status/error-reasons.js';
import { checkBindPeer, checkBindRequest } from './bind-peers.js';
import { refuseBind, refuseOpen, type OpenRequest } from './open-request.js';

export async function handleBind(request: OpenRequest): Promise<void> {
  const { session, stream } = request;
  const listening = await listenForBind(request);
  if (listening === null) return;
  const early = holdUntilPeer(stream, () => listening.listener.close());
  request.idle?.exempt(stream); // the bind timeout governs the wait for the peer, not the idle timeout
  const accepted = await acceptBindPeer(request, listening);
  if (accepted === null) return;
  const { peer, peerAddress } = accepted;
  session.answerBind(stream, ReplyCode.Succeeded, peerAddress);
  request.idle?.activeFrom(stream); // idle time counts from the peer's arrival
  early.flushTo(peer);
  bridgeSocket(stream, peer);
}

interface Listening {
  listener: BindListener;
  /** The addresses the peer may come from; null: any. */
  expected: ReadonlySet<string> | null;
}

/** The rules' check, the listener, and the first answer (where to connect); null when refused (answered already). */
async function listenForBind(request: OpenRequest): Promise<Listening | null> {
  const { session, stream, target, destination, options } = request;
  // Resolved before anyone can connect, so the check after accept waits on no I/O: while a
  // lookup ran, the unattended peer socket could reset (an uncaught 'error' that took the
  // relay down) or end (an 'end' that no bridge heard).
  const { expected, refusedBy } = await checkBindRequest(target, options.policy);
  if (refusedBy !== null) {
    refuseOpen(
      request,
      { reply: ReplyCode.NotAllowed, reason: ErrorReason.PolicyRefused },
      { level: 'warn', message: 'bind refused by policy', fields: { dest: destination, rule: refusedBy } },
    );
    return null;
  }
  let listener: BindListener;
  try {
    listener = await openBindListener(target, options.localAddress, options.bind);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    refuseOpen(
      request,
      { reply: replyForErrno(code), reason: code ?? ErrorReason.UnknownDialError },
      { level: 'warn', message: 'bind failed', fields: { code, error: (err as Error).message } },
    );
    return null;
  }
  stream.whenClosed(() => listener.close()); // the SOCKS client gave up: free the port at once
  if (stream.isClosed) return null;
  options.observer?.opened(stream, listener.announced);
  session.answerOpen(stream, ReplyCode.Succeeded, listener.announced);
  options.logger.debug('bind listening', { stream: stream.id, announced: formatHostPort(listener.announced) });
  return { listener, expected };
}

/** The one peer, once it is the host the client named and the rules allow it; null when none is (answered already). */
async function acceptBindPeer(request: OpenRequest, { listener, expected }: Listening): Promise<{ peer: Socket; peerAddress: Address } | null> {
  const { session, stream, destination, options } = request;
  let peer: Socket;
  try {
    peer = await listener.accepted;
  } catch (err) {
    const code = err instanceof DialError ? err.code : ErrorReason.UnknownDialError;
    // Canceled: the client went away (its stream closed, or its FIN came), so nothing failed to log or count.
    if (code === BIND_CANCELED) session.answerBind(stream, ReplyCode.GeneralFailure);
    else refuseBind(request, { reply: ReplyCode.GeneralFailure, reason: code }, { level: 'info', message: 'bind: no connection came', fields: { code } });
    return null;
  }
  const peerAddress = { host: peer.remoteAddress ?? '0.0.0.0', port: peer.remotePort ?? 0 };
  const verdict = checkBindPeer(peerAddress, expected, options.policy);
  if (!verdict.allowed) {
    const peerText = formatHostPort(peerAddress);
    const log =
      verdict.reason === ErrorReason.PolicyRefused
        ? { level: 'warn' as const, message: 'bind: refused a connection by policy', fields: { peer: peerText, rule: verdict.rule } }
        : { level: 'info' as const, message: 'bind: refused a connection from an unexpected host', fields: { peer: peerText, expected: destination } };
    peer.destroy();
    refuseBind(request, { reply: ReplyCode.NotAllowed, reason: verdict.reason }, log);
    return null;
  }
  if (stream.isClosed) {
    peer.destroy();
    return null;
  }
  return { peer, peerAddress };
}

/**
 * Until the peer connects there is no socket for the client's bytes, so they wait here
 * (bounded by the stream's receive window: no credit is returned until the peer takes
 * them). The client's FIN in that time means it went away — a proxy cannot tell a closed
 * SOCKS socket from a half-closed one without writing — so `onGone` frees the port now
 * rather than when the accept timeout (2 min by default) runs out.
 */
function holdUntilPeer(stream: Stream, onGone: () => void): { flushTo(peer: Socket): void } {
  const held: Buffer[] = [];
  stream.attach({
    onData: (chunk) => held.push(chunk),
    onEnd: onGone,
    onDrain: () => {},
    onClose: () => {},
  });
  return {
    flushTo(peer) {
      for (const chunk of held.splice(0)) {
        peer.write(chunk, (err) => {
          if (!err) stream.consumed(chunk.length);
        });
      }
    },
  };
}
