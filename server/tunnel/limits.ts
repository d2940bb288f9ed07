/**
 * Per-tunnel limits on what a client may hold open at once. A request over a limit is
 * refused on its own stream; the tunnel and every other tunnel carry on.
 */
import { Command } from '../../protocol/frame.js';
import type { RelayConfig } from '../config.js';
import { ErrorReason } from '../status/error-reasons.js';
import type { Account } from './accounts.js';

export interface TunnelLimits {
  /** Open streams of any kind. */
  maxStreams: number;
  /** BIND listeners waiting or connected. */
  maxBinds: number;
  /** UDP associations. */
  maxUdpAssociations: number;
  /** A stream with no DATA (or datagram) either way for this long is reset; 0 turns the sweep off. */
  idleTimeoutMs?: number;
  /** Bytes the tunnel may hold received but not yet taken by target sockets (pending-limit.ts). */
  maxPendingBytes?: number;
}

/** One connection's limits: the relay's, with the account's stream cap. Wisp has no BIND, so `binds: false` allows none. */
export function connectionLimits(config: RelayConfig, account: Account, { binds = true } = {}): TunnelLimits {
  return {
    maxStreams: account.maxStreams,
    maxBinds: binds ? config.maxBindsPerTunnel : 0,
    maxUdpAssociations: config.maxUdpPerTunnel,
    idleTimeoutMs: config.idleTimeoutMs,
    maxPendingBytes: config.maxPendingBytes,
  };
}

/** The per-tunnel limits an OPEN can break, by their stable names (logged, and counted as errors). */
export type StreamLimit = typeof ErrorReason.StreamsPerTunnel | typeof ErrorReason.BindsPerTunnel | typeof ErrorReason.UdpPerTunnel;

export class StreamLimiter {
  private total = 0;
  private readonly byCommand = new Map<Command, number>();

  constructor(private readonly limits: TunnelLimits) {}

  /** Counts the stream until it closes and returns null, or returns the limit it would break. */
  admit(stream: { whenClosed(listener: () => void): void }, command: Command): StreamLimit | null {
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

  private exceeded(command: Command): StreamLimit | null {
    if (this.total >= this.limits.maxStreams) return ErrorReason.StreamsPerTunnel;
    const sameKind = this.byCommand.get(command) ?? 0;
    if (command === Command.Bind && sameKind >= this.limits.maxBinds) return ErrorReason.BindsPerTunnel;
    if (command === Command.UdpAssociate && sameKind >= this.limits.maxUdpAssociations) return ErrorReason.UdpPerTunnel;
    return null;
  }
}
