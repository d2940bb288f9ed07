/** The client pool's numbers and names in one place (client/pool/). */
import { isIP } from 'node:net';
import { ReplyCode } from '../../protocol/frame.js';

/** The most --tunnels: each is a WebSocket with its own windows; more only adds chatter. */
export const MAX_TUNNELS = 16;
/** How often the pool looks at its tunnels' health, age and drains. */
export const HEALTH_TICK_MS = 500;
/** A tunnel that heard nothing for this long is pinged at once (with several tunnels or relays only). */
export const PROBE_AFTER_SILENCE_MS = 1_500;
/** A tunnel that heard nothing for this long, that ping included, takes no new streams and is replaced. */
export const UNHEALTHY_SILENCE_MS = 3_000;
/** Past this much silence (probes included) a pooled tunnel gets no fast-open CONNECTs: they could not be retried elsewhere. */
export const FAST_OPEN_MAX_SILENCE_MS = 2_500;
/** OPEN outcomes older than this no longer count towards a tunnel's health. */
export const OPEN_HEALTH_WINDOW_MS = 30_000;
/** A tunnel is unhealthy after at least this many failures at the relay's side within the window… */
export const OPEN_FAILURES_UNHEALTHY = 3;
/** …that are at least this share of its recent OPENs. */
export const OPEN_FAILURE_SHARE_UNHEALTHY = 0.5;
/** Outcomes kept per tunnel. */
export const OPEN_HEALTH_SAMPLES = 16;
/** A relay whose tunnel dropped or would not connect is avoided for this long, doubling per failure in a row… */
export const RELAY_COOLDOWN_MIN_MS = 1_000;
/** …up to this. */
export const RELAY_COOLDOWN_MAX_MS = 30_000;
/** …and a relay's failures count as in a row until one of its tunnels has stayed up this long. */
export const RELAY_PROVEN_UP_MS = 30_000;
/**
 * A tunnel dialed to move back to a preferred relay that is not up by then is given up: the
 * client's handshake timeout (10 s, client/tunnel.ts) runs twice with a proxy or a pinned
 * certificate (the transport, then the WebSocket), and 5 s to spare.
 */
export const MOVE_TIMEOUT_MS = 25_000;
/** Each tunnel's --tunnel-max-age is cut by up to this share at random, so tunnels don't all rotate at once or on a metronome. */
export const MAX_AGE_JITTER = 0.1;

/**
 * Whose fault a failed OPEN is. The relay's side: it could not reach the network at all, or
 * failed in itself; another relay may do better. The target's: it refused, or the relay's own
 * policy or protocol said no, which every relay would repeat.
 */
export const RELAY_SIDE_FAILURES: ReadonlySet<number> = new Set<number>([
  ReplyCode.GeneralFailure,
  ReplyCode.NetworkUnreachable,
  ReplyCode.HostUnreachable,
  ReplyCode.TtlExpired,
]);
// Target's (or policy's) fault, for the record: ConnectionRefused, NotAllowed, CommandNotSupported, AddressTypeNotSupported.

/** What a tunnel in the pool is doing, as the log and --status-listen show it. */
export const TunnelState = {
  /** Dialing its relay, or waiting to retry. */
  Connecting: 'connecting',
  /** Up and taking new streams. */
  Up: 'up',
  /** Up, but silent or failing OPENs at the relay's side: new streams go elsewhere while any other tunnel is healthy. */
  Unhealthy: 'unhealthy',
  /** Replaced (by age, by silence, or by a tunnel to a preferred relay): no new streams; the open ones finish. */
  Draining: 'draining',
} as const;
export type TunnelState = (typeof TunnelState)[keyof typeof TunnelState];

/** Why a tunnel was drained. */
export const DrainReason = {
  MaxAge: 'max-age',
  Silent: 'silent',
  /** A more preferred relay took a tunnel again: this one, on a later relay, makes way. */
  PreferredRelay: 'preferred-relay',
} as const;
export type DrainReason = (typeof DrainReason)[keyof typeof DrainReason];

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
