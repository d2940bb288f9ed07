/**
 * An authoritative DNS server over TCP on 127.0.0.1 for the --dns-listen tests (RFC 1035
 * §4.2.2 framing, RFC 7766 pipelining): answers A records from a small zone, NXDOMAIN for
 * other names, and every query on a connection as it arrives, so answers to pipelined
 * queries may come back out of order. It frames and parses on its own (with the hand-built
 * codec of dns-message.ts), independent of the product's code. Knobs let tests delay answers,
 * never answer a name, or close a connection after some answers.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { DNS_CLASS_IN, DNS_HEADER_LENGTH, DNS_RCODE_NOERROR, DNS_RCODE_NXDOMAIN, DNS_TTL_SECONDS, DNS_TYPE_A, decodeName } from './dns-message.js';

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_RD = 0x0100;
const TCP_LENGTH_PREFIX = 2;
const IPV4_LENGTH = 4;
/** TYPE CLASS TTL RDLENGTH. */
const RECORD_FIXED_LENGTH = 10;
const QUESTION_FIXED_LENGTH = 4;
/** Answer names point back at the question's name, right after the header (RFC 1035 §4.1.4). */
const POINTER_TO_QUESTION = 0xc000 | DNS_HEADER_LENGTH;
/** EDNS0's OPT pseudo-record type (RFC 6891 §6.1.1). */
const DNS_TYPE_OPT = 41;

/** name → its A records. */
export type Zone = Record<string, string[]>;

/** One A record each, and one name whose answer (60 records, 991 bytes) needs more than 512. */
export const TEST_ZONE: Zone = {
  'one.zone.test': ['192.0.2.1'],
  'two.zone.test': ['192.0.2.2'],
  'big.zone.test': Array.from({ length: 60 }, (_, i) => `198.51.100.${i + 1}`),
};
/** Names answered one by one, `www<n>.zone.test` → 10.0.<n / 256>.<n % 256>, for the concurrency test. */
export function numberedAddress(n: number): string {
  return `10.0.${Math.floor(n / 256)}.${n % 256}`;
}
const NUMBERED_NAME = /^www(\d+)\.zone\.test$/;

export interface ZoneServerOptions {
  zone?: Zone;
  /** Milliseconds to wait before answering a name (answers then overtake each other). */
  delayMs?: (name: string) => number;
  /** Names never answered. */
  silent?: ReadonlySet<string>;
  /** Close each connection once it has answered this many queries. */
  closeAfterAnswers?: number;
}

export interface ZoneServer {
  port: number;
  /** Every query received: its ID and name, in arrival order. */
  queries: Array<{ id: number; name: string }>;
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export async function startZoneServer(options: ZoneServerOptions = {}): Promise<ZoneServer> {
  const sockets = new Set<Socket>();
  const state: ZoneServer = { port: 0, queries: [], connections: 0, close: async () => {} };
  const server: Server = createServer((socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket, options, state);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return state;
}

function serve(socket: Socket, options: ZoneServerOptions, state: ZoneServer): void {
  let buffered = Buffer.alloc(0);
  let answered = 0;
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= TCP_LENGTH_PREFIX && buffered.length >= TCP_LENGTH_PREFIX + buffered.readUInt16BE(0)) {
      const query = buffered.subarray(TCP_LENGTH_PREFIX, TCP_LENGTH_PREFIX + buffered.readUInt16BE(0));
      buffered = buffered.subarray(TCP_LENGTH_PREFIX + query.length);
      const { name } = decodeName(query, DNS_HEADER_LENGTH);
      state.queries.push({ id: query.readUInt16BE(0), name });
      if (options.silent?.has(name)) continue;
      const answer = answerFor(query, options.zone ?? TEST_ZONE);
      setTimeout(() => {
        if (socket.destroyed) return;
        const length = Buffer.alloc(TCP_LENGTH_PREFIX);
        length.writeUInt16BE(answer.length, 0);
        socket.write(Buffer.concat([length, answer]));
        answered += 1;
        if (options.closeAfterAnswers !== undefined && answered >= options.closeAfterAnswers) socket.end();
      }, options.delayMs?.(name) ?? 0);
    }
  });
}

function addressesFor(name: string, zone: Zone): string[] | null {
  const numbered = NUMBERED_NAME.exec(name);
  if (numbered) return [numberedAddress(Number(numbered[1]))];
  return zone[name] ?? null;
}

/** The answer to a one-question query: A records from the zone, else NXDOMAIN; an OPT in the query is not echoed. */
export function answerFor(query: Buffer, zone: Zone): Buffer {
  const { name, end } = decodeName(query, DNS_HEADER_LENGTH);
  const qtype = query.readUInt16BE(end);
  const addresses = qtype === DNS_TYPE_A ? addressesFor(name, zone) : null;
  const known = addressesFor(name, zone) !== null;
  const header = Buffer.alloc(DNS_HEADER_LENGTH);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(FLAG_QR | FLAG_AA | (query.readUInt16BE(2) & FLAG_RD) | (known ? DNS_RCODE_NOERROR : DNS_RCODE_NXDOMAIN), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses?.length ?? 0, 6);
  const records = (addresses ?? []).map((address) => {
    const record = Buffer.alloc(2 + RECORD_FIXED_LENGTH + IPV4_LENGTH);
    record.writeUInt16BE(POINTER_TO_QUESTION, 0);
    record.writeUInt16BE(DNS_TYPE_A, 2);
    record.writeUInt16BE(DNS_CLASS_IN, 4);
    record.writeUInt32BE(DNS_TTL_SECONDS, 6);
    record.writeUInt16BE(IPV4_LENGTH, 10);
    Buffer.from(ipaddr.parse(address).toByteArray()).copy(record, 12);
    return record;
  });
  return Buffer.concat([header, query.subarray(DNS_HEADER_LENGTH, end + QUESTION_FIXED_LENGTH), ...records]);
}

/** `query` with an EDNS0 OPT record announcing `udpSize` (RFC 6891 §6.1.2: root name, TYPE 41, CLASS = size). */
export function withEdns(query: Buffer, udpSize: number): Buffer {
  const opt = Buffer.alloc(1 + RECORD_FIXED_LENGTH);
  opt.writeUInt16BE(DNS_TYPE_OPT, 1);
  opt.writeUInt16BE(udpSize, 3);
  const out = Buffer.concat([query, opt]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10); // ARCOUNT
  return out;
}
