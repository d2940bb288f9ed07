/**
 * BIND: listen, answer with where; when the one peer connects, check it is the host the
 * client named, answer again with the peer's address, then join socket and stream.
 */
import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import { ReplyCode } from '../../protocol/frame.js';
import { bridgeSocket } from '../../protocol/socket-bridge.js';
import { formatHostPort } from '../../common/host-port.js';
import { isUnspecified, openBindListener, type BindListener } from '../dialers/bind.js';
import { DialError } from '../dialers/connect.js';
import { replyForErrno } from '../dialers/errno-replies.js';
import type { OpenRequest } from './serve-session.js';

export async function handleBind({ session, stream, target, destination, options }: OpenRequest): Promise<void> {
  const { logger } = options;
  let listener: BindListener;
  try {
    listener = await openBindListener(target, options.localAddress, options.bind);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    logger.warn('bind failed', { stream: stream.id, code, error: (err as Error).message });
    session.answerOpen(stream, replyForErrno(code));
    return;
  }
  stream.whenClosed(() => listener.close()); // the SOCKS client gave up: free the port at once
  if (stream.isClosed) return;
  session.answerOpen(stream, ReplyCode.Succeeded, listener.announced);
  logger.debug('bind listening', { stream: stream.id, announced: formatHostPort(listener.announced) });

  let peer: Socket;
  try {
    peer = await listener.accepted;
  } catch (err) {
    const code = err instanceof DialError ? err.code : 'EUNKNOWN';
    if (code !== 'ECANCELED') logger.info('bind: no connection came', { stream: stream.id, code });
    session.answerBind(stream, ReplyCode.GeneralFailure);
    return;
  }
  const peerAddress = { host: peer.remoteAddress ?? '0.0.0.0', port: peer.remotePort ?? 0 };
  if (!(await isExpectedPeer(peerAddress.host, target.host))) {
    logger.info('bind: refused a connection from an unexpected host', { stream: stream.id, peer: peerAddress.host, expected: destination });
    peer.destroy();
    session.answerBind(stream, ReplyCode.NotAllowed);
    return;
  }
  if (stream.isClosed) {
    peer.destroy();
    return;
  }
  session.answerBind(stream, ReplyCode.Succeeded, peerAddress);
  bridgeSocket(stream, peer);
}

/**
 * The SOCKS4 note: the incoming peer must be DSTIP. For SOCKS5 we apply the same check
 * to DST.ADDR unless it is all zeros (RFC 1928 leaves it open; Dante checks too).
 */
async function isExpectedPeer(peerHost: string, expectedHost: string): Promise<boolean> {
  if (isUnspecified(expectedHost)) return true;
  const peer = unmapIPv4(peerHost);
  if (isIP(expectedHost) !== 0) return unmapIPv4(expectedHost) === peer;
  try {
    const addresses = await lookup(expectedHost, { all: true });
    return addresses.some((entry) => unmapIPv4(entry.address) === peer);
  } catch {
    return false;
  }
}

function unmapIPv4(host: string): string {
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
}
