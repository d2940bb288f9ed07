/**
 * Session timings and limits that both implementations share: the Node session
 * (protocol/session.ts, keepalive.ts) and the browser's (browser/). Plain numbers only, so the
 * browser bundle can import them without any Node type.
 */

export const DEFAULT_KEEPALIVE_INTERVAL_MS = 15_000;
/** Above the longest jittered gap between default pings (1.25 × 15 s). */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 30_000;
/** Each idle gap is the interval × (1 ± this), drawn uniformly. */
export const KEEPALIVE_JITTER = 0.25;
/** The shortest gap between two round-trip probes while the session is busy: a few a second at most. */
export const PROBE_INTERVAL_MS = 250;
/** The path's round trip is the least of this many recent samples (about 4 s of them while busy). */
export const PATH_RTT_SAMPLES = 16;
/** DATA is handed to the WebSocket only while less than this is buffered, so control frames wait at most this long. */
export const DEFAULT_SEND_HIGH_WATER = 512 * 1024;
