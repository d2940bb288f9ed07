/**
 * Just enough of a DNS message (RFC 1035 §4.1) for a forwarder: the header, where the
 * question section ends, the requester's UDP size (EDNS0, RFC 6891), a SERVFAIL for a query,
 * and truncation for UDP. Pure functions over a buffer; a message they cannot walk gets the
 * safe answer (no question copied, the classic 512-byte limit), never an exception.
 */
import {
  DNS_HEADER_LENGTH,
  DNS_LABEL_POINTER_MASK,
  DNS_POINTER_LENGTH,
  DNS_QUESTION_FIXED_LENGTH,
  DNS_RECORD_FIXED_LENGTH,
  DNS_RECORD_RDLENGTH_OFFSET,
  DNS_TYPE_OPT,
  DNS_UDP_CLASSIC_LIMIT,
  DNS_UDP_MAX_PAYLOAD,
  DnsFlag,
  DnsHeaderOffset,
  DnsRcode,
} from './constants.js';

export interface DnsHeader {
  id: number;
  flags: number;
  qdCount: number;
  anCount: number;
  nsCount: number;
  arCount: number;
}

/** The header, or null when the message is shorter than one. */
export function parseHeader(message: Buffer): DnsHeader | null {
  if (message.length < DNS_HEADER_LENGTH) return null;
  return {
    id: message.readUInt16BE(DnsHeaderOffset.Id),
    flags: message.readUInt16BE(DnsHeaderOffset.Flags),
    qdCount: message.readUInt16BE(DnsHeaderOffset.QdCount),
    anCount: message.readUInt16BE(DnsHeaderOffset.AnCount),
    nsCount: message.readUInt16BE(DnsHeaderOffset.NsCount),
    arCount: message.readUInt16BE(DnsHeaderOffset.ArCount),
  };
}

/** A query the forwarder may pass on: a whole header, and QR clear (a response is never forwarded). */
export function isQuery(message: Buffer): boolean {
  const header = parseHeader(message);
  return header !== null && (header.flags & DnsFlag.Response) === 0;
}

/** A copy of `message` with another ID. */
export function withId(message: Buffer, id: number): Buffer {
  const copy = Buffer.from(message);
  copy.writeUInt16BE(id, DnsHeaderOffset.Id);
  return copy;
}

/** The offset just past the name at `offset` (a pointer ends it), or null when it runs off the message. */
function skipName(message: Buffer, offset: number): number | null {
  while (offset < message.length) {
    const length = message[offset];
    if ((length & DNS_LABEL_POINTER_MASK) === DNS_LABEL_POINTER_MASK) {
      return offset + DNS_POINTER_LENGTH <= message.length ? offset + DNS_POINTER_LENGTH : null;
    }
    if ((length & DNS_LABEL_POINTER_MASK) !== 0) return null; // 0x40 and 0x80: extended label types, not walked
    if (length === 0) return offset + 1;
    offset += 1 + length;
  }
  return null;
}

/** The offset just past the question section, or null when it cannot be walked. */
export function questionSectionEnd(message: Buffer): number | null {
  const header = parseHeader(message);
  if (header === null) return null;
  let offset = DNS_HEADER_LENGTH;
  for (let i = 0; i < header.qdCount; i++) {
    const nameEnd = skipName(message, offset);
    if (nameEnd === null || nameEnd + DNS_QUESTION_FIXED_LENGTH > message.length) return null;
    offset = nameEnd + DNS_QUESTION_FIXED_LENGTH;
  }
  return offset;
}

/** The offset just past the resource record at `offset`, or null. */
function skipRecord(message: Buffer, offset: number): number | null {
  const nameEnd = skipName(message, offset);
  if (nameEnd === null || nameEnd + DNS_RECORD_FIXED_LENGTH > message.length) return null;
  const end = nameEnd + DNS_RECORD_FIXED_LENGTH + message.readUInt16BE(nameEnd + DNS_RECORD_RDLENGTH_OFFSET);
  return end <= message.length ? end : null;
}

/**
 * The largest UDP answer the requester accepts: the CLASS of its OPT record when it sent one
 * (RFC 6891 §6.2.3), never below 512 (§6.2.5), else 512 (RFC 1035 §4.2.1).
 */
export function udpPayloadLimit(query: Buffer): number {
  const header = parseHeader(query);
  let offset = questionSectionEnd(query);
  if (header === null || offset === null) return DNS_UDP_CLASSIC_LIMIT;
  for (let i = 0; i < header.anCount + header.nsCount; i++) {
    offset = skipRecord(query, offset);
    if (offset === null) return DNS_UDP_CLASSIC_LIMIT;
  }
  for (let i = 0; i < header.arCount; i++) {
    const nameEnd = skipName(query, offset);
    if (nameEnd === null || nameEnd + DNS_RECORD_FIXED_LENGTH > query.length) return DNS_UDP_CLASSIC_LIMIT;
    if (query.readUInt16BE(nameEnd) === DNS_TYPE_OPT) {
      return Math.min(DNS_UDP_MAX_PAYLOAD, Math.max(DNS_UDP_CLASSIC_LIMIT, query.readUInt16BE(nameEnd + 2)));
    }
    const next = skipRecord(query, offset);
    if (next === null) return DNS_UDP_CLASSIC_LIMIT;
    offset = next;
  }
  return DNS_UDP_CLASSIC_LIMIT;
}

/** The header and question of `message` with new flags and no records: the base of SERVFAIL and of a truncated answer. */
function headerAndQuestion(message: Buffer, flags: number, limit = Infinity): Buffer {
  const questionEnd = questionSectionEnd(message);
  const keepQuestion = questionEnd !== null && questionEnd <= limit;
  const out = Buffer.from(message.subarray(0, keepQuestion ? questionEnd : DNS_HEADER_LENGTH));
  out.writeUInt16BE(flags, DnsHeaderOffset.Flags);
  if (!keepQuestion) out.writeUInt16BE(0, DnsHeaderOffset.QdCount);
  out.writeUInt16BE(0, DnsHeaderOffset.AnCount);
  out.writeUInt16BE(0, DnsHeaderOffset.NsCount);
  out.writeUInt16BE(0, DnsHeaderOffset.ArCount);
  return out;
}

/** SERVFAIL for `query` (at least a whole header): its ID, OPCODE, RD and question, no records. */
export function servfailFor(query: Buffer): Buffer {
  const queryFlags = query.readUInt16BE(DnsHeaderOffset.Flags);
  const flags = DnsFlag.Response | (queryFlags & (DnsFlag.OpcodeMask | DnsFlag.RecursionDesired)) | DnsFlag.RecursionAvailable | DnsRcode.ServFail;
  return headerAndQuestion(query, flags);
}

/**
 * An answer that fits `limit` bytes: unchanged when it does, else its header with TC set and
 * its question, all records dropped (RFC 2181 §9: a partial RRset must not be passed on, and
 * a client seeing TC asks again over TCP, RFC 7766 §5). `truncated` says which.
 */
export function truncateForUdp(answer: Buffer, limit: number): { message: Buffer; truncated: boolean } {
  if (answer.length <= limit) return { message: answer, truncated: false };
  const flags = answer.readUInt16BE(DnsHeaderOffset.Flags) | DnsFlag.Truncated;
  return { message: headerAndQuestion(answer, flags, limit), truncated: true };
}

/**
 * The first question's name for log lines, presentation style ("example.com"; other bytes
 * escaped as \DDD, as dig does), or null when there is none. Nothing else of a query is logged.
 */
export function questionName(message: Buffer): string | null {
  const header = parseHeader(message);
  if (header === null || header.qdCount === 0) return null;
  const labels: string[] = [];
  let offset = DNS_HEADER_LENGTH;
  while (offset < message.length) {
    const length = message[offset];
    if (length === 0) return labels.length === 0 ? '.' : labels.join('.');
    if ((length & DNS_LABEL_POINTER_MASK) !== 0 || offset + 1 + length > message.length) return null;
    labels.push(presentLabel(message.subarray(offset + 1, offset + 1 + length)));
    offset += 1 + length;
  }
  return null;
}

const PRINTABLE_LABEL_BYTE = /[A-Za-z0-9_-]/;

function presentLabel(label: Buffer): string {
  let text = '';
  for (const byte of label) {
    const char = String.fromCharCode(byte);
    text += PRINTABLE_LABEL_BYTE.test(char) ? char : `\\${byte.toString().padStart(3, '0')}`;
  }
  return text;
}
