/**
 * Which relay a tunnel dials next: the one with the fewest tunnels among those not cooling
 * down after a failure, ties to the preferred (earlier) relay. A relay that dropped a tunnel
 * or refused a connection cools down, longer for each failure in a row; when every relay is
 * cooling down, the one that is done first is tried (each tunnel keeps its own backoff too).
 * A tunnel coming up ends the cooldown, but the failures count as in a row until one has
 * stayed up a while: a relay that accepts tunnels and soon drops them cools down ever longer.
 */
import { RELAY_COOLDOWN_MAX_MS, RELAY_COOLDOWN_MIN_MS } from './constants.js';

interface RelayRecord {
  failuresInARow: number;
  coolUntil: number;
}

export class RelayBoard {
  private readonly records: Map<string, RelayRecord>;

  constructor(readonly relays: readonly string[]) {
    this.records = new Map(relays.map((url) => [url, { failuresInARow: 0, coolUntil: 0 }]));
  }

  /** The relay's place in the preference order (0 is the most preferred). */
  rank(relay: string): number {
    const index = this.relays.indexOf(relay);
    return index === -1 ? this.relays.length : index;
  }

  /** A tunnel came up on `relay`. */
  succeeded(relay: string): void {
    const record = this.records.get(relay);
    if (record) record.coolUntil = 0;
  }

  /** A tunnel has stayed up on `relay` for RELAY_PROVEN_UP_MS: its failures are behind it. */
  proven(relay: string): void {
    const record = this.records.get(relay);
    if (record) record.failuresInARow = 0;
  }

  /** Not cooling down after a failure. */
  isReady(relay: string, now = Date.now()): boolean {
    const record = this.records.get(relay);
    return record !== undefined && record.coolUntil <= now;
  }

  failed(relay: string, now = Date.now()): void {
    const record = this.records.get(relay);
    if (!record) return;
    record.failuresInARow += 1;
    const cooldown = Math.min(RELAY_COOLDOWN_MAX_MS, RELAY_COOLDOWN_MIN_MS * 2 ** (record.failuresInARow - 1));
    record.coolUntil = now + cooldown;
  }

  /** `load(relay)`: how many other tunnels are on that relay now. */
  choose(load: (relay: string) => number, now = Date.now()): string {
    const ready = this.relays.filter((url) => this.isReady(url, now));
    if (ready.length === 0) return [...this.relays].sort((a, b) => this.records.get(a)!.coolUntil - this.records.get(b)!.coolUntil)[0]!;
    // relays is in preference order and the sort is stable: ties keep the preferred first.
    return [...ready].sort((a, b) => load(a) - load(b))[0]!;
  }
}
