/**
 * Whether an HTTP upgrade may become a tunnel: the path, a relay that is not draining, a
 * known token, and room under that token's tunnel limit. A refusal is answered on the raw
 * socket before ws ever sees the request.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TUNNEL_PATH } from '../../protocol/frame.js';
import type { Logger } from '../../common/log.js';
import { ErrorReason } from '../status/error-reasons.js';
import type { Account, Accounts } from './accounts.js';
import { presentedToken } from './auth.js';

export interface UpgradeGate {
  accounts: () => Accounts;
  isDraining: () => boolean;
  /** Tunnels the token of this name holds now. */
  tunnelsOf: (tokenName: string) => number;
  logger: Logger;
  countError: (reason: ErrorReason) => void;
}

/** The account the upgrade opens a tunnel for, or null once it has been refused. */
export function admitUpgrade(req: IncomingMessage, socket: Duplex, gate: UpgradeGate): Account | null {
  const path = new URL(req.url ?? '/', 'http://relay').pathname;
  if (path !== TUNNEL_PATH) return rejectUpgrade(socket, 404, 'Not Found');
  if (gate.isDraining()) return rejectUpgrade(socket, 503, 'Service Unavailable');
  const account = gate.accounts().match(presentedToken(req));
  if (account === null) {
    gate.logger.warn('tunnel refused: missing or wrong token', { remote: req.socket.remoteAddress });
    gate.countError(ErrorReason.UnauthorizedTunnel);
    return rejectUpgrade(socket, 401, 'Unauthorized');
  }
  if (gate.tunnelsOf(account.name) >= account.maxTunnels) {
    gate.logger.warn('tunnel refused: too many tunnels for this token', { token: account.name, limit: account.maxTunnels });
    gate.countError(ErrorReason.TunnelsPerToken);
    return rejectUpgrade(socket, 429, 'Too Many Requests');
  }
  return account;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): null {
  const extra = status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '';
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
  return null;
}
