/**
 * Figure 7: UDP datagrams per second and loss. For each payload size, one UDP socket
 * sends datagrams to the targets' UDP echo — straight over loopback (direct), or wrapped
 * in the RFC 1928 §7 header to the sockbridge client's UDP relay after a SOCKS5 UDP
 * ASSOCIATE (tunnel) — keeping `window` outstanding: every reply, and every datagram given
 * up on after `datagramTimeoutMs` (a loss), lets the next one go. Replies are counted over
 * `durationMs` after a `warmupMs` warm-up.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ScenarioContext } from '../messages.js';
import { TARGET_HOST } from '../route.js';
import { encodeUdpHeader, socks5UdpAssociate, stripUdpHeader, type HostPort, type UdpAssociation } from '../socks5.js';
import { ascending, percentile } from '../stats.js';

export interface UdpParams {
  smallBytes: number;
  largeBytes: number;
  /** Datagrams outstanding at once. */
  window: number;
  warmupMs: number;
  durationMs: number;
  /** A datagram with no reply after this long counts as lost and frees its slot. */
  datagramTimeoutMs: number;
}

export interface UdpSizeResult {
  payloadBytes: number;
  /** Replies that arrived within the measured interval, per second. */
  perSecond: number;
  /** Of the datagrams sent in the measured interval: how many never came back in time. */
  sentMeasured: number;
  lostMeasured: number;
  lossRate: number;
  /** Replies that came after their datagram had been counted lost (all phases). */
  late: number;
  /** Replies that did not parse or carried an unknown sequence number (all phases). */
  garbled: number;
  /** Every datagram sent, warm-up included. */
  sentTotal: number;
  rttP50Us: number;
  rttP99Us: number;
}

export interface UdpResult {
  sizes: UdpSizeResult[];
}

const ASSOCIATE_TIMEOUT_MS = 5_000;
/** How often outstanding datagrams are checked for their timeout. */
const SWEEP_MS = 10;
/** Bytes at the start of each payload: the datagram's sequence number. */
const SEQ_BYTES = 4;
/** The load generator's own socket buffers, so that it is never the one dropping. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** RTT samples kept per size, for the percentiles (every reply up to this many). */
const MAX_RTT_SAMPLES = 200_000;

export async function runUdp(ctx: ScenarioContext, params: UdpParams): Promise<UdpResult> {
  const sizes: UdpSizeResult[] = [];
  for (const payloadBytes of [params.smallBytes, params.largeBytes]) {
    const result = await measureSize(ctx, params, payloadBytes);
    ctx.progress(
      `${payloadBytes} B: ${result.perSecond.toFixed(0)} datagrams/s, ${(result.lossRate * 100).toFixed(2)} % lost ` +
        `(${result.lostMeasured} of ${result.sentMeasured}), RTT p50 ${result.rttP50Us.toFixed(0)} µs`,
    );
    sizes.push(result);
  }
  return { sizes };
}

async function measureSize(ctx: ScenarioContext, params: UdpParams, payloadBytes: number): Promise<UdpSizeResult> {
  const socket = await bindUdp();
  let association: UdpAssociation | null = null;
  try {
    const echo: HostPort = { host: TARGET_HOST, port: ctx.ports.udpEcho };
    let to = echo;
    let header: Buffer = Buffer.alloc(0);
    if (ctx.route.mode === 'tunnel') {
      if (!ctx.route.socks) throw new Error('tunnel route without a SOCKS address');
      // DST: where our datagrams will come from (the relay may admit only that address).
      association = await socks5UdpAssociate(ctx.route.socks, { host: '0.0.0.0', port: socket.address().port }, ASSOCIATE_TIMEOUT_MS);
      to = association.relay;
      header = encodeUdpHeader(echo);
    }
    await connectUdp(socket, to);
    const unwrap = association ? stripUdpHeader : (d: Buffer): Buffer => d;
    const controlClosed = association ? watchClose(association.control) : null;
    const result = await pump(socket, to, header, unwrap, payloadBytes, params, () => controlClosed?.() ?? null);
    if (result.sentMeasured > 0 && result.lostMeasured === result.sentMeasured) {
      const via = association ? ` via the UDP relay at ${to.host}:${to.port}` : '';
      throw new Error(`${payloadBytes} B: none of ${result.sentMeasured} datagrams came back from the echo at ${echo.host}:${echo.port}${via}`);
    }
    return result;
  } finally {
    association?.control.destroy();
    socket.close();
  }
}

/** Connected: sends need no address, and only `to` can answer. */
function connectUdp(socket: UdpSocket, to: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(to.port, to.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function bindUdp(): Promise<UdpSocket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, TARGET_HOST, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Returns a function that tells why the control connection closed, or null while open. */
function watchClose(control: Socket): () => string | null {
  let why: string | null = null;
  control.on('error', (err) => (why ??= `control connection error: ${err.message}`));
  control.on('close', () => (why ??= 'the proxy closed the UDP ASSOCIATE control connection'));
  control.resume(); // §7: nothing more comes on it; read and drop
  return () => why;
}

/**
 * Sends and counts for warm-up + duration, then waits for the last outstanding datagrams
 * (at most one timeout). `broken` stops the run early with an error.
 */
function pump(
  socket: UdpSocket,
  to: HostPort,
  header: Buffer,
  unwrap: (datagram: Buffer) => Buffer | null,
  payloadBytes: number,
  params: UdpParams,
  broken: () => string | null,
): Promise<UdpSizeResult> {
  // dgram may queue a send without copying: the shared parts stay constant, the sequence
  // number gets a fresh buffer each time.
  const body = Buffer.alloc(payloadBytes - SEQ_BYTES, 0x75);
  const start = performance.now();
  const measureFrom = start + params.warmupMs;
  const measureUntil = measureFrom + params.durationMs;
  /** seq → send time; in send order, so the oldest are first. */
  const outstanding = new Map<number, { at: number; measured: boolean }>();
  const rtts: number[] = [];
  let nextSeq = 0;
  let sentTotal = 0;
  let sentMeasured = 0;
  let lostMeasured = 0;
  let receivedMeasured = 0;
  let late = 0;
  let garbled = 0;
  let sendError: string | null = null;

  const sendOne = (now: number): void => {
    if (now >= measureUntil || sendError) return;
    const seq = nextSeq++;
    const seqBytes = Buffer.allocUnsafe(SEQ_BYTES);
    seqBytes.writeUInt32BE(seq, 0);
    const measured = now >= measureFrom;
    outstanding.set(seq, { at: now, measured });
    sentTotal++;
    if (measured) sentMeasured++;
    socket.send(header.length > 0 ? [header, seqBytes, body] : [seqBytes, body], (err) => {
      if (err) sendError ??= `send to ${to.host}:${to.port}: ${err.message}`;
    });
  };

  return new Promise((resolve, reject) => {
    const finish = (err: Error | null): void => {
      clearInterval(sweeper);
      socket.removeAllListeners('message');
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      if (err) return reject(err);
      const sorted = ascending(rtts);
      resolve({
        payloadBytes,
        perSecond: receivedMeasured / (params.durationMs / 1000),
        sentMeasured,
        lostMeasured,
        lossRate: sentMeasured > 0 ? lostMeasured / sentMeasured : NaN,
        late,
        garbled,
        sentTotal,
        rttP50Us: percentile(sorted, 50) * 1000,
        rttP99Us: percentile(sorted, 99) * 1000,
      });
    };
    socket.on('message', (msg: Buffer) => {
      const now = performance.now();
      const payload = unwrap(msg);
      if (!payload || payload.length !== payloadBytes) {
        garbled++;
        return;
      }
      const seq = payload.readUInt32BE(0);
      const sent = outstanding.get(seq);
      if (!sent) {
        if (seq < nextSeq) late++;
        else garbled++;
        return;
      }
      outstanding.delete(seq);
      if (now >= measureFrom && now < measureUntil) receivedMeasured++;
      if (rtts.length < MAX_RTT_SAMPLES && sent.measured) rtts.push(now - sent.at);
      sendOne(now);
      if (now >= measureUntil && outstanding.size === 0) finish(null);
    });
    // On a connected socket an ICMP "port unreachable" comes back as an error.
    socket.on('error', (err) => (sendError ??= `socket error: ${err.message}`));
    const sweeper = setInterval(() => {
      const now = performance.now();
      const problem = sendError ?? broken();
      if (problem) return finish(new Error(`${payloadBytes} B: ${problem}`));
      let expired = 0;
      for (const [seq, sent] of outstanding) {
        if (now - sent.at < params.datagramTimeoutMs) break; // the rest are younger
        outstanding.delete(seq);
        if (sent.measured) lostMeasured++;
        expired++;
      }
      for (let i = 0; i < expired; i++) sendOne(now);
      if (now >= measureUntil && outstanding.size === 0) finish(null);
    }, SWEEP_MS);
    const now = performance.now();
    for (let i = 0; i < params.window; i++) sendOne(now);
  });
}
