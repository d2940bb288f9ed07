/** The relay's half of a session: execute each OPEN (CONNECT, BIND, UDP ASSOCIATE) for its stream. */
import { Command, ReplyCode, type Address } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';
import { formatHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import type { BindOptions } from '../dialers/bind.js';
import { handleBind } from './bind-handler.js';
import { handleConnect } from './connect-handler.js';
import { handleUdpAssociate } from './udp-handler.js';

export interface ServeSessionOptions {
  dialTimeoutMs: number;
  bind: BindOptions;
  /** The relay's own address on the tunnel's connection, announced for BIND when nothing better is known. */
  localAddress: string;
  logger: Logger;
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
  session.on('open', (stream, command, target) => {
    const handler = HANDLERS[command];
    if (!handler) {
      options.logger.warn('command not supported', { stream: stream.id, command });
      session.answerOpen(stream, ReplyCode.CommandNotSupported);
      return;
    }
    const request = { session, stream, target, destination: formatHostPort(target), options };
    handler(request).catch((err: Error) => {
      options.logger.error('request failed', { stream: stream.id, dest: request.destination, error: err.message });
      session.answerOpen(stream, ReplyCode.GeneralFailure);
    });
  });
}
