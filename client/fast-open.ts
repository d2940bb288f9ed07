/**
 * Learned fast open: the client remembers destinations the relay dialed successfully, as the
 * application named them, and for those answers the SOCKS request at once and sends OPEN
 * with the application's first bytes instead of waiting a round trip for the dial. A
 * destination seen for the first time still gets the true reply after the dial, so first
 * contact keeps its real error codes; a remembered one that then fails is reset and forgotten.
 */
import type { Address } from '../protocol/frame.js';

export const FAST_OPEN_MODES = ['auto', 'always', 'never'] as const;
/** auto: at once for remembered destinations; always: at once for every request; never: always after the dial. */
export type FastOpenMode = (typeof FAST_OPEN_MODES)[number];

/** A destination is remembered this long after its last successful dial. */
export const REMEMBER_MS = 10 * 60_000;
/** Destinations remembered at most; the least recently used goes first. */
export const REMEMBERED_DESTINATIONS = 4_096;

interface Remembered {
  /** The bound address the relay reported last: what a fast reply announces. */
  bound: Address;
  dialedAt: number;
}

export class DestinationMemory {
  /** Map order is use order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Remembered>();

  constructor(
    private readonly capacity = REMEMBERED_DESTINATIONS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The relay dialed `target` and bound `bound`. */
  remember(target: Address, bound: Address): void {
    const key = keyOf(target);
    this.entries.delete(key);
    this.entries.set(key, { bound, dialedAt: this.now() });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The bound address to announce for a fast open of `target`, or null when it is not remembered (or too old). */
  recall(target: Address): Address | null {
    const key = keyOf(target);
    const entry = this.entries.get(key);
    if (!entry) return null;
    this.entries.delete(key);
    if (this.now() - entry.dialedAt > REMEMBER_MS) return null;
    this.entries.set(key, entry); // used: now the most recent
    return entry.bound;
  }

  forget(target: Address): void {
    this.entries.delete(keyOf(target));
  }
}

/** Host as the application named it (a name stays a name, case folded), and port. */
function keyOf(target: Address): string {
  return `${target.host.toLowerCase()} ${target.port}`;
}
