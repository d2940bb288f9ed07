/**
 * Whether an HTTP upgrade may become a tunnel: the tunnel path and a known token first, then
 * a relay that is not draining and room under that token's tunnel limit. An upgrade without
 * the path and a token is no tunnel request at all: the caller answers it as the same
 * request without an upgrade would be answered (404, or the --fallback origin), so nothing
 * tells a prober that a tunnel lives here. Only an authenticated client hears 503 or 429.
 */
import { HttpStatus } from '../http-status.js';
import { requestPath } from '../request-path.js';
import { refuseOnSocket } from '../socket-response.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.js';
import { ErrorReason } from '../status/error-reasons.js';
import type { Account, Accounts } from './accounts.js';
import { presentedToken } from './auth.js';

export interface UpgradeGate {
  /** The tunnel path (--path). */
  path: string;
  accounts: () => Accounts;
  isDraining: () => boolean;
  /** Tunnels the token of this name holds now. */
  tunnelsOf: (tokenName: string) => number;
  logger: Logger;
  countError: (reason: ErrorReason) => void;
}

export type Admission =
  /** Open a tunnel for this account. */
  | { kind: 'tunnel'; account: Account }
  /** An authenticated client was refused; the socket has its answer. */
  | { kind: 'refused' }
  /** Not a tunnel request: answer it as an ordinary request. */
  | { kind: 'ordinary' };

export function admitUpgrade(req: IncomingMessage, socket: Duplex, gate: UpgradeGate): Admission {
  if (requestPath(req.url) !== gate.path) return { kind: 'ordinary' };
  return admitToken(req, socket, gate, presentedToken(req));
}

/** The same checks for a token presented some other way (Wisp's /wisp/TOKEN/ path). */
export function admitToken(req: IncomingMessage, socket: Duplex, gate: UpgradeGate, presented: string | null): Admission {
  const account = gate.accounts().match(presented);
  if (account === null) {
    gate.logger.warn('tunnel refused: missing or wrong token', { remote: req.socket.remoteAddress });
    gate.countError(ErrorReason.UnauthorizedTunnel);
    return { kind: 'ordinary' };
  }
  if (gate.isDraining()) return rejectUpgrade(socket, HttpStatus.ServiceUnavailable, 'Service Unavailable');
  if (gate.tunnelsOf(account.name) >= account.maxTunnels) return refuseOverLimit(socket, gate, account);
  return { kind: 'tunnel', account };
}

/** The token holds all its tunnels already (here, or with --workers N across the workers): 429. */
export function refuseOverLimit(socket: Duplex, gate: UpgradeGate, account: Account): Admission {
  gate.logger.warn('tunnel refused: too many tunnels for this token', { token: account.name, limit: account.maxTunnels });
  gate.countError(ErrorReason.TunnelsPerToken);
  return rejectUpgrade(socket, HttpStatus.TooManyRequests, 'Too Many Requests');
}


function rejectUpgrade(socket: Duplex, status: number, text: string): Admission {
  refuseOnSocket(socket, status, text);
  return { kind: 'refused' };
}
