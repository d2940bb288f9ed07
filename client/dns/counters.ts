/** What the DNS listener did, for tests and a summary line when it closes. */
import { DnsFailure } from './failures.js';

export type DnsTransport = 'udp' | 'tcp';

export class DnsCounters {
  /** Queries taken in, by transport. */
  readonly queries: Record<DnsTransport, number> = { udp: 0, tcp: 0 };
  /** Answers from the upstream passed back (whatever their RCODE). */
  answered = 0;
  /** SERVFAILs we made, by why. */
  readonly servfail: Record<DnsFailure, number> = Object.fromEntries(Object.values(DnsFailure).map((code) => [code, 0])) as Record<DnsFailure, number>;
  /** UDP answers cut down to the requester's size with TC set. */
  truncated = 0;
  /** Messages dropped as not a query (short, or a response); a TCP connection sending one is closed. */
  malformed = 0;

  get servfailTotal(): number {
    return Object.values(this.servfail).reduce((sum, count) => sum + count, 0);
  }
}
