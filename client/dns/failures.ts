/**
 * Why a query got SERVFAIL instead of an answer: stable codes, counted per code and named in
 * log lines. Code compares against these names, never against the strings.
 */
export const DnsFailure = {
  /** No tunnel to the relay came up in time (or the client is stopping it). */
  TunnelDown: 'tunnel-down',
  /** The relay would not connect to --dns-upstream: its policy refused it, or the dial failed. */
  UpstreamRefused: 'upstream-refused',
  /** The upstream connection closed before answering anything on it. */
  UpstreamClosed: 'upstream-closed',
  /** No answer within --dns-timeout. */
  Timeout: 'timeout',
  /** More queries in flight than the forwarder takes (MAX_DNS_IN_FLIGHT). */
  TooManyInFlight: 'too-many-in-flight',
  /** The listener is closing. */
  Stopping: 'stopping',
  /** A bug: an unexpected exception while forwarding (logged as a warning). */
  Internal: 'internal-error',
} as const;
export type DnsFailure = (typeof DnsFailure)[keyof typeof DnsFailure];

/** A query the upstream pipe could not get answered; `detail` is for the log line. */
export class DnsQueryError extends Error {
  constructor(
    readonly code: DnsFailure,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'DnsQueryError';
  }
}
