/**
 * What the relay's tunnel handlers tell the status layer about each OPEN. Declared here, by
 * the status layer that implements it, so status depends on nothing in server/tunnel/.
 */
import type { Address, Command, ReplyCode } from '../../protocol/frame.js';

/** What the status layer reads from a stream (protocol/stream.ts's Stream has all of it). */
export interface StreamCounters {
  readonly id: number;
  readonly command: Command;
  readonly state: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly openedAt: number;
  whenClosed(listener: () => void): void;
}

/** Hears how each OPEN of one tunnel goes: the status page and the metrics are fed from here. */
export interface OpenObserver {
  /** The client asked for `stream`; called before any handler runs, so the later calls find it. */
  addStream(stream: StreamCounters, command: Command, destination: Address): void;
  /** The OPEN succeeded. `resolved` is where the relay connected (CONNECT) or listens (BIND); `dialMs` for CONNECT. */
  opened(stream: StreamCounters, resolved: Address | null, dialMs?: number): void;
  /** The OPEN (or BIND's second answer) failed with `reply`; `reason` is an ErrorReason or an errno code. */
  refused(stream: StreamCounters, reply: ReplyCode, reason: string, dialMs?: number): void;
  /** A failure after the OPEN succeeded (an idle stream, a tunnel over its pending bytes); `reason` is an ErrorReason. */
  countError(reason: string): void;
}
