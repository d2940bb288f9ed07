/**
 * The target servers, run as their own process: `node dist/bench/targets.js`.
 * Prints one line `targets {"echo":P,"sink":P,"source":P,"udpEcho":P}` on stdout once listening.
 *
 * - echo:   sends back every byte.
 * - sink:   reads an 8-byte big-endian length N, then swallows N bytes, answering one
 *           SINK_ACK byte per SINK_ACK_EVERY bytes taken and SINK_DONE once all N arrived,
 *           so the sender can time what was really received.
 * - source: reads an 8-byte big-endian length N, then sends N bytes (N = 0: forever,
 *           until the peer goes away), always waiting for 'drain': it never buffers ahead.
 * - udpEcho: UDP; sends every datagram back to where it came from, unchanged.
 */
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { HEADER_BYTES, SINK_ACK, SINK_ACK_EVERY, SINK_DONE, SOURCE_ENDLESS } from './wire.js';

const SOURCE_CHUNK = Buffer.alloc(256 * 1024, 0x5a);
const ACK = Buffer.from([SINK_ACK]);
const DONE = Buffer.from([SINK_DONE]);

function listen(onSocket: (socket: Socket) => void): Promise<number> {
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    onSocket(socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A large backlog: the concurrency scenarios connect by the thousand at once.
    server.listen({ port: 0, host: '127.0.0.1', backlog: 16_384 }, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Collects the 8-byte length header, then hands over the length and any bytes behind it. */
function withHeader(socket: Socket, then: (length: bigint, rest: Buffer) => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    if (head.length < HEADER_BYTES) return;
    socket.off('data', onData);
    then(head.readBigUInt64BE(0), head.subarray(HEADER_BYTES));
  };
  socket.on('data', onData);
}

function serveEcho(socket: Socket): void {
  socket.pipe(socket);
}

function serveSink(socket: Socket): void {
  withHeader(socket, (length, rest) => {
    const total = Number(length);
    let received = 0;
    let acked = 0;
    const take = (bytes: number): void => {
      received += bytes;
      while (received - acked >= SINK_ACK_EVERY) {
        acked += SINK_ACK_EVERY;
        socket.write(ACK);
      }
      if (received >= total) {
        socket.off('data', onData);
        socket.end(DONE);
      }
    };
    const onData = (chunk: Buffer): void => take(chunk.length);
    socket.on('data', onData);
    socket.on('end', () => socket.end());
    if (rest.length > 0) take(rest.length);
  });
}

function serveSource(socket: Socket): void {
  withHeader(socket, (length) => {
    let remaining = length === SOURCE_ENDLESS ? Infinity : Number(length);
    const pump = (): void => {
      if (socket.destroyed) return;
      // One chunk per turn; 'drain' brings the next, so at most one chunk waits in user space.
      const size = Math.min(remaining, SOURCE_CHUNK.length);
      remaining -= size;
      const more = remaining > 0;
      const flushed = socket.write(size === SOURCE_CHUNK.length ? SOURCE_CHUNK : SOURCE_CHUNK.subarray(0, size));
      if (!more) socket.end();
      else if (flushed) setImmediate(pump);
      else socket.once('drain', pump);
    };
    socket.resume(); // anything after the header is ignored
    socket.on('end', () => socket.destroy());
    pump();
  });
}

/** Large socket buffers: a burst of a few hundred datagrams must not overflow the kernel's queue. */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

function listenUdpEcho(): Promise<number> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
  socket.on('message', (msg, from) => socket.send(msg, from.port, from.address));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      socket.on('error', () => {}); // e.g. ICMP port unreachable from a sender that went away
      resolve(socket.address().port);
    });
  });
}

async function main(): Promise<void> {
  const ports = { echo: await listen(serveEcho), sink: await listen(serveSink), source: await listen(serveSource), udpEcho: await listenUdpEcho() };
  process.stdout.write(`targets ${JSON.stringify(ports)}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((err: Error) => {
  process.stderr.write(`targets: ${err.message}\n`);
  process.exit(1);
});
