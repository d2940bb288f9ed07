/**
 * The relay's UdpAssociation with real UDP sockets on 127.0.0.1: replies are taken only from
 * an address and port the client has sent to, the memory of those is bounded (the oldest is
 * forgotten first), and with the 'any' filter every source gets through.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from '../../protocol/frame.js';
import { MAX_CONTACTED_PEERS, UdpAssociation, type UdpReplyFilter } from '../../server/dialers/udp.js';
import { DestinationPolicy } from '../../server/policy/destination-policy.js';
import { loopbackRules } from '../helpers/fixtures/loopback-rules.js';

import { UdpInbox } from '../helpers/io/udp-io.js';
import { waitFor } from '../helpers/io/waiting.js';

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
  sent: () => number;
}

function recordedAssociation(filter: UdpReplyFilter): Recorded {
  const replies: Recorded['replies'] = [];
  const foreign: Address[] = [];
  const association = new UdpAssociation(
    {
      onReply: (source, payload) => replies.push({ source, text: payload.toString() }),
      onDrop: () => {},
      onForeignReply: (source) => foreign.push(source),
    },
    new DestinationPolicy(loopbackRules()),
    filter,
  );
  return { association, replies, foreign, sent: () => association.datagramsSent };
}

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
