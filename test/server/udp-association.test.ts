/**
 * The relay's UdpAssociation with real UDP sockets on 127.0.0.1: replies are taken only from
 * an address and port the client has sent to, the memory of those is bounded (the oldest is
 * forgotten first), and with the 'any' filter every source gets through. A name is looked up
 * once for many datagrams, and a lookup that never answers holds only a bounded number of
 * them; a socket that cannot bind fails start() instead of leaving it pending.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { Address } from '../../protocol/frame.js';
import { MAX_CONTACTED_PEERS, UdpAssociation, type UdpAssociationOptions, type UdpReplyFilter } from '../../server/dialers/udp.js';
import { MAX_DATAGRAMS_AWAITING_NAME, MAX_NAME_LOOKUPS_IN_FLIGHT, UdpDropReason, type NameLookup } from '../../server/dialers/udp-names.js';
import { DestinationPolicy } from '../../server/policy/destination-policy.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';

import { UdpInbox } from '../helpers/io/udp-io.js';
import { waitFor, withTimeout } from '../helpers/io/waiting.js';

const LOOPBACK = '127.0.0.1';
/** The discard port: nothing listens there in the test, so filler datagrams go nowhere. */
const FILLER_PORT = 9;

/** A distinct loopback address per index (all of 127.0.0.0/8 is local on Linux). */
function fillerHost(index: number): string {
  return `127.1.${index >> 8}.${index & 0xff}`;
}

interface Recorded {
  association: UdpAssociation;
  replies: Array<{ source: Address; text: string }>;
  foreign: Address[];
  drops: Array<{ host: string; reason: string }>;
  sent: () => number;
}

function recordedAssociation(filter: UdpReplyFilter, options: UdpAssociationOptions = {}): Recorded {
  const replies: Recorded['replies'] = [];
  const foreign: Address[] = [];
  const drops: Recorded['drops'] = [];
  const association = new UdpAssociation(
    {
      onReply: (source, payload) => replies.push({ source, text: payload.toString() }),
      onDrop: (destination, reason) => drops.push({ host: destination.host, reason }),
      onForeignReply: (source) => foreign.push(source),
    },
    new DestinationPolicy(loopbackRules()),
    filter,
    options,
  );
  return { association, replies, foreign, drops, sent: () => association.datagramsSent };
}

/** A lookup that counts its calls, answering through `answer`. */
function countedLookup(answer: NameLookup): { lookup: NameLookup; calls: string[] } {
  const calls: string[] = [];
  return { calls, lookup: (name) => (calls.push(name), answer(name)) };
}

/** Real DNS (localhost is answered locally), IPv4 only so the datagrams reach a peer on 127.0.0.1. */
const lookupIPv4: NameLookup = (name) => dnsLookup(name, { family: 4 });
/** A DNS server that never answers. */
const lookupNever: NameLookup = () => new Promise<LookupAddress>(() => {});

/** Sends from `peer` to the association's socket once it has one. */
async function replyFrom(peer: UdpInbox, bound: Address, text: string): Promise<void> {
  await peer.send(Buffer.from(text), bound.port, bound.host === '0.0.0.0' ? LOOPBACK : bound.host);
}

describe('UdpAssociation reply filter', () => {
  it('contacted: a peer it sent to is heard, a stranger is dropped and reported', async () => {
    const { association, replies, foreign, sent } = recordedAssociation('contacted');
    const [peer, stranger] = await Promise.all([UdpInbox.bind(LOOPBACK), UdpInbox.bind(LOOPBACK)]);
    try {
      const bound = await association.start();
      association.send({ host: LOOPBACK, port: peer.port }, Buffer.from('hello'));
      await peer.next();
      await replyFrom(stranger, bound, 'from a stranger');
      await replyFrom(peer, bound, 'from the peer');
      await waitFor(() => replies.length === 1 && foreign.length === 1, { what: 'one reply and one foreign datagram' });
      assert.deepEqual(replies, [{ source: { host: LOOPBACK, port: peer.port }, text: 'from the peer' }]);
      assert.deepEqual(foreign, [{ host: LOOPBACK, port: stranger.port }]);
      assert.equal(association.foreignRepliesDropped, 1);
      assert.equal(sent(), 1);
    } finally {
      association.close();
      peer.close();
      stranger.close();
    }
  });

  it(`contacted: past ${MAX_CONTACTED_PEERS} destinations the oldest is forgotten, the newest still heard`, async () => {
    const { association, replies, foreign } = recordedAssociation('contacted');
    const [oldest, newest] = await Promise.all([UdpInbox.bind(LOOPBACK), UdpInbox.bind(LOOPBACK)]);
    try {
      const bound = await association.start();
      association.send({ host: LOOPBACK, port: oldest.port }, Buffer.from('first'));
      await oldest.next();
      // Fill the memory with other destinations; the newest one after them pushes the oldest out.
      for (let i = 0; i < MAX_CONTACTED_PEERS - 1; i += 1) association.send({ host: fillerHost(i), port: FILLER_PORT }, Buffer.from('x'));
      association.send({ host: LOOPBACK, port: newest.port }, Buffer.from('last'));
      await newest.next();
      await replyFrom(oldest, bound, 'oldest');
      await replyFrom(newest, bound, 'newest');
      await waitFor(() => replies.length + foreign.length === 2, { what: 'both answers handled' });
      assert.deepEqual(replies.map((r) => r.text), ['newest']);
      assert.deepEqual(foreign, [{ host: LOOPBACK, port: oldest.port }]);
    } finally {
      association.close();
      oldest.close();
      newest.close();
    }
  });

  it('any: a stranger is heard too', async () => {
    const { association, replies, foreign } = recordedAssociation('any');
    const stranger = await UdpInbox.bind(LOOPBACK);
    try {
      const bound = await association.start();
      await replyFrom(stranger, bound, 'hello from anywhere');
      await waitFor(() => replies.length === 1, { what: 'the reply' });
      assert.deepEqual(replies, [{ source: { host: LOOPBACK, port: stranger.port }, text: 'hello from anywhere' }]);
      assert.equal(foreign.length, 0);
    } finally {
      association.close();
      stranger.close();
    }
  });
});

describe('UdpAssociation names', () => {
  it('a name is looked up once: datagrams sent while it resolves and after it use the same answer', async () => {
    const { lookup, calls } = countedLookup(lookupIPv4);
    const { association, drops, sent } = recordedAssociation('contacted', { lookup });
    const peer = await UdpInbox.bind(LOOPBACK);
    try {
      await association.start();
      for (const text of ['one', 'two', 'three']) association.send({ host: 'localhost', port: peer.port }, Buffer.from(text));
      const received = [await peer.next(), await peer.next(), await peer.next()].map((m) => m.data.toString());
      assert.deepEqual(received.sort(), ['one', 'three', 'two']);
      association.send({ host: 'localhost', port: peer.port }, Buffer.from('later'));
      assert.equal((await peer.next()).data.toString(), 'later');
      assert.deepEqual(calls, ['localhost']);
      assert.equal(sent(), 4);
      assert.deepEqual(drops, []);
    } finally {
      association.close();
      peer.close();
    }
  });

  it('while lookups never answer, datagrams beyond the caps are dropped and counted; addresses still go through', async () => {
    const { lookup, calls } = countedLookup(lookupNever);
    const { association, drops } = recordedAssociation('contacted', { lookup });
    const peer = await UdpInbox.bind(LOOPBACK);
    const payload = Buffer.alloc(64 * 1024 - 1);
    const names = Array.from({ length: MAX_NAME_LOOKUPS_IN_FLIGHT + 1 }, (_, i) => `stuck-${i}.example`);
    const perName = MAX_DATAGRAMS_AWAITING_NAME + 100;
    try {
      await association.start();
      for (const host of names) for (let i = 0; i < perName; i += 1) association.send({ host, port: 53 }, payload);
      const held = MAX_NAME_LOOKUPS_IN_FLIGHT * MAX_DATAGRAMS_AWAITING_NAME;
      const total = names.length * perName;
      await waitFor(() => association.datagramsDropped === total - held, { what: () => `${total - held} drops, have ${association.datagramsDropped}` });
      assert.deepEqual(calls, names.slice(0, MAX_NAME_LOOKUPS_IN_FLIGHT));
      const reasons = (host: string): Set<string> => new Set(drops.filter((d) => d.host === host).map((d) => d.reason));
      for (const host of names.slice(0, MAX_NAME_LOOKUPS_IN_FLIGHT)) assert.deepEqual(reasons(host), new Set([UdpDropReason.NameQueueFull]));
      assert.deepEqual(reasons(names[MAX_NAME_LOOKUPS_IN_FLIGHT]), new Set([UdpDropReason.LookupsBusy]));
      association.send({ host: LOOPBACK, port: peer.port }, Buffer.from('by address'));
      assert.equal((await peer.next()).data.toString(), 'by address');
      assert.equal(association.datagramsDropped, total - held, 'no more drops once the flood stopped');
    } finally {
      association.close();
      peer.close();
    }
  });

  it('a name that fails to resolve drops the datagram with the lookup\'s code', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    const { lookup } = countedLookup(() => Promise.reject(notFound));
    const { association, drops } = recordedAssociation('contacted', { lookup });
    try {
      await association.start();
      association.send({ host: 'missing.example', port: 53 }, Buffer.from('x'));
      await waitFor(() => drops.length === 1, { what: 'the drop' });
      assert.deepEqual(drops, [{ host: 'missing.example', reason: 'ENOTFOUND' }]);
    } finally {
      association.close();
    }
  });
});

describe('UdpAssociation bind failure', () => {
  it('start() rejects with the bind error when the IPv4 socket cannot bind', async () => {
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface here: bind fails with EADDRNOTAVAIL.
    const { association } = recordedAssociation('contacted', { bindAddresses: { 4: '192.0.2.1' } });
    try {
      await assert.rejects(withTimeout(association.start(), { what: 'start() to settle', timeoutMs: 2_000 }), { code: 'EADDRNOTAVAIL' });
    } finally {
      association.close();
      association.close();
    }
  });

  it('a datagram for a family whose socket cannot bind is dropped and counted', async () => {
    const { association, drops } = recordedAssociation('contacted', { bindAddresses: { 6: '2001:db8::1' } });
    try {
      await association.start();
      association.send({ host: '::1', port: 9 }, Buffer.from('x'));
      await waitFor(() => drops.length === 1, { what: 'the drop', timeoutMs: 2_000 });
      assert.equal(association.datagramsDropped, 1);
      assert.equal(association.datagramsSent, 0);
    } finally {
      association.close();
    }
  });
});
