/**
 * Name resolution for one UDP association. Datagrams can arrive far faster than DNS answers,
 * and each lookup takes one of libuv's threads (4 by default, shared with every CONNECT by
 * name), so a name is looked up once and remembered briefly, datagrams waiting for it are
 * few, and so are lookups in flight. Whatever goes beyond is dropped, as UDP allows.
 */
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';

export type Family = 4 | 6;
export interface ResolvedAddress {
  ip: string;
  family: Family;
}
export type NameLookup = (name: string) => Promise<LookupAddress>;

/** Why a datagram to a name was dropped before any lookup answered for it. */
export const UdpDropReason = {
  /** The association already has MAX_NAME_LOOKUPS_IN_FLIGHT lookups unanswered, for other names. */
  LookupsBusy: 'udp-name-lookups-busy',
  /** MAX_DATAGRAMS_AWAITING_NAME datagrams already wait for this name's lookup. */
  NameQueueFull: 'udp-name-queue-full',
  /** The association closed while the datagram waited for its name. */
  Closed: 'udp-association-closed',
} as const;
export type UdpDropReason = (typeof UdpDropReason)[keyof typeof UdpDropReason];

/** Half of libuv's default pool, so one association's stuck lookups leave CONNECTs threads to use. */
export const MAX_NAME_LOOKUPS_IN_FLIGHT = 2;
/** Enough for a burst (a DNS retry, QUIC's first flight); 8 × 64 KiB bounds what one name holds. */
export const MAX_DATAGRAMS_AWAITING_NAME = 8;
/** More names than an application talks to at once; beyond it the oldest is looked up again. */
export const MAX_CACHED_NAMES = 256;
/** Long enough to spare DNS a lookup per datagram, short enough to follow a changed record. */
export const RESOLVED_NAME_TTL_MS = 30_000;
/** A name that failed may soon resolve (a transient SERVFAIL); meanwhile don't ask per datagram. */
export const FAILED_NAME_TTL_MS = 3_000;

/** A datagram dropped by a limit here; `code` is its UdpDropReason. */
export class UdpDropError extends Error {
  constructor(readonly code: UdpDropReason) {
    super(code);
  }
}

type Answer = ResolvedAddress | Error;
interface Waiter {
  resolve(address: ResolvedAddress): void;
  reject(err: Error): void;
}

export class UdpNameResolver {
  /** Oldest first (a Map keeps insertion order), so the first key is the one to forget. */
  private readonly cache = new Map<string, { answer: Answer; expiresAt: number }>();
  private readonly inFlight = new Map<string, Waiter[]>();
  lookupsStarted = 0;

  constructor(private readonly lookup: NameLookup = dnsLookup) {}

  /** The name's address, from the cache or one shared lookup; rejects with the lookup's error or a UdpDropError. */
  resolve(name: string): Promise<ResolvedAddress> {
    const cached = this.cached(name);
    if (cached) return cached instanceof Error ? Promise.reject(cached) : Promise.resolve(cached);
    let waiters = this.inFlight.get(name);
    if (!waiters) {
      if (this.inFlight.size >= MAX_NAME_LOOKUPS_IN_FLIGHT) return Promise.reject(new UdpDropError(UdpDropReason.LookupsBusy));
      waiters = [];
      this.inFlight.set(name, waiters);
      void this.lookUp(name);
    } else if (waiters.length >= MAX_DATAGRAMS_AWAITING_NAME) {
      return Promise.reject(new UdpDropError(UdpDropReason.NameQueueFull));
    }
    const queue = waiters;
    return new Promise((resolve, reject) => queue.push({ resolve, reject }));
  }

  /** Lets go of the waiting datagrams; lookups under way cannot be cancelled, their answers are ignored. */
  close(): void {
    const waiting = [...this.inFlight.values()].flat();
    this.inFlight.clear();
    for (const waiter of waiting) waiter.reject(new UdpDropError(UdpDropReason.Closed));
  }

  private async lookUp(name: string): Promise<void> {
    this.lookupsStarted += 1;
    let answer: Answer;
    try {
      const found = await this.lookup(name);
      answer = { ip: found.address, family: found.family as Family };
    } catch (err) {
      answer = err instanceof Error ? err : new Error(String(err));
    }
    const waiters = this.inFlight.get(name);
    if (!waiters) return; // closed meanwhile
    this.inFlight.delete(name);
    this.remember(name, answer);
    for (const waiter of waiters) {
      if (answer instanceof Error) waiter.reject(answer);
      else waiter.resolve(answer);
    }
  }

  private cached(name: string): Answer | null {
    const entry = this.cache.get(name);
    if (!entry) return null;
    if (performance.now() < entry.expiresAt) return entry.answer;
    this.cache.delete(name);
    return null;
  }

  private remember(name: string, answer: Answer): void {
    const ttlMs = answer instanceof Error ? FAILED_NAME_TTL_MS : RESOLVED_NAME_TTL_MS;
    this.cache.delete(name); // re-inserted as the newest
    this.cache.set(name, { answer, expiresAt: performance.now() + ttlMs });
    if (this.cache.size > MAX_CACHED_NAMES) this.cache.delete(this.cache.keys().next().value as string);
  }
}
