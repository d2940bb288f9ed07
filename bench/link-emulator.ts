/**
 * A long-distance link in user space (this kernel has no netem): a TCP forwarder that
 * listens on 127.0.0.1 and, for every connection, connects to an upstream and passes the
 * bytes each way through a DelayLine: the link's rate, then its one-way delay, with at
 * most `maxInflightBytes` per connection and direction held on the way (what a real path
 * with Linux's largest TCP windows would hold). Round trip = 2 × delayMs.
 *
 * All connections of one emulator share one Pacer per direction: they cross one link, so
 * eight parallel streams share its rate as they would share a real bottleneck.
 *
 * A FIN crosses after the data before it. A reset (an error, or a close before both
 * FINs) reaches the other side one delay later, as an RST; what was still queued is lost.
 *
 * As its own process: `node dist/bench/link-emulator.js --upstream 127.0.0.1:PORT
 * [--upstream …] [--listen-port 0] --delay-ms 25 --rate-bps 125000000
 * --max-inflight-bytes 33554432` (--rate-bps is in bytes per second) prints one line
 * `link-emulator listening {"port":P,"entries":{"<upstream port>":P,…}}` once listening.
 * Imported: startLinkEmulator(options).
 */
import { connect, createServer, type AddressInfo, type NetConnectOpts, type Server, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { DelayLine, Pacer } from './delay-line.js';
import { DEFAULT_MAX_INFLIGHT_BYTES, parseLinkArgs, type LinkOptions } from './link-args.js';
import type { HostPort } from './socks5.js';

export interface LinkStats {
  connections: number;
  /** Largest in-flight count any connection's line reached in either direction. */
  peakInflightBytes: number;
  /** Delivered so far, towards the upstreams and back. */
  upBytes: number;
  downBytes: number;
  /** Per byte delivered, how late against its due time on average, and the worst: the emulator's own accuracy. */
  meanLateMs: number;
  maxLateMs: number;
  /** Summed over connections and directions: time deliveries waited for a receiver to drain. */
  heldMs: number;
}

export interface LinkEmulator {
  /** The first upstream's listening port. */
  port: number;
  /** Upstream port → the port that reaches it across the link. */
  entries: Record<string, number>;
  stats(): LinkStats;
  close(): Promise<void>;
}

export { DEFAULT_MAX_INFLIGHT_BYTES, type LinkOptions };
export const LISTENING_LINE = /^link-emulator listening (\{.*\})$/;
/** Socket buffers in user space: big enough that a batch of due chunks goes out in one writev. */
const SOCKET_HIGH_WATER_BYTES = 256 * 1024;
const BACKLOG = 16_384;
const LISTEN_HOST = '127.0.0.1';

interface Connection {
  sockets: [Socket, Socket];
  lines: [DelayLine, DelayLine];
}

export async function startLinkEmulator(options: LinkOptions): Promise<LinkEmulator> {
  const pacers = { up: new Pacer(options.rateBytesPerSecond), down: new Pacer(options.rateBytesPerSecond) };
  const connections = new Set<Connection>();
  const resetTimers = new Set<NodeJS.Timeout>();
  const retired = { peak: 0, up: 0, down: 0, lateByteMs: 0, maxLateMs: 0, heldMs: 0 };
  const lineOptions = (pacer: Pacer) => ({ pacer, delayMs: options.delayMs, maxInflightBytes: options.maxInflightBytes });

  const later = (fn: () => void): void => {
    const timer = setTimeout(() => {
      resetTimers.delete(timer);
      fn();
    }, options.delayMs);
    resetTimers.add(timer);
  };

  const join = (near: Socket, upstream: HostPort): void => {
    // net.Socket passes highWaterMark on to its streams; @types/node does not declare it for connect().
    const farOptions: NetConnectOpts & { highWaterMark: number } = {
      host: upstream.host,
      port: upstream.port,
      allowHalfOpen: true,
      noDelay: true,
      highWaterMark: SOCKET_HIGH_WATER_BYTES,
    };
    const far = connect(farOptions);
    const connection: Connection = {
      sockets: [near, far],
      lines: [new DelayLine(near, far, lineOptions(pacers.up)), new DelayLine(far, near, lineOptions(pacers.down))],
    };
    connections.add(connection);
    let closed = 0;
    for (const [socket, other] of [[near, far], [far, near]] as const) {
      socket.on('error', () => {});
      socket.once('close', () => {
        // Both FINs crossed and were taken: an orderly end. Anything else is a reset.
        if (!(socket.readableEnded && socket.writableFinished)) {
          for (const line of connection.lines) line.stop();
          later(() => other.resetAndDestroy());
        }
        if (++closed === 2) retire(connection);
      });
    }
  };

  const retire = (connection: Connection): void => {
    connections.delete(connection);
    const [up, down] = connection.lines;
    retired.peak = Math.max(retired.peak, up.peakInflightBytes, down.peakInflightBytes);
    retired.up += up.deliveredBytes;
    retired.down += down.deliveredBytes;
    retired.lateByteMs += up.lateByteMs + down.lateByteMs;
    retired.maxLateMs = Math.max(retired.maxLateMs, up.maxLateMs, down.maxLateMs);
    retired.heldMs += up.heldMs + down.heldMs;
  };

  const servers: Server[] = [];
  const entries: Record<string, number> = {};
  try {
    for (const upstream of options.upstreams) {
      const server = createServer({ allowHalfOpen: true, noDelay: true, highWaterMark: SOCKET_HIGH_WATER_BYTES }, (near) => join(near, upstream));
      servers.push(server);
      entries[upstream.port] = await listen(server, options.upstreams.length === 1 ? (options.listenPort ?? 0) : 0);
    }
  } catch (err) {
    for (const server of servers) server.close();
    throw err;
  }

  return {
    port: entries[options.upstreams[0].port],
    entries,
    stats() {
      const live = [...connections];
      const lines = live.flatMap((c) => c.lines);
      const sum = (f: (line: DelayLine) => number): number => lines.reduce((total, line) => total + f(line), 0);
      const upBytes = retired.up + live.reduce((total, c) => total + c.lines[0].deliveredBytes, 0);
      const downBytes = retired.down + live.reduce((total, c) => total + c.lines[1].deliveredBytes, 0);
      const lateByteMs = retired.lateByteMs + sum((line) => line.lateByteMs);
      return {
        connections: live.length,
        peakInflightBytes: Math.max(retired.peak, ...lines.map((l) => l.peakInflightBytes)),
        upBytes,
        downBytes,
        meanLateMs: upBytes + downBytes > 0 ? lateByteMs / (upBytes + downBytes) : 0,
        maxLateMs: Math.max(retired.maxLateMs, ...lines.map((l) => l.maxLateMs)),
        heldMs: retired.heldMs + sum((line) => line.heldMs),
      };
    },
    async close() {
      for (const timer of resetTimers) clearTimeout(timer);
      resetTimers.clear();
      for (const connection of connections) {
        for (const line of connection.lines) line.stop();
        for (const socket of connection.sockets) socket.destroy();
      }
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: LISTEN_HOST, backlog: BACKLOG }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function main(): Promise<void> {
  const options = parseLinkArgs(process.argv.slice(2));
  const link = await startLinkEmulator(options);
  process.stdout.write(`link-emulator listening ${JSON.stringify({ port: link.port, entries: link.entries })}\n`);
  process.on('SIGTERM', () => {
    process.stdout.write(`link-emulator stats ${JSON.stringify(link.stats())}\n`, () => process.exit(0));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    process.stderr.write(`link-emulator: ${err.message}\n`);
    process.exit(1);
  });
}
