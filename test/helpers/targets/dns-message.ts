/**
 * A hand-built DNS message codec and a one-record authoritative server (RFC 1035 §4.1),
 * just enough for a real UDP application in the tests: an A query, its answer with a
 * compressed name, and NXDOMAIN for everything else.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import ipaddr from 'ipaddr.js';
import { bindUdp } from '../io/udp-io.js';

export const DNS_HEADER_LENGTH = 12;
const DNS_FLAG_QR = 0x8000;
const DNS_FLAG_AA = 0x0400;
const DNS_FLAG_RD = 0x0100;
const DNS_RCODE_MASK = 0x000f;
export const DNS_RCODE_NOERROR = 0;
export const DNS_RCODE_NXDOMAIN = 3;
export const DNS_TYPE_A = 0x0001;
export const DNS_CLASS_IN = 0x0001;
/** A compression pointer: the top two bits of a label length set (RFC 1035 §4.1.4). */
const DNS_POINTER_MASK = 0xc0;
/** The question's name starts right after the header: answers point back to it. */
const DNS_QUESTION_NAME_POINTER = (DNS_POINTER_MASK << 8) | DNS_HEADER_LENGTH;
/** Pointer chains longer than this are treated as a loop. */
const MAX_POINTER_HOPS = 16;
export const DNS_TTL_SECONDS = 60;
const IPV4_LENGTH = 4;
export const DNS_TEST_NAME = 'example.test';
export const DNS_TEST_ADDRESS = '192.0.2.1';

export function encodeName(name: string): Buffer {
  const labels = name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')]));
  return Buffer.concat([...labels, Buffer.from([0])]);
}

/** Reads a name at `offset`, following pointers; returns the name and the offset after it in place. */
export function decodeName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let end = -1;
  for (let hops = 0; hops < MAX_POINTER_HOPS; hops++) {
    const length = msg[offset];
    if ((length & DNS_POINTER_MASK) === DNS_POINTER_MASK) {
      if (end === -1) end = offset + 2;
      offset = msg.readUInt16BE(offset) & ~(DNS_POINTER_MASK << 8);
      continue;
    }
    if (length === 0) return { name: labels.join('.'), end: end === -1 ? offset + 1 : end };
    labels.push(msg.toString('ascii', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  throw new Error('DNS name with too many pointers');
}

export function dnsQuery(id: number, name: string): Buffer {
  const header = Buffer.alloc(DNS_HEADER_LENGTH);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(DNS_FLAG_RD, 2);
  header.writeUInt16BE(1, 4); // QDCOUNT
  const question = Buffer.alloc(4);
  question.writeUInt16BE(DNS_TYPE_A, 0);
  question.writeUInt16BE(DNS_CLASS_IN, 2);
  return Buffer.concat([header, encodeName(name), question]);
}

/** A one-record authoritative server on `host`: A example.test → 192.0.2.1, NXDOMAIN for anything else. */
export async function startDnsServer(host: string): Promise<{ port: number; socket: UdpSocket }> {
  const socket = await bindUdp(host);
  socket.on('message', (query, from) => {
    const id = query.readUInt16BE(0);
    const { name, end } = decodeName(query, DNS_HEADER_LENGTH);
    const qtype = query.readUInt16BE(end);
    const question = query.subarray(DNS_HEADER_LENGTH, end + 4);
    const found = name === DNS_TEST_NAME && qtype === DNS_TYPE_A;
    const header = Buffer.alloc(DNS_HEADER_LENGTH);
    header.writeUInt16BE(id, 0);
    header.writeUInt16BE(DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_RD | (found ? DNS_RCODE_NOERROR : DNS_RCODE_NXDOMAIN), 2);
    header.writeUInt16BE(1, 4); // QDCOUNT
    header.writeUInt16BE(found ? 1 : 0, 6); // ANCOUNT
    const parts = [header, question];
    if (found) {
      const answer = Buffer.alloc(2 + 2 + 2 + 4 + 2 + IPV4_LENGTH);
      answer.writeUInt16BE(DNS_QUESTION_NAME_POINTER, 0);
      answer.writeUInt16BE(DNS_TYPE_A, 2);
      answer.writeUInt16BE(DNS_CLASS_IN, 4);
      answer.writeUInt32BE(DNS_TTL_SECONDS, 6);
      answer.writeUInt16BE(IPV4_LENGTH, 10);
      Buffer.from(ipaddr.parse(DNS_TEST_ADDRESS).toByteArray()).copy(answer, 12);
      parts.push(answer);
    }
    socket.send(Buffer.concat(parts), from.port, from.address);
  });
  return { port: socket.address().port, socket };
}

export interface DnsAnswer {
  id: number;
  rcode: number;
  isResponse: boolean;
  records: Array<{ name: string; type: number; cls: number; ttl: number; address: string }>;
}

export function parseDnsResponse(msg: Buffer): DnsAnswer {
  const flags = msg.readUInt16BE(2);
  const qdcount = msg.readUInt16BE(4);
  const ancount = msg.readUInt16BE(6);
  let offset = DNS_HEADER_LENGTH;
  for (let i = 0; i < qdcount; i++) offset = decodeName(msg, offset).end + 4;
  const records: DnsAnswer['records'] = [];
  for (let i = 0; i < ancount; i++) {
    const { name, end } = decodeName(msg, offset);
    const type = msg.readUInt16BE(end);
    const cls = msg.readUInt16BE(end + 2);
    const ttl = msg.readUInt32BE(end + 4);
    const rdlength = msg.readUInt16BE(end + 8);
    const rdata = msg.subarray(end + 10, end + 10 + rdlength);
    records.push({ name, type, cls, ttl, address: type === DNS_TYPE_A ? [...rdata].join('.') : rdata.toString('hex') });
    offset = end + 10 + rdlength;
  }
  return { id: msg.readUInt16BE(0), rcode: flags & DNS_RCODE_MASK, isResponse: (flags & DNS_FLAG_QR) !== 0, records };
}
