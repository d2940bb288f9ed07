/**
 * SharedBufferReads over real loopback sockets: bytes that arrive before a sink attaches are
 * held (and reading pauses), then delivered first; two sockets sharing the one buffer each
 * get their own bytes; a sink that asks for a pause stops the reads until resume().
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { SharedBufferReads } from '../../protocol/shared-read.js';
import { Keystream, MiB, sleep } from '../helpers/workloads/bulk-data.js';
import { waitFor } from '../helpers/io/waiting.js';

const HOLD_MS = 200;

/** A server that sends `payload` to each connection and then ends it. */
async function startSender(payload: Buffer): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end(payload);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function dial(server: Server, reads: SharedBufferReads): Promise<Socket> {
  const socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', onread: reads.onread, allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

/** Attaches a sink that copies what it is lent (the next read overwrites it). */
function collect(socket: Socket, reads: SharedBufferReads, accept: () => boolean = () => true): { chunks: Buffer[]; bytes: () => number } {
  const chunks: Buffer[] = [];
  reads.attach(socket, (view) => {
    chunks.push(Buffer.from(view));
    return accept();
  });
  return { chunks, bytes: () => chunks.reduce((sum, chunk) => sum + chunk.length, 0) };
}

describe('SharedBufferReads', () => {
  it('holds what arrives before a sink attaches and delivers it first, then the rest', async () => {
    const payload = new Keystream('early').next(4 * MiB);
    const server = await startSender(payload);
    const reads = new SharedBufferReads();
    const socket = await dial(server, reads);
    try {
      await sleep(HOLD_MS); // the first read lands with no sink: held, and reading pauses
      assert.ok(socket.bytesRead > 0 && socket.bytesRead <= 64 * 1024, `one read held, then paused (read ${socket.bytesRead})`);
      const got = collect(socket, reads);
      await waitFor(() => got.bytes() === payload.length, { what: 'all 4 MiB' });
      assert.ok(Buffer.concat(got.chunks).equals(payload));
    } finally {
      socket.destroy();
      server.close();
    }
  });

  it('two sockets reading into the one buffer each get exactly their own bytes', async () => {
    const first = new Keystream('first').next(2 * MiB);
    const second = new Keystream('second').next(2 * MiB);
    const [serverA, serverB] = await Promise.all([startSender(first), startSender(second)]);
    const readsA = new SharedBufferReads();
    const readsB = new SharedBufferReads();
    const [socketA, socketB] = await Promise.all([dial(serverA, readsA), dial(serverB, readsB)]);
    try {
      const gotA = collect(socketA, readsA);
      const gotB = collect(socketB, readsB);
      await waitFor(() => gotA.bytes() === first.length && gotB.bytes() === second.length, { what: 'both payloads' });
      assert.ok(Buffer.concat(gotA.chunks).equals(first));
      assert.ok(Buffer.concat(gotB.chunks).equals(second));
    } finally {
      socketA.destroy();
      socketB.destroy();
      serverA.close();
      serverB.close();
    }
  });

  it('a sink that answers false pauses the reads until resume()', async () => {
    const payload = new Keystream('paused').next(8 * MiB);
    const server = await startSender(payload);
    const reads = new SharedBufferReads();
    const socket = await dial(server, reads);
    try {
      let open = true;
      const got = collect(socket, reads, () => open);
      await waitFor(() => got.bytes() > 0, { what: 'a first read' });
      open = false;
      const atPause = got.bytes();
      await sleep(HOLD_MS);
      assert.ok(got.bytes() - atPause <= 64 * 1024, 'at most the read in flight after the pause');
      const paused = got.bytes();
      await sleep(HOLD_MS);
      assert.equal(got.bytes(), paused, 'nothing more while paused');
      open = true;
      socket.resume();
      await waitFor(() => got.bytes() === payload.length, { what: 'the rest after resume' });
      assert.ok(Buffer.concat(got.chunks).equals(payload));
    } finally {
      socket.destroy();
      server.close();
    }
  });
});
