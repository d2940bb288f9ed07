/** Wires one relay session into the status model: the tunnel while it lasts, and how it ended. */
import { ProtocolErrorCode } from '../../protocol/error-codes.js';
import { GoAwayCode } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import { ErrorReason } from './error-reasons.js';
import type { StatusModel, TrackedTunnel } from './status-model.js';

/** Session ends worth counting as errors; a client that simply goes away is not one. */
const ERROR_BY_GOAWAY: Readonly<Partial<Record<GoAwayCode, ErrorReason>>> = {
  [GoAwayCode.ProtocolError]: ErrorReason.TunnelProtocolError,
  [GoAwayCode.KeepaliveTimeout]: ErrorReason.TunnelKeepaliveTimeout,
  [GoAwayCode.UnsupportedVersion]: ErrorReason.TunnelUnsupportedVersion,
};

/**
 * Registers the tunnel; the returned handle is the session's OpenObserver (serveSession
 * reports each stream to it). Only names and addresses are registered: the token itself
 * never reaches the model.
 */
export function trackSession(model: StatusModel, session: Session, remote: string, tokenName: string): TrackedTunnel {
  const tunnel = model.addTunnel({ remote, tokenName, counters: session });
  session.on('close', (info) => {
    const reason = info.errorCode === ProtocolErrorCode.FrameTooLarge ? ErrorReason.FrameSize : ERROR_BY_GOAWAY[info.code];
    if (reason) model.countError(reason);
    tunnel.close();
  });
  return tunnel;
}
