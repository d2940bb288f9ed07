/** The relay's open tunnels: their sessions, and how many each token holds (for --max-tunnels-per-token). */
import type { Session } from '../../protocol/session.js';

export class OpenTunnels {
  readonly sessions = new Set<Session>();
  private readonly byToken = new Map<string, number>();

  /** Counts `session` under `tokenName` until it closes. */
  add(session: Session, tokenName: string): void {
    this.sessions.add(session);
    const release = this.hold(tokenName);
    session.on('close', () => {
      this.sessions.delete(session);
      release();
    });
  }

  /** Counts one connection that is no Session (a Wisp connection) under `tokenName`; call the result once when it ends. */
  hold(tokenName: string): () => void {
    this.byToken.set(tokenName, this.countFor(tokenName) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.byToken.set(tokenName, (this.byToken.get(tokenName) ?? 1) - 1);
    };
  }

  countFor(tokenName: string): number {
    return this.byToken.get(tokenName) ?? 0;
  }

  /** Streams open over every tunnel. */
  streamCount(): number {
    return streamsIn(this.sessions);
  }
}

/** Streams open over `connections`: tunnels' sessions or Wisp connections. */
export function streamsIn(connections: Iterable<{ streams: ReadonlyMap<number, unknown> }>): number {
  let sum = 0;
  for (const connection of connections) sum += connection.streams.size;
  return sum;
}
