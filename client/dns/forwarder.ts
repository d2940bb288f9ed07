/**
 * Turns a query into the datagram or TCP message to send back: the upstream's answer, or
 * SERVFAIL with the reason logged (at debug: one line per query, the name and nothing else
 * of it) and counted. Both listeners go through here.
 */
import type { Logger } from '../../common/log.js';
import type { DnsCounters, DnsTransport } from './counters.js';
import { DnsFailure, DnsQueryError } from './failures.js';
import { questionName, servfailFor } from './message.js';
import type { UpstreamPipe } from './upstream-pipe.js';

export class DnsForwarder {
  private accepting = true;

  constructor(
    private readonly pipe: UpstreamPipe,
    readonly counters: DnsCounters,
    private readonly logger: Logger,
  ) {}

  /** False once the listener is closing: the listeners drop new queries (the requester retries elsewhere). */
  get isAccepting(): boolean {
    return this.accepting;
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  /** Never rejects. `query` must be a query with a whole header (message.isQuery). */
  async answer(query: Buffer, transport: DnsTransport): Promise<Buffer> {
    this.counters.queries[transport] += 1;
    try {
      const answer = await this.pipe.exchange(query);
      this.counters.answered += 1;
      return answer;
    } catch (caught) {
      // Whatever went wrong, the asker gets an answer and the process goes on serving.
      const err = caught instanceof DnsQueryError ? caught : new DnsQueryError(DnsFailure.Internal, (caught as Error).message);
      if (err.code === DnsFailure.Internal) this.logger.warn('DNS: internal error while forwarding a query', { error: err.detail });
      this.counters.servfail[err.code] += 1;
      this.logger.debug('DNS query answered SERVFAIL', { name: questionName(query) ?? '-', transport, reason: err.code, detail: err.detail });
      return servfailFor(query);
    }
  }
}
