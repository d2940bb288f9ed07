/**
 * What opening a Wisp stream needs from its connection (wisp-session.ts implements it), and
 * how a refused open is described: types only, so the session, the TCP opener and the UDP
 * opener can share them without importing one another.
 */
import type { Logger } from '../../common/log.js';
import type { ReplyCode } from '../../protocol/frame.js';
import type { DestinationPolicy } from '../policy/destination-policy.js';
import type { TrackedTunnel } from '../status/status-model.js';
import type { StreamLimiter, TunnelLimits } from '../tunnel/limits.js';
import type { WispStream, WispStreamHost } from './wisp-stream.js';

export interface WispSessionOptions {
  /** Packets per stream announced in the first CONTINUE (credit is counted in packets). */
  bufferPackets: number;
  dialTimeoutMs: number;
  policy: DestinationPolicy;
  limits: TunnelLimits;
  isDraining: () => boolean;
  /** --wisp-udp: UDP streams are served; otherwise refused with 0x41. */
  udp: boolean;
  logger: Logger;
  /** The status model's handle on this connection. */
  observer: TrackedTunnel;
  /** WebSocket pings (Wisp has none of its own): a page gone without a close is noticed. */
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
}

/** The session as a stream's opener sees it. */
export interface WispStreamOpener extends WispStreamHost {
  readonly options: WispSessionOptions;
  readonly limiter: StreamLimiter;
  /** Registers a stream the client asked for. */
  track(stream: WispStream): void;
}

/** Why an open was refused: the reply code its CLOSE reason comes from, and the status reason. */
export interface WispRefusal {
  reply: ReplyCode;
  reason: string;
  dialMs?: number;
}
