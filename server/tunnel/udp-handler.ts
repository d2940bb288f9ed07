/**
 * UDP ASSOCIATE: one association per stream. Datagrams cross the tunnel as DATAGRAM frames;
 * the association lives exactly as long as its stream.
 */
import { ReplyCode, type Address } from '../../protocol/frame.js';
import { replyForErrno } from '../../common/errno-replies.js';
import { formatHostPort } from '../../common/host-port.js';
import type { Logger, LogFields } from '../../common/log.js';
import { UdpAssociation } from '../dialers/udp.js';
import { ErrorReason } from '../status/error-reasons.js';
import { refuseOpen, type OpenRequest } from './open-request.js';

export async function handleUdpAssociate(request: OpenRequest): Promise<void> {
  const { session, stream, options } = request;
  const { logger } = options;
  const logDrop = firstAtInfo(logger);
  const logForeign = firstAtInfo(logger);
  const association = new UdpAssociation({
    onReply: (source, payload) => session.sendDatagram(stream, source, payload),
    onDrop: (destination, reason) => logDrop('udp datagram dropped', { stream: stream.id, dest: formatHostPort(destination), reason }),
    onForeignReply: (source) =>
      logForeign('udp reply dropped: the client never sent to its source (--udp-replies contacted)', { stream: stream.id, source: formatHostPort(source) }),
  }, options.policy, options.udpReplies);
  stream.whenClosed(() => association.close());
  let bound: Address;
  try {
    bound = await association.start();
  } catch (err) {
    // E.g. EMFILE: no UDP socket to be had. The client hears why, as for a failed dial.
    const code = (err as NodeJS.ErrnoException).code;
    refuseOpen(request, { reply: replyForErrno(code), reason: code ?? ErrorReason.UnknownDialError }, { level: 'warn', message: 'udp association failed', fields: { code, error: (err as Error).message } });
    return;
  }
  if (stream.isClosed) return;
  stream.onDatagram = (destination, payload) => association.send(destination, payload);
  options.observer?.opened(stream, null);
  session.answerOpen(stream, ReplyCode.Succeeded, bound);
  logger.debug('udp association open', { stream: stream.id, bound: formatHostPort(bound) });
}

/** One line per association at info level says why; the rest go to debug, so a flood can't flood the log. */
function firstAtInfo(logger: Logger): (message: string, fields: LogFields) => void {
  let logged = false;
  return (message, fields) => {
    logger[logged ? 'debug' : 'info'](message, fields);
    logged = true;
  };
}
