/**
 * The shape of GET /api/status and of each /api/events message, and that message's event
 * name. Types and constants only, no imports: the web page (web/src) imports this file too,
 * so server and page cannot drift apart.
 *
 * Directions are named from the SOCKS client's point of view: "up" is client → destination
 * (what the relay receives on the tunnel), "down" is destination → client (what it sends).
 * Rates are bytes per second over the last second. Times are milliseconds.
 */

/** The SSE event name of each /api/events message; its data is one StatusSnapshot as JSON. */
export const STATUS_EVENT = 'status';

export type StreamKind = 'CONNECT' | 'BIND' | 'UDP';

/** A sockbridge client's tunnel, or a web page's Wisp connection (relay --wisp). */
export type TunnelKind = 'tunnel' | 'wisp';

export interface StatusTotals {
  /** Tunnels open now, and ever accepted since the relay started. */
  tunnels: number;
  tunnelsOpened: number;
  /** Streams open now, and ever opened since the relay started. */
  streams: number;
  streamsOpened: number;
  bytesUp: number;
  bytesDown: number;
  rateUp: number;
  rateDown: number;
  /** Failures by reason: an errno code (ECONNREFUSED, ETIMEDOUT…) or a stable name (unauthorized-tunnel…). */
  errors: Record<string, number>;
}

export interface TunnelStatus {
  id: string;
  /** The tunnel's remote address, HOST:PORT. */
  remote: string;
  /** The name of the token that matched (token-1, token-2…); never the token itself. */
  tokenName: string;
  kind: TunnelKind;
  /** Epoch milliseconds. */
  connectedAt: number;
  /** Round-trip time of the last keepalive, or null before the first one came back. */
  rttMs: number | null;
  streams: number;
  bytesUp: number;
  bytesDown: number;
  rateUp: number;
  rateDown: number;
  /** With --workers N: the worker (cluster id) holding the tunnel, and its process id. */
  worker?: number;
  pid?: number;
}

export interface StreamStatus {
  /** Unique across tunnels: `${tunnel}/${streamId}`. */
  id: string;
  tunnel: string;
  streamId: number;
  kind: StreamKind;
  /** The kind of the tunnel it came over: `wisp` for a web page's Wisp stream. */
  tunnelKind: TunnelKind;
  /** The destination as the client asked for it (a name or an address), HOST:PORT. */
  destination: string;
  /** Where the relay actually connected (CONNECT) or listens (BIND); null before that or for UDP. */
  resolved: string | null;
  /** The stream's lifecycle state: opening, open, half-closed-local, half-closed-remote. */
  state: string;
  ageMs: number;
  bytesUp: number;
  bytesDown: number;
  rateUp: number;
  rateDown: number;
}

/** One second of relay-wide throughput, bytes per second. */
export interface ThroughputSample {
  t: number;
  up: number;
  down: number;
}

export interface StatusSnapshot {
  version: string;
  /** The relay's clock when the snapshot was taken, epoch milliseconds. */
  now: number;
  startedAt: number;
  uptimeMs: number;
  totals: StatusTotals;
  tunnels: TunnelStatus[];
  streams: StreamStatus[];
  /** The last five minutes, oldest first, one sample a second. */
  throughput: ThroughputSample[];
  /** With --workers N: every worker that answered, with the tunnels it holds. */
  workers?: WorkerStatus[];
}

/** One worker process of a relay run with --workers N. */
export interface WorkerStatus {
  /** node:cluster's worker id: 1, 2…; a restarted worker gets a new one. */
  id: number;
  pid: number;
  startedAt: number;
  tunnels: number;
}
