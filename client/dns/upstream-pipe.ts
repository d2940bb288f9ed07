/**
 * One DNS-over-TCP connection to --dns-upstream, carried by a CONNECT stream through the
 * tunnel, with every query pipelined on it (RFC 7766 §6.2.1.1): queries go out as they
 * come, answers return in any order and are matched by ID. Queries from different clients
 * may carry the same ID, so each gets a fresh upstream ID while in flight and its own back
 * in the answer. The connection is opened when a query needs it and reopened after it closes
 * (servers close idle ones, RFC 7766 §6.2.3); queries it left unanswered go out again on the
 * next one, as long as the closed one had answered something (so a server that answers
 * nothing cannot loop us).
 */
import { formatHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import { Command, ReplyCode, ResetCode, type Address } from '../../protocol/frame.js';
import type { OpenResult, Session } from '../../protocol/session.js';
import type { SessionSource } from '../tunnel.js';
import type { Stream } from '../../protocol/stream.js';
import { DNS_HEADER_LENGTH, DNS_ID_SPACE, DnsHeaderOffset } from './constants.js';
import { DnsFailure, DnsQueryError } from './failures.js';
import { withId } from './message.js';
import { DnsTcpReader, frameForTcp } from './tcp-framing.js';
import { hexByte } from '../../common/hex-byte.js';

/** Queries waiting for an answer at once, over all clients; one more gets SERVFAIL at once. */
export const MAX_DNS_IN_FLIGHT = 1024;

export interface UpstreamPipeDeps {
  tunnel: SessionSource;
  upstream: Address;
  timeoutMs: number;
  logger: Logger;
}

interface InFlight {
  clientId: number;
  /** The query with its upstream ID. */
  wire: Buffer;
  resolve(answer: Buffer): void;
  reject(err: DnsQueryError): void;
  timer: NodeJS.Timeout;
  /** The connection it was sent on; null while it waits for one. */
  carrier: Carrier | null;
}

/** One upstream connection: a stream and what was sent on it. */
interface Carrier {
  session: Session;
  stream: Stream;
  result: Promise<OpenResult>;
  reader: DnsTcpReader;
  /** Upstream IDs sent here and not yet answered. */
  ids: Set<number>;
  answered: number;
  retired: boolean;
}

export class UpstreamPipe {
  private readonly inFlight = new Map<number, InFlight>();
  /** Upstream IDs waiting for a connection, in arrival order. */
  private waiting: number[] = [];
  private carrier: Carrier | null = null;
  private connecting = false;
  private stopped = false;
  private overloaded = false;
  private nextId = Math.floor(Math.random() * DNS_ID_SPACE);
  /** Upstream connections opened so far, for tests. */
  connections = 0;

  constructor(private readonly deps: UpstreamPipeDeps) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The upstream's answer to `query` (a whole header at least), with the query's own ID. */
  exchange(query: Buffer): Promise<Buffer> {
    if (this.stopped) return Promise.reject(new DnsQueryError(DnsFailure.Stopping, 'the DNS listener is closing'));
    if (this.inFlight.size >= MAX_DNS_IN_FLIGHT) return Promise.reject(this.overload());
    this.overloaded = false;
    const id = this.allocateId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.expire(id), this.deps.timeoutMs);
      const clientId = query.readUInt16BE(DnsHeaderOffset.Id);
      this.inFlight.set(id, { clientId, wire: withId(query, id), resolve, reject, timer, carrier: null });
      this.dispatch(id);
    });
  }

  /** Fails what is in flight with `stopping` and drops the upstream connection. Idempotent. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failAll([...this.inFlight.keys()], DnsFailure.Stopping, 'the DNS listener is closing');
    this.waiting = [];
    this.carrier?.stream.reset(ResetCode.Aborted, 'DNS listener closing');
    this.carrier = null;
  }

  private overload(): DnsQueryError {
    // One line per episode: a flood would otherwise write one per query.
    if (!this.overloaded) this.deps.logger.info('DNS: too many queries in flight, answering SERVFAIL', { limit: MAX_DNS_IN_FLIGHT });
    this.overloaded = true;
    return new DnsQueryError(DnsFailure.TooManyInFlight, `${MAX_DNS_IN_FLIGHT} queries already in flight`);
  }

  /** A 16-bit ID no query in flight uses; there is always one, as at most 1024 are. */
  private allocateId(): number {
    while (this.inFlight.has(this.nextId)) this.nextId = (this.nextId + 1) % DNS_ID_SPACE;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) % DNS_ID_SPACE;
    return id;
  }

  private dispatch(id: number): void {
    const carrier = this.carrier;
    if (carrier && !carrier.retired) return this.sendOn(carrier, id);
    this.waiting.push(id);
    void this.connect();
  }

  private sendOn(carrier: Carrier, id: number): void {
    const entry = this.inFlight.get(id);
    if (!entry) return; // timed out while waiting
    entry.carrier = carrier;
    carrier.ids.add(id);
    carrier.stream.write(frameForTcp(entry.wire));
  }

  private async connect(): Promise<void> {
    if (this.connecting || this.stopped) return;
    this.connecting = true;
    const session = await this.deps.tunnel.getSession();
    this.connecting = false;
    if (this.stopped) return;
    if (session === null || session.isClosed) {
      this.failWaiting(DnsFailure.TunnelDown, 'no tunnel to the relay');
      return;
    }
    let opened: ReturnType<Session['openStream']>;
    try {
      opened = session.openStream(Command.Connect, this.deps.upstream);
    } catch (err) {
      this.failWaiting(DnsFailure.TunnelDown, (err as Error).message); // closed, or out of stream ids
      return;
    }
    const { stream, result } = opened;
    const carrier: Carrier = { session, stream, result, reader: new DnsTcpReader(), ids: new Set(), answered: 0, retired: false };
    this.carrier = carrier;
    this.connections += 1;
    stream.attach({
      onData: (chunk) => {
        stream.consumed(chunk.length); // answers are handled at once: nothing is held
        for (const answer of carrier.reader.push(chunk)) this.receive(carrier, answer);
      },
      onEnd: () => this.retire(carrier, 'the upstream closed the connection'),
      onDrain: () => {},
      onClose: (info) => this.retire(carrier, info?.reason ?? 'closed'),
    });
    for (const id of this.waiting.splice(0)) this.sendOn(carrier, id);
  }

  private receive(carrier: Carrier, answer: Buffer): void {
    if (answer.length < DNS_HEADER_LENGTH) {
      carrier.stream.reset(ResetCode.Aborted, 'a DNS answer shorter than its header');
      return;
    }
    const id = answer.readUInt16BE(DnsHeaderOffset.Id);
    const entry = this.inFlight.get(id);
    if (!entry || entry.carrier !== carrier) {
      this.deps.logger.debug('DNS: dropped an upstream answer for no query in flight (late, after a timeout)');
      return;
    }
    carrier.answered += 1;
    this.settle(id);
    entry.resolve(withId(answer, entry.clientId));
  }

  /** The connection can carry no more answers: queries on it go to the next one, or fail. */
  private retire(carrier: Carrier, why: string): void {
    if (carrier.retired) return;
    carrier.retired = true;
    if (this.carrier === carrier) this.carrier = null;
    if (!carrier.stream.isClosed) carrier.stream.end();
    // The OPEN's outcome tells a refusal from a close; after a close it is already known.
    void carrier.result.then(({ reply }) => this.reroute(carrier, reply, why));
  }

  private reroute(carrier: Carrier, reply: ReplyCode, why: string): void {
    const orphans = [...carrier.ids].filter((id) => this.inFlight.get(id)?.carrier === carrier);
    carrier.ids.clear();
    if (orphans.length === 0 || this.stopped) return;
    if (carrier.answered > 0) {
      for (const id of orphans) {
        this.inFlight.get(id)!.carrier = null;
        this.dispatch(id);
      }
      return;
    }
    const upstream = formatHostPort(this.deps.upstream);
    if (carrier.session.isClosed) return this.failLogged(orphans, DnsFailure.TunnelDown, `the tunnel closed: ${why}`);
    if (reply !== ReplyCode.Succeeded) {
      return this.failLogged(orphans, DnsFailure.UpstreamRefused, `the relay could not connect to ${upstream} (reply ${hexByte(reply)})`);
    }
    this.failLogged(orphans, DnsFailure.UpstreamClosed, `${upstream} closed the connection without answering: ${why}`);
  }

  private expire(id: number): void {
    const entry = this.inFlight.get(id);
    if (!entry) return;
    const tunnelDown = entry.carrier === null && this.connecting;
    this.fail(id, tunnelDown ? DnsFailure.TunnelDown : DnsFailure.Timeout, tunnelDown ? 'no tunnel to the relay in time' : `no answer in ${this.deps.timeoutMs} ms`);
  }

  private failWaiting(code: DnsFailure, detail: string): void {
    this.failLogged(this.waiting.splice(0), code, detail);
  }

  /** Fails a batch with one log line for it. */
  private failLogged(ids: number[], code: DnsFailure, detail: string): void {
    const queries = ids.filter((id) => this.inFlight.has(id)).length;
    if (queries === 0) return;
    this.deps.logger.info('DNS upstream failed, answering SERVFAIL', { reason: code, detail, queries });
    this.failAll(ids, code, detail);
  }

  private failAll(ids: number[], code: DnsFailure, detail: string): void {
    for (const id of ids) this.fail(id, code, detail);
  }

  private fail(id: number, code: DnsFailure, detail: string): void {
    const entry = this.inFlight.get(id);
    if (!entry) return;
    this.settle(id);
    entry.reject(new DnsQueryError(code, detail));
  }

  private settle(id: number): void {
    const entry = this.inFlight.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.inFlight.delete(id);
    entry.carrier?.ids.delete(id);
  }
}
