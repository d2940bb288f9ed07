/**
 * A Wisp UDP stream (relay --wisp-udp): the destination's name is resolved once and judged
 * by the destination policy, as a CONNECT's is, then datagrams go through the tunnel's UDP
 * dialer (dialers/udp.ts), which takes replies only from the destination it was sent to.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { replyForErrno } from '../../common/errno-replies.js';
import type { Address } from '../../protocol/frame.js';
import { UdpAssociation } from '../dialers/udp.js';
import { ErrorReason } from '../status/error-reasons.js';
import type { WispRefusal, WispStreamOpener } from './stream-opener.js';
import type { WispStream } from './wisp-stream.js';

/** Resolves, judges and binds; the refusal when the stream cannot be carried, else null. */
export async function openUdp(session: WispStreamOpener, stream: WispStream, target: Address): Promise<WispRefusal | null> {
  const { options } = session;
  let ip: string;
  try {
    ip = isIP(target.host) !== 0 ? target.host : (await lookup(target.host)).address;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ErrorReason.UnknownDialError;
    return { reply: replyForErrno(code), reason: code };
  }
  const decision = options.policy.decide({ name: isIP(target.host) === 0 ? target.host : null, ip, port: target.port, command: 'udp' });
  if (!decision.allowed) {
    options.logger.warn('wisp udp refused by policy', { stream: stream.id, rule: decision.rule });
    return { reply: replyForErrno(ErrorReason.PolicyRefused), reason: ErrorReason.PolicyRefused };
  }
  const destination = { host: ip, port: target.port };
  const association = new UdpAssociation(
    {
      onReply: (_source, payload) => void stream.reply(payload),
      onDrop: (_dest, reason) => options.logger.debug('wisp datagram dropped', { stream: stream.id, reason }),
      onForeignReply: () => {},
    },
    options.policy,
    'contacted',
  );
  try {
    await association.start();
  } catch (err) {
    // The socket could not bind (EMFILE…): refuse the stream, as a failed lookup is.
    association.close();
    const code = (err as NodeJS.ErrnoException).code ?? ErrorReason.UnknownDialError;
    return { reply: replyForErrno(code), reason: code };
  }
  if (stream.isClosed) {
    association.close();
    return null;
  }
  options.observer.opened(stream, destination);
  stream.attachUdp({ send: (payload) => association.send(destination, payload), close: () => association.close() });
  return null;
}
