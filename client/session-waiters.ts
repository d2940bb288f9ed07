/**
 * Requests waiting for a tunnel's session (a dropped tunnel coming back, a pool's first one
 * coming up), each for at most --tunnel-wait: a request still waiting then gets null.
 */
import type { Session } from '../protocol/session.js';

type Waiter = (session: Session | null) => void;

export class SessionWaiters {
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly waitMs: number) {}

  get size(): number {
    return this.waiters.size;
  }

  /** Resolves with the session handed to settle(), or null after waitMs. */
  wait(): Promise<Session | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), this.waitMs);
      const settle: Waiter = (session) => {
        clearTimeout(timer);
        this.waiters.delete(settle);
        resolve(session);
      };
      this.waiters.add(settle);
    });
  }

  /** Hands `session` (null: none is coming) to every request still waiting. */
  settle(session: Session | null): void {
    for (const waiter of [...this.waiters]) waiter(session);
  }
}
