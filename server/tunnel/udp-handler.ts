/**
 * UDP ASSOCIATE: one association per stream. Datagrams cross the tunnel as DATAGRAM frames;
 * the association lives exactly as long as its stream.
 */
import { ReplyCode } from '../../protocol/frame.js';
import { formatHostPort } from '../../common/host-port.js';
import { UdpAssociation } from '../dialers/udp.js';
import type { OpenRequest } from './serve-session.js';

export async function handleUdpAssociate({ session, stream, options }: OpenRequest): Promise<void> {
  const { logger } = options;
  let loggedDrop = false;
  let loggedForeign = false;
  const association = new UdpAssociation({
    onReply: (source, payload) => session.sendDatagram(stream, source, payload),
    onDrop: (destination, reason) => {
      // One line per association at info level says why; the rest go to debug, so a flood can't flood the log.
      const level = loggedDrop ? 'debug' : 'info';
      loggedDrop = true;
      logger[level]('udp datagram dropped', { stream: stream.id, dest: formatHostPort(destination), reason });
    },
    onForeignReply: (source) => {
      const level = loggedForeign ? 'debug' : 'info';
      loggedForeign = true;
      logger[level]('udp reply dropped: the client never sent to its source (--udp-replies contacted)', { stream: stream.id, source: formatHostPort(source) });
    },
  }, options.policy, options.udpReplies);
  stream.whenClosed(() => association.close());
  const bound = await association.start();
  if (stream.isClosed) return;
  stream.onDatagram = (destination, payload) => association.send(destination, payload);
  options.observer?.opened(stream, null);
  session.answerOpen(stream, ReplyCode.Succeeded, bound);
  logger.debug('udp association open', { stream: stream.id, bound: formatHostPort(bound) });
}
