/**
 * The CONNECT path behind every local front end (SOCKS, HTTP): opens the outbound for a
 * destination and says how it went, leaving the reply's wire format to the caller.
 * Through the relay, fast open (client/fast-open.ts) answers remembered destinations at
 * once and resets the connection later if the relay's dial fails.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.js';
import { formatHostPort } from '../../common/host-port.js';
import { Command, ReplyCode, ResetCode, type Address } from '../../protocol/frame.js';
import { UNSPECIFIED_ADDRESS } from '../../protocol/address.js';
import { bridgeSocket } from '../../protocol/socket-bridge.js';
import { StreamDuplex } from '../../protocol/stream-duplex.js';
import type { OpenResult } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';
import type { DestinationMemory, FastOpenMode } from '../fast-open.js';
import type { Tunnel } from '../tunnel.js';

/** Which way a connection went out. */
export const Route = {
  Relay: 'relay',
  Direct: 'direct',
  Block: 'block',
} as const;
export type Route = (typeof Route)[keyof typeof Route];

export interface ConnectRequest {
  target: Address;
  /** Bytes the application sent behind its request; they go out first. */
  early: Buffer;
  /** For logs. */
  peer: string;
  /** Aborted when the application went away before the outcome: the outbound is abandoned. */
  signal?: AbortSignal;
}

export type ConnectOutcome =
  | {
      ok: true;
      bound: Address;
      route: Route;
      /** Bridges the app socket (paused) to the outbound; the caller writes its own reply first. */
      join(socket: Socket): void;
      /** The outbound as a Node Duplex instead (the HTTP proxy's forwarded requests); call join or this, once. */
      asDuplex(): Duplex;
    }
  | { ok: false; reply: ReplyCode; why: string };

export interface ConnectorDeps {
  tunnel: Tunnel;
  /** Which CONNECTs are answered before the relay's dial, and the destinations it dialed before. */
  fastOpen: { mode: FastOpenMode; memory: DestinationMemory };
  logger: Logger;
}

export class Connector {
  constructor(private readonly deps: ConnectorDeps) {}

  connect(request: ConnectRequest): Promise<ConnectOutcome> {
    return this.viaRelay(request);
  }

  private async viaRelay({ target, early, peer, signal }: ConnectRequest): Promise<ConnectOutcome> {
    const destination = formatHostPort(target);
    const session = await this.deps.tunnel.getSession();
    if (signal?.aborted) return abandoned(destination);
    if (!session) return { ok: false, reply: ReplyCode.GeneralFailure, why: `relay unavailable for ${destination}` };
    const { stream, result } = session.openStream(Command.Connect, target);
    const onAbort = (): void => stream.reset(ResetCode.Aborted, 'SOCKS client went away');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (early.length > 0) stream.write(early);
    const fastBound = this.fastOpenBound(target);
    if (fastBound) {
      signal?.removeEventListener('abort', onAbort);
      this.watchFastOpen(stream, result, target, peer);
      return relayed(stream, fastBound);
    }
    const { reply, bound } = await result;
    signal?.removeEventListener('abort', onAbort);
    if (reply === ReplyCode.Succeeded) this.deps.fastOpen.memory.remember(target, bound);
    if (signal?.aborted) return abandoned(destination);
    if (reply !== ReplyCode.Succeeded) {
      return { ok: false, reply, why: `relay could not serve CONNECT ${destination} (reply 0x${reply.toString(16).padStart(2, '0')})` };
    }
    this.deps.logger.debug('CONNECT succeeded', { peer, dest: destination, stream: stream.id });
    return relayed(stream, bound);
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
        reply: `0x${reply.toString(16).padStart(2, '0')}`,
      });
    });
  }
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
