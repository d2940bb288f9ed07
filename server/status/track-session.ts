/** Wires one relay session into the status model: its streams as they open, its end. */
import { ProtocolErrorCode } from '../../protocol/error-codes.js';
import { GoAwayCode } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import type { StatusModel, TrackedTunnel } from './status-model.js';

/** Session ends worth counting as errors; a client that simply goes away is not one. */
const ERROR_BY_GOAWAY: Readonly<Partial<Record<GoAwayCode, string>>> = {
  [GoAwayCode.ProtocolError]: 'tunnel-protocol-error',
  [GoAwayCode.KeepaliveTimeout]: 'tunnel-keepalive-timeout',
  [GoAwayCode.UnsupportedVersion]: 'tunnel-unsupported-version',
};

/**
 * Call before serveSession(), so the model has the stream before any handler reports on it.
 * Registering a tunnel touches only names and addresses: the token itself never reaches the model.
 */
export function trackSession(model: StatusModel, session: Session, remote: string, tokenName: string): TrackedTunnel {
  const tunnel = model.addTunnel({ remote, tokenName, counters: session });
  session.on('open', (stream, command, address) => tunnel.addStream(stream, command, address));
  session.on('close', (info) => {
    const reason = info.errorCode === ProtocolErrorCode.FrameTooLarge ? 'limit-frame-size' : ERROR_BY_GOAWAY[info.code];
    if (reason) model.countError(reason);
    tunnel.close();
  });
  return tunnel;
}
