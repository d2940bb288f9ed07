/** What the HTTP side of the port works with: shared by the server and its request handlers. */
import type { Logger } from '../../common/log.js';
import type { SocksCredentials } from '../config.js';
import type { Connector } from '../outbound/connector.js';
import type { PacRule } from './pac.js';

export interface HttpProxyDeps {
  /** Opens outbounds for CONNECT and forwarded requests: through the relay, or direct (client/outbound/). */
  connector: Connector;
  /** --socks-user: HTTP requests need the same credentials as Basic Proxy-Authorization. */
  proxyUser: SocksCredentials | null;
  /** A request whose line and headers take longer than this is answered 408 and closed, like a slow SOCKS handshake. */
  handshakeTimeoutMs: number;
  /** The routing rules as the PAC file shows them: the same array until they change (SIGHUP), as the PAC file is rebuilt only then. */
  pacRules(): readonly PacRule[];
  logger: Logger;
}
