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
  const association = new UdpAssociation({
    onReply: (source, payload) => session.sendDatagram(stream, source, payload),
    onDrop: (destination, reason) => logger.debug('udp datagram dropped', { stream: stream.id, dest: formatHostPort(destination), reason }),
  });
  stream.whenClosed(() => association.close());
  const bound = await association.start();
  if (stream.isClosed) return;
  stream.onDatagram = (destination, payload) => association.send(destination, payload);
  options.observer?.opened(stream, null);
  session.answerOpen(stream, ReplyCode.Succeeded, bound);
  logger.debug('udp association open', { stream: stream.id, bound: formatHostPort(bound) });
}
