/**
 * --fallback passes the body an upgrade request declares (a POST with Upgrade headers and a
 * Content-Length) to the origin with backpressure: to an origin that reads nothing, the relay
 * takes no more of a 128 MiB body than socket buffers hold, so the sender is held back
 * instead of the relay's memory filling with the body.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createLogger } from '../../common/log.js';
import { startRelay, type Relay } from '../../server/relay.js';
import { connectTcp } from '../helpers/io/socket-io.js';
import { MiB, sleep } from '../helpers/workloads/bulk-data.js';

const DECLARED = 128 * MiB;
const CHUNK = 64 * 1024;
/** Loopback socket buffers (sender, relay both ways, origin) and stream buffers, with room; far below the body. */
const MAX_TAKEN = 24 * MiB;
/** A write not drained this long: the relay has stopped taking the body. */
const STALL_MS = 1_000;

/** An origin that accepts connections and never reads from them. */
async function startDeafOrigin(): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    socket.pause();
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, sockets };
}

/** Writes up to `total` bytes, waiting for 'drain' when asked; stops when a drain does not come within STALL_MS. */
async function writeUntilStalled(socket: Socket, total: number): Promise<number> {
  const chunk = Buffer.alloc(CHUNK, 0x61);
  let sent = 0;
  for (let i = 0; i < total / CHUNK; i++) {
    sent += CHUNK;
    if (socket.write(chunk)) continue;
    const drained = await Promise.race([new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))), sleep(STALL_MS).then(() => false)]);
    if (!drained) break;
  }
  return sent;
}

describe('an upgrade POST body to an origin that reads nothing', () => {
  let origin: { server: Server; sockets: Set<Socket> };
  let relay: Relay;
  let socket: Socket | null = null;
  before(async () => {
    origin = await startDeafOrigin();
    const url = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}`;
    relay = await startRelay({ listen: { host: '127.0.0.1', port: 0 }, tokens: ['t-upgrade-body'], fallback: url, logger: createLogger('relay', 'silent') });
  });
  after(async () => {
    socket?.destroy();
    await relay?.close();
    for (const peer of origin?.sockets ?? []) peer.destroy();
    await new Promise<void>((resolve) => origin?.server.close(() => resolve()));
  });

  test('holds the sender back instead of buffering the body', async () => {
    socket = await connectTcp(relay.address.port);
    socket.on('error', () => undefined);
    socket.write(
      `POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: ${DECLARED}\r\n\r\n`,
    );
    const sent = await writeUntilStalled(socket, DECLARED);
    assert.ok(sent < MAX_TAKEN, `the relay took ${(sent / MiB).toFixed(1)} MiB of the body the origin never read`);
  });
});
