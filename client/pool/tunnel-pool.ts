/**
 * The client's tunnels: --tunnels WebSockets spread over the --relay URLs, each a Tunnel with
 * its own reconnect and backoff. Callers ask it for a session as they would ask one tunnel;
 * each new stream goes to the healthy tunnel with the fewest open streams, ties to the
 * preferred relay. A tunnel that goes silent, or outlives --tunnel-max-age, is drained (no new
 * streams; the open ones finish) and a replacement is built in its place first. A tunnel that
 * failed over to a later relay moves back once a more preferred one takes a tunnel again: one
 * tunnel is dialed there, and only once it is up does the old one drain.
 *
 * With one relay and one tunnel nothing here acts: no extra pings, no draining, the same
 * tunnel as without a pool.
 */
import type { Logger } from '../../common/log.js';
import { GoAwayCode, ResetCode } from '../../protocol/frame.js';
import type { Session } from '../../protocol/session.js';
import type { ClientConfig } from '../config.js';
import { SessionWaiters } from '../session-waiters.js';
import { Tunnel } from '../tunnel.js';
import {
  DrainReason,
  HEALTH_TICK_MS,
  MAX_AGE_JITTER,
  MOVE_TIMEOUT_MS,
  PROBE_AFTER_SILENCE_MS,
  RELAY_PROVEN_UP_MS,
  TunnelState,
  UNHEALTHY_SILENCE_MS,
} from './constants.js';
import { OpenHealth } from './open-health.js';
import { RelayBoard } from './relay-board.js';

/** One tunnel as the log and --status-listen show it; no token, no link. */
export interface TunnelStatus {
  slot: number;
  relay: string;
  state: TunnelState;
  rttMs: number | null;
  openStreams: number;
  bytesSent: number;
  bytesReceived: number;
  /** Since its session came up; null while connecting. */
  ageSeconds: number | null;
}

interface Member {
  slot: number;
  tunnel: Tunnel;
  health: OpenHealth;
  /** This tunnel's own --tunnel-max-age, jittered; null: never. */
  maxAgeMs: number | null;
  draining: DrainReason | null;
  /** The state last logged, so that only changes are logged. */
  loggedState: TunnelState | null;
  /** Set while this tunnel is a move back to a preferred relay: one attempt, and `from` drains once it is up. */
  moving: Move | null;
}

interface Move {
  from: Member;
  relay: string;
  since: number;
}

export class TunnelPool {
  private readonly members: Member[] = [];
  private readonly board: RelayBoard;
  private readonly waiters: SessionWaiters;
  /** Health probes and draining by silence only matter where there is another tunnel to use. */
  private readonly probing: boolean;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Connections made by tunnels since removed. */
  private pastConnections = 0;

  constructor(
    private readonly config: ClientConfig,
    private readonly logger: Logger,
  ) {
    this.board = new RelayBoard(config.relayUrls);
    this.probing = config.relayUrls.length > 1 || config.tunnels > 1;
    this.waiters = new SessionWaiters(config.tunnelWaitMs);
  }

  /** An OPEN left unanswered by a lost tunnel may go to another one, when there are others. */
  get retries(): boolean {
    return this.probing;
  }

  start(): void {
    for (let slot = 0; slot < this.config.tunnels; slot++) this.addMember(slot);
    if (this.probing || this.config.tunnelMaxAgeMs !== null) {
      this.timer = setInterval(() => this.tick(), HEALTH_TICK_MS);
      this.timer.unref();
    }
  }

  /** The session the next stream should use now, or null when no tunnel is up. */
  get current(): Session | null {
    return this.pick();
  }

  /** Completed connections of every tunnel so far (one tunnel: as Tunnel.connections). */
  get connections(): number {
    return this.members.reduce((sum, member) => sum + member.tunnel.connections, this.pastConnections);
  }

  /** A session for a new stream, waiting up to --tunnel-wait for a tunnel to come up; null when none came. */
  getSession(): Promise<Session | null> {
    const session = this.pick();
    if (session) return Promise.resolve(session);
    if (this.stopped) return Promise.resolve(null);
    return this.waiters.wait();
  }

  status(): TunnelStatus[] {
    return this.members.map((member) => this.statusOf(member));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const member of this.members) member.tunnel.stop();
    this.waiters.settle(null);
  }

  private addMember(slot: number, moving: Move | null = null): Member {
    const maxAge = this.config.tunnelMaxAgeMs;
    // The hooks run only once the tunnel has started, below, when `member` exists.
    const tunnel = new Tunnel(this.config, this.logger, {
      relayFor: () => member.moving?.relay ?? this.board.choose((relay) => this.load(relay, member)),
      up: (session) => this.onUp(member, session),
      down: (relay, wasUp) => {
        if (member.moving && !wasUp) {
          if (!this.stopped && this.members.includes(member)) this.abandonMove(member);
          return; // a move given up (or the pool stopped): its tunnel's last events change nothing
        }
        if (member.draining === null) this.board.failed(relay); // a drained tunnel ends by design
        if (wasUp) this.logState(member);
      },
    });
    const member: Member = {
      slot,
      tunnel,
      health: new OpenHealth(),
      maxAgeMs: maxAge === null ? null : maxAge * (1 - MAX_AGE_JITTER * Math.random()),
      draining: null,
      loggedState: null,
      moving,
    };
    this.members.push(member);
    tunnel.start();
    return member;
  }

  /** Tunnels other than `except` that take new streams and are on (or dialing) `relay`. */
  private load(relay: string, except: Member): number {
    return this.members.filter((m) => m !== except && m.draining === null && m.tunnel.relayUrl === relay).length;
  }

  private onUp(member: Member, session: Session): void {
    this.board.succeeded(member.tunnel.relayUrl);
    const from = member.moving?.from;
    member.moving = null;
    if (from && from.draining === null && this.members.includes(from)) this.drain(from, DrainReason.PreferredRelay, false);
    member.health.clear();
    session.on('openResult', (_stream, result) => member.health.record(result.reply));
    this.logState(member);
    if (this.waiters.size === 0) return;
    this.waiters.settle(this.pick());
  }

  /** Healthy before unhealthy before draining; then the fewest open streams; then the preferred relay. */
  private pick(): Session | null {
    let best: { session: Session; key: number[] } | null = null;
    for (const member of this.members) {
      const session = member.tunnel.current;
      // A tunnel drained for silence would swallow the stream; one drained for age still serves when nothing else does.
      if (!session || session.isClosed || member.draining === DrainReason.Silent) continue;
      const state = this.stateOf(member);
      const tier = state === TunnelState.Up ? 0 : state === TunnelState.Unhealthy ? 1 : 2;
      const key = [tier, session.streams.size, this.board.rank(member.tunnel.relayUrl), member.slot];
      if (!best || lexicallyLess(key, best.key)) best = { session, key };
    }
    return best?.session ?? null;
  }

  private stateOf(member: Member): TunnelState {
    const session = member.tunnel.current;
    if (member.draining !== null) return TunnelState.Draining;
    if (!session || session.isClosed) return TunnelState.Connecting;
    if (this.probing && (session.silentForMs >= UNHEALTHY_SILENCE_MS || member.health.failing())) return TunnelState.Unhealthy;
    return TunnelState.Up;
  }

  private tick(): void {
    const now = Date.now();
    for (const member of [...this.members]) {
      if (member.draining !== null) this.finishDrain(member);
      else this.checkMember(member, now);
    }
    if (this.probing && !this.stopped) this.considerMove(now);
  }

  /**
   * One move back at a time: a healthy tunnel on a later relay, where the relay board would now
   * choose an earlier one (it is no longer cooling down after its failure), gets a tunnel dialed
   * there. The board's cooldown, doubling with each failure, spaces the attempts while that
   * relay stays down.
   */
  private considerMove(now: number): void {
    const mover = this.members.find((m) => m.moving !== null);
    if (mover) {
      if (now - mover.moving!.since >= MOVE_TIMEOUT_MS) this.abandonMove(mover);
      return;
    }
    for (const member of this.members) {
      if (member.draining !== null || this.stateOf(member) !== TunnelState.Up) continue;
      const relay = this.board.choose((url) => this.load(url, member), now);
      // choose() falls back to a cooling relay when all are: a move waits for a ready one.
      if (!this.board.isReady(relay, now) || this.board.rank(relay) >= this.board.rank(member.tunnel.relayUrl)) continue;
      this.logger.info('tunnel moving back to a preferred relay', { slot: member.slot, from: member.tunnel.relayUrl, to: relay });
      this.addMember(member.slot, { from: member, relay, since: now });
      return;
    }
  }

  /** The move's tunnel did not come up: the relay cools down longer, and the tunnel it would replace stays. */
  private abandonMove(member: Member): void {
    const relay = member.moving!.relay;
    this.board.failed(relay);
    this.removeMover(member);
    this.logger.info('preferred relay not back yet; tunnels stay where they are', { slot: member.slot, relay });
  }

  /** A mover never came up, so it has no connections to add to pastConnections. */
  private removeMover(member: Member): void {
    member.tunnel.stop();
    const index = this.members.indexOf(member);
    if (index !== -1) this.members.splice(index, 1);
  }

  private checkMember(member: Member, now: number): void {
    const { tunnel } = member;
    const session = tunnel.current;
    if (!session) return;
    if (this.probing && session.silentForMs >= PROBE_AFTER_SILENCE_MS) session.checkLiveness();
    if (this.probing && session.silentForMs >= UNHEALTHY_SILENCE_MS) {
      this.board.failed(tunnel.relayUrl);
      return this.drain(member, DrainReason.Silent);
    }
    if (tunnel.upSince !== null && now - tunnel.upSince >= RELAY_PROVEN_UP_MS) this.board.proven(tunnel.relayUrl);
    if (member.maxAgeMs !== null && tunnel.upSince !== null && now - tunnel.upSince >= member.maxAgeMs) return this.drain(member, DrainReason.MaxAge);
    this.logState(member);
  }

  /** No new streams on it; its replacement is built at once, in the same slot, unless it already exists (`replace` false). */
  private drain(member: Member, reason: DrainReason, replace = true): void {
    // A move that would have replaced this tunnel gives way to the ordinary replacement.
    const mover = this.members.find((m) => m.moving?.from === member);
    if (mover) this.removeMover(mover);
    member.draining = reason;
    member.tunnel.retire();
    this.logState(member, { reason });
    const session = member.tunnel.current;
    // OPENs a silent relay never answered are given up, so the Connector can try them again elsewhere.
    if (session && reason === DrainReason.Silent) {
      for (const stream of [...session.streams.values()]) if (stream.openResult === null) stream.reset(ResetCode.Aborted, 'tunnel unresponsive');
    }
    if (replace && !this.stopped) this.addMember(member.slot);
  }

  /** A drained tunnel goes once its last stream has (or its session ended by itself). */
  private finishDrain(member: Member): void {
    const session = member.tunnel.current;
    if (session && !session.isClosed && session.streams.size > 0) return;
    session?.close(GoAwayCode.Normal, 'drained');
    member.tunnel.stop();
    this.members.splice(this.members.indexOf(member), 1);
    this.pastConnections += member.tunnel.connections;
    this.logger.info('tunnel drained', { slot: member.slot, relay: member.tunnel.relayUrl, reason: member.draining });
  }

  private statusOf(member: Member): TunnelStatus {
    const { tunnel } = member;
    const session = tunnel.current;
    return {
      slot: member.slot,
      relay: tunnel.relayUrl,
      state: this.stateOf(member),
      rttMs: session?.rttMs === null || session === null ? null : Math.round(session.rttMs * 10) / 10,
      openStreams: session?.streams.size ?? 0,
      bytesSent: session?.bytesSent ?? 0,
      bytesReceived: session?.bytesReceived ?? 0,
      ageSeconds: tunnel.upSince === null ? null : Math.floor((Date.now() - tunnel.upSince) / 1000),
    };
  }

  /** One line per change of a tunnel's state, with what the status shows of it. */
  private logState(member: Member, extra: Record<string, unknown> = {}): void {
    const status = this.statusOf(member);
    if (status.state === member.loggedState && Object.keys(extra).length === 0) return;
    member.loggedState = status.state;
    if (!this.probing && this.config.tunnelMaxAgeMs === null) return; // one tunnel: its own up/down lines say it all
    this.logger.info(`tunnel ${status.state}`, { ...status, ...extra });
  }
}

function lexicallyLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}
