/**
 * Per-tunnel limits on what a client may hold open at once. A request over a limit is
 * refused on its own stream; the tunnel and every other tunnel carry on.
 */
import { Command } from '../../protocol/frame.js';
import type { Stream } from '../../protocol/stream.js';

export interface TunnelLimits {
  /** Open streams of any kind. */
  maxStreams: number;
  /** BIND listeners waiting or connected. */
  maxBinds: number;
  /** UDP associations. */
  maxUdpAssociations: number;
}

/** Stable names of the limits, used in logs and in the relay's error counters. */
export const LimitName = {
  Streams: 'limit-streams-per-tunnel',
  Binds: 'limit-binds-per-tunnel',
  UdpAssociations: 'limit-udp-per-tunnel',
} as const;
export type LimitName = (typeof LimitName)[keyof typeof LimitName];

export class StreamLimiter {
  private total = 0;
  private readonly byCommand = new Map<Command, number>();

  constructor(private readonly limits: TunnelLimits) {}

  /** Counts the stream until it closes and returns null, or returns the limit it would break. */
  admit(stream: Stream, command: Command): LimitName | null {
    const exceeded = this.exceeded(command);
    if (exceeded) return exceeded;
    this.total += 1;
    this.byCommand.set(command, (this.byCommand.get(command) ?? 0) + 1);
    stream.whenClosed(() => {
      this.total -= 1;
      this.byCommand.set(command, (this.byCommand.get(command) ?? 1) - 1);
    });
    return null;
  }

  private exceeded(command: Command): LimitName | null {
    if (this.total >= this.limits.maxStreams) return LimitName.Streams;
    const sameKind = this.byCommand.get(command) ?? 0;
    if (command === Command.Bind && sameKind >= this.limits.maxBinds) return LimitName.Binds;
    if (command === Command.UdpAssociate && sameKind >= this.limits.maxUdpAssociations) return LimitName.UdpAssociations;
    return null;
  }
}
