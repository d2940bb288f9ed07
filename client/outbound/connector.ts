/**
 * The CONNECT path behind every local front end (SOCKS, HTTP): the routing rules pick the
 * way out (relay, direct dial or a local refusal), and the outcome says how it went,
 * leaving the reply's wire format to the caller. Through the relay, fast open
 * (client/fast-open.ts) answers remembered destinations at once and resets the connection
 * later if the relay's dial fails.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.js';
import { TIMED_OUT } from '../../common/errno-replies.js';
import { formatHostPort } from '../../common/host-port.js';
import { Command, ReplyCode, ResetCode, type Address } from '../../protocol/frame.js';
import { UNSPECIFIED_ADDRESS } from '../../protocol/address.js';
import { bridgeSocket } from '../../protocol/socket-bridge.js';
import { StreamDuplex } from '../../protocol/stream-duplex.js';
import type { OpenResult, Session } from '../../protocol/session.js';
import { FAST_OPEN_MAX_SILENCE_MS } from '../pool/constants.js';
import type { Stream } from '../../protocol/stream.js';
import type { DestinationMemory, FastOpenMode } from '../fast-open.js';
import type { SessionSource } from '../tunnel.js';
import { dialDirect, DIRECT_DIAL_TIMEOUT_MS } from './direct-dial.js';
import { Route } from './route.js';
import { RoutingTable, type RouteDecision } from './rules.js';
import { spliceSockets } from './socket-splice.js';
import { hexByte } from '../../common/hex-byte.js';

export { Route } from './route.js';

export interface ConnectRequest {
  target: Address;
  /** Bytes the application sent behind its request; they go out first. */
  early: Buffer;
  /** For logs. */
  peer: string;
  /** What the application asked for, as failures name it (an HTTP proxy's `GET host:port`); by default `CONNECT host:port`. */
  asked?: string;
  /** Aborted when the application went away before the outcome: the outbound is abandoned. */
  signal?: AbortSignal;
}

export type ConnectOutcome =
  | {
      ok: true;
      bound: Address;
      route: Route;
      /**
       * Bridges the app socket (paused) to the outbound; the caller writes its own reply first.
       * Call it also when the socket has gone meanwhile: it then abandons the outbound.
       */
      join(socket: Socket): void;
      /** The outbound as a Node Duplex instead (the HTTP proxy's forwarded requests); call join or this, once. */
      asDuplex(): Duplex;
    }
  /** timedOut: the dial got no answer in time (HTTP tells that apart as 504; SOCKS has only the reply code). */
  | { ok: false; reply: ReplyCode; why: string; timedOut?: boolean };

export interface ConnectorDeps {
  tunnel: SessionSource;
  /** Which CONNECTs are answered before the relay's dial, and the destinations it dialed before. */
  fastOpen: { mode: FastOpenMode; memory: DestinationMemory };
  logger: Logger;
  /** The routing rules at start; setRules replaces them (SIGHUP). Absent: everything goes through the relay. */
  rules?: RoutingTable;
  /** A direct dial with no answer by then fails with ETIMEDOUT (host unreachable); default DIRECT_DIAL_TIMEOUT_MS. */
  directDialTimeoutMs?: number;
}

/** How many CONNECTs each route has taken since the start. */
export type RouteCounts = Record<Route, number>;

const NO_RULES = new RoutingTable([]);
/** A CONNECT whose tunnel ended before the relay answered is tried again this many times, on whichever tunnel is best then. */
const UNANSWERED_RETRIES = 1;
const DEFAULT_RULE = 'default';

export class Connector {
  private rules: RoutingTable;
  private readonly counts: RouteCounts = { [Route.Relay]: 0, [Route.Direct]: 0, [Route.Block]: 0 };

  constructor(private readonly deps: ConnectorDeps) {
    this.rules = deps.rules ?? NO_RULES;
  }

  /** New CONNECTs follow `rules`; connections already open keep their way (UDP datagrams are checked one by one). */
  setRules(rules: RoutingTable): void {
    this.rules = rules;
  }

  /**
   * The --block rule (or rules-file line) that refuses `target`, or null: BIND and UDP
   * datagrams always go through the relay, but never to a destination refused here.
   */
  blockingRule(target: Address): string | null {
    const decision = this.rules.decide(target);
    return decision.route === Route.Block ? (decision.rule ?? DEFAULT_RULE) : null;
  }

  get decisions(): Readonly<RouteCounts> {
    return { ...this.counts };
  }

  connect(request: ConnectRequest): Promise<ConnectOutcome> {
    const decision = this.decide(request);
    switch (decision.route) {
      case Route.Relay: return this.viaRelay(request);
      case Route.Direct: return this.direct(request);
      case Route.Block: return Promise.resolve({ ok: false, reply: ReplyCode.NotAllowed, why: `${formatHostPort(request.target)} blocked by ${decision.rule}` });
    }
  }

  private decide({ target, peer }: ConnectRequest): RouteDecision {
    const decision = this.rules.decide(target);
    this.counts[decision.route]++;
    if (this.rules.size > 0) this.deps.logger.debug('route', { peer, dest: formatHostPort(target), route: decision.route, rule: decision.rule ?? DEFAULT_RULE });
    return decision;
  }

  /** The client dials itself; the application's early bytes go first. */
  private async direct({ target, early, peer, signal }: ConnectRequest): Promise<ConnectOutcome> {
    const destination = formatHostPort(target);
    const dialed = await dialDirect(target, this.deps.directDialTimeoutMs ?? DIRECT_DIAL_TIMEOUT_MS, signal);
    if (!dialed.ok) {
      if (signal?.aborted) return abandoned(destination);
      const why = `direct dial to ${destination} failed: ${dialed.code} (reply ${hexByte(dialed.reply)})`;
      return { ok: false, reply: dialed.reply, why, timedOut: dialed.code === TIMED_OUT };
    }
    const { socket: remote } = dialed;
    const bound = { host: remote.localAddress ?? '0.0.0.0', port: remote.localPort ?? 0 };
    this.deps.logger.debug('direct CONNECT succeeded', { peer, dest: destination, bound: formatHostPort(bound) });
    if (early.length > 0) remote.write(early);
    return {
      ok: true,
      bound,
      route: Route.Direct,
      join(socket) {
        if (socket.destroyed) remote.destroy();
        else spliceSockets(socket, remote);
      },
      asDuplex: () => remote,
    };
  }

  private async viaRelay(request: ConnectRequest, attempt = 0): Promise<ConnectOutcome> {
    const { target, early, peer, signal, asked } = request;
    const destination = formatHostPort(target);
    const session = await this.deps.tunnel.getSession();
    if (signal?.aborted) return abandoned(destination);
    if (!session) return { ok: false, reply: ReplyCode.GeneralFailure, why: `relay unavailable for ${destination}` };
    const { stream, result } = session.openStream(Command.Connect, target);
    const onAbort = (): void => stream.reset(ResetCode.Aborted, 'SOCKS client went away');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (early.length > 0) stream.write(early);
    const fastBound = this.quietTooLong(session) ? null : this.fastOpenBound(target);
    if (fastBound) {
      signal?.removeEventListener('abort', onAbort);
      this.watchFastOpen(stream, result, target, peer);
      return relayed(stream, fastBound);
    }
    const { reply, bound } = await result;
    signal?.removeEventListener('abort', onAbort);
    if (reply === ReplyCode.Succeeded) this.deps.fastOpen.memory.remember(target, bound);
    if (signal?.aborted) return abandoned(destination);
    if (unanswered(stream) && early.length === 0 && attempt < UNANSWERED_RETRIES && this.deps.tunnel.retries === true) {
      // The tunnel ended (or went silent) before the relay answered: the application has been
      // told nothing and sent nothing, so another tunnel may serve it (client/pool/).
      this.deps.logger.debug('CONNECT unanswered, trying another tunnel', { peer, dest: destination });
      return this.viaRelay(request, attempt + 1);
    }
    if (reply !== ReplyCode.Succeeded) {
      return { ok: false, reply, why: `relay could not serve ${asked ?? `CONNECT ${destination}`} (reply ${hexByte(reply)})` };
    }
    this.deps.logger.debug('CONNECT succeeded', { peer, dest: destination, stream: stream.id });
    return relayed(stream, bound);
  }

  /**
   * With several tunnels, one that has heard nothing for a while may be frozen: a CONNECT on it
   * waits for the true reply, which another tunnel can still retry, instead of a fast-open
   * success that could only end in a reset.
   */
  private quietTooLong(session: Session): boolean {
    return this.deps.tunnel.retries === true && session.silentForMs >= FAST_OPEN_MAX_SILENCE_MS;
  }

  /** The bound address to answer with before the dial, or null to wait for the relay (--fast-open). */
  private fastOpenBound(target: Address): Address | null {
    const { mode, memory } = this.deps.fastOpen;
    if (mode === 'never') return null;
    const remembered = memory.recall(target);
    return remembered ?? (mode === 'always' ? UNSPECIFIED_ADDRESS : null);
  }

  /**
   * Fast open: success now, and the application's bytes follow the OPEN within the stream's
   * window. If the relay then fails the dial, the stream closes, which resets the
   * application's connection (socket-bridge), and the destination is forgotten, so the next
   * request waits for the true reply.
   */
  private watchFastOpen(stream: Stream, result: Promise<OpenResult>, target: Address, peer: string): void {
    void result.then(({ reply, bound: dialed }) => {
      if (!stream.openResult) return; // the application or the session ended the stream first
      const { memory } = this.deps.fastOpen;
      if (reply === ReplyCode.Succeeded) {
        memory.remember(target, dialed);
        return;
      }
      memory.forget(target);
      this.deps.logger.info('fast open failed: the relay could not connect, so the SOCKS connection was reset and the destination forgotten', {
        peer,
        dest: formatHostPort(target),
        reply: `${hexByte(reply)}`,
      });
    });
  }
}

/** The stream ended without the relay's OPEN_RESULT: its session closed, or the pool gave up on a silent one. */
function unanswered(stream: Stream): boolean {
  return stream.openResult === null;
}

function abandoned(destination: string): ConnectOutcome {
  return { ok: false, reply: ReplyCode.GeneralFailure, why: `client went away while connecting to ${destination}` };
}

/** From join on, the socket and the stream carry each other's bytes (socket-bridge). */
function relayed(stream: Stream, bound: Address): ConnectOutcome {
  return {
    ok: true,
    bound,
    route: Route.Relay,
    join(socket) {
      if (socket.destroyed) {
        stream.reset(ResetCode.Aborted, 'SOCKS client went away');
        return;
      }
      bridgeSocket(stream, socket);
      // A FIN that arrived with nothing left to read already fired 'end' while paused
      // (Node emits it even on a paused socket); bridgeSocket checks readableEnded for it.
      socket.resume();
    },
    asDuplex: () => new StreamDuplex(stream),
  };
}
