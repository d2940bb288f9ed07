/**
 * Stable names of the failures the relay counts: the keys of `errors` in the status API and
 * the `reason` label of sockbridge_errors_total. They are interface, so never reword one.
 * A failed dial is counted under its errno code instead (ECONNREFUSED, ETIMEDOUT…), except
 * where a name below stands for it.
 */
import { POLICY_REFUSED } from '../../common/errno-replies.js';

export const ErrorReason = {
  // ---- tunnels refused at the HTTP upgrade ----
  /** No token, or a token the relay does not know, on the tunnel path: answered as any unknown request (404, or the --fallback origin's answer). */
  UnauthorizedTunnel: 'unauthorized-tunnel',
  /** The token already holds --max-tunnels-per-token tunnels (HTTP 429). */
  TunnelsPerToken: 'limit-tunnels-per-token',
  /** With --workers, the primary did not answer a worker's request for a tunnel slot in time (HTTP 503). */
  ClusterPrimaryUnanswered: 'cluster-primary-unanswered',

  // ---- the --fallback origin ----
  /** The origin could not be reached, failed before answering (the prober got 502) or went silent for 60 s (504). */
  FallbackUnreachable: 'fallback-unreachable',

  // ---- tunnels that ended badly ----
  /** The client broke the wire format or the session's rules (GO_AWAY protocol error). */
  TunnelProtocolError: 'tunnel-protocol-error',
  /** The client stopped answering pings. */
  TunnelKeepaliveTimeout: 'tunnel-keepalive-timeout',
  /** The client speaks no protocol version the relay does. */
  TunnelUnsupportedVersion: 'tunnel-unsupported-version',
  /** The client sent a frame over --max-frame-size. */
  FrameSize: 'limit-frame-size',

  // ---- OPENs refused ----
  /** The tunnel already holds --max-streams open streams. */
  StreamsPerTunnel: 'limit-streams-per-tunnel',
  /** The tunnel already holds --max-binds BIND listeners. */
  BindsPerTunnel: 'limit-binds-per-tunnel',
  /** The tunnel already holds --max-udp UDP associations. */
  UdpPerTunnel: 'limit-udp-per-tunnel',
  /** The relay is draining: new streams are refused while open ones finish. */
  ShuttingDown: 'shutting-down',
  /** An OPEN command the relay does not implement. */
  CommandNotSupported: 'command-not-supported',
  /** A handler failed in a way it did not foresee (a bug, or an exotic system error). */
  InternalError: 'internal-error',
  /** The destination rules refused a CONNECT, BIND or BIND peer (SOCKS reply 0x02). Errno-shaped, as dial codes are. */
  PolicyRefused: POLICY_REFUSED,
  /** A BIND peer that is not the host the client named. */
  UnexpectedPeer: 'unexpected-peer',
  /** A dial or listen failed without an errno code. */
  UnknownDialError: 'EUNKNOWN',

  // ---- Wisp (server/wisp/) ----
  /** A Wisp client sent more DATA on a stream than its credit allowed: that stream was closed (0x49). */
  WispCreditExceeded: 'wisp-credit-exceeded',
  /** A Wisp packet that could not be parsed, a text message, or a CONNECT for stream 0 or a stream already open. */
  WispBadPacket: 'wisp-bad-packet',

  // ---- streams reset after they opened ----
  /** Bytes received from the client but not yet taken by target sockets, summed over the tunnel, went over --max-pending-bytes. */
  PendingBytesPerTunnel: 'limit-pending-bytes-per-tunnel',
  /** A stream with no DATA either way for --idle-timeout. */
  IdleTimeout: 'idle-timeout',
} as const;
export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];
