/**
 * What a Session is given and what it tells: its options with their defaults, the outcome of
 * an OPEN, how a session ended, and its events. Kept apart from session.ts, which is the
 * multiplexer itself.
 */
import type { Command, GoAwayCode, ReplyCode, Address, SessionRole } from './frame.js';
import type { Corkable } from './turn-cork.js';
import type { ProtocolErrorCode } from './error-codes.js';
import type { Stream } from './stream.js';

export type { SessionRole };

export interface SessionOptions {
  role: SessionRole;
  /** How often to ping the peer. */
  keepaliveIntervalMs: number;
  /** Silence after which the link is declared dead. */
  keepaliveTimeoutMs: number;
  /** DATA is handed to the WebSocket only while less than this is buffered, so control frames wait at most this long. */
  sendHighWater?: number;
  /**
   * The TCP socket under the WebSocket. When given, frames sent in one event-loop turn are
   * corked into one write (turn-cork.ts): small frames (acks, echoes, window updates) and the
   * DATA frames of a bulk transfer's reads alike. The uncork waits for setImmediate, not
   * nextTick, so that frames answering several socket reads of the same poll phase share it.
   */
  transport?: Corkable;
  /**
   * The largest frame this side accepts (MIN_FRAME_SIZE_LIMIT to MAX_FRAME_SIZE; default MAX_FRAME_SIZE).
   * Announced in HELLO; a larger message from the peer ends the session with ERR_FRAME_TOO_LARGE.
   */
  maxFrameSize?: number;
  /** Bytes the streams' receive windows may grow by, together, beyond their initial windows (default 64 MiB). */
  windowBudget?: number;
  /** The largest receive window one stream may reach (default 32 MiB; a version-1 peer caps it at MAX_STREAM_WINDOW). */
  maxStreamWindow?: number;
}

export { DEFAULT_KEEPALIVE_INTERVAL_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS } from './session-defaults.js';
/**
 * The longest --keepalive-interval: jittered pings then come at most 75 s apart, well below the
 * 100 s after which common CDNs cut a WebSocket that carried nothing.
 */
export const MAX_KEEPALIVE_INTERVAL_MS = 60_000;
export const DEFAULT_WINDOW_BUDGET = 64 * 1024 * 1024;
/** Above the bandwidth-delay product of 1 Gbit/s across 150 ms (18.75 MB), since credit comes back in steps. */
export const DEFAULT_MAX_STREAM_WINDOW = 32 * 1024 * 1024;

export interface OpenResult {
  reply: ReplyCode;
  bound: Address;
}

export interface SessionCloseInfo {
  code: GoAwayCode;
  reason: string;
  /** True when the peer said go-away, false when this side ended the session or the link died. */
  byPeer: boolean;
  /** The ProtocolError's code when this side ended the session over one (e.g. ERR_FRAME_TOO_LARGE). */
  errorCode?: ProtocolErrorCode;
}

export interface SessionEvents {
  /** Relay side: the client asked for a stream; answer with session.answerOpen(). */
  open: [stream: Stream, command: Command, address: Address];
  /** The session is over; every stream has been closed. */
  close: [info: SessionCloseInfo];
  /** Client side: the relay answered an OPEN (a pool judges the relay's side by these). */
  openResult: [stream: Stream, result: OpenResult];
  /** A keepalive round trip completed. */
  rtt: [ms: number];
}
