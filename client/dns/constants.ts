/**
 * DNS wire values the forwarder reads or writes, named as in RFC 1035 §4.1 (header,
 * question, resource records), RFC 6891 (EDNS0's OPT record) and RFC 7766 / RFC 1035 §4.2.2
 * (the 2-byte length before each message over TCP). The forwarder reads no more than this:
 * answers pass through unchanged except for their ID and, over UDP, truncation.
 */

/** ID(2) FLAGS(2) QDCOUNT(2) ANCOUNT(2) NSCOUNT(2) ARCOUNT(2). */
export const DNS_HEADER_LENGTH = 12;
/** Where each header field sits. */
export const DnsHeaderOffset = {
  Id: 0,
  Flags: 2,
  QdCount: 4,
  AnCount: 6,
  NsCount: 8,
  ArCount: 10,
} as const;

/** Bits of the FLAGS word (RFC 1035 §4.1.1): QR OPCODE(4) AA TC RD RA Z(3) RCODE(4). */
export const DnsFlag = {
  /** A response, not a query. */
  Response: 0x8000,
  /** OPCODE, kept from the query in a SERVFAIL we make. */
  OpcodeMask: 0x7800,
  /** The message was truncated to fit; the client should ask again over TCP. */
  Truncated: 0x0200,
  RecursionDesired: 0x0100,
  RecursionAvailable: 0x0080,
  RcodeMask: 0x000f,
} as const;

/** RCODE values (RFC 1035 §4.1.1). */
export const DnsRcode = {
  NoError: 0x0,
  /** "The name server was unable to process this query due to a problem with the name server." */
  ServFail: 0x2,
} as const;

/** QTYPE(2) QCLASS(2) after a question's name. */
export const DNS_QUESTION_FIXED_LENGTH = 4;
/** TYPE(2) CLASS(2) TTL(4) RDLENGTH(2) after a record's name. */
export const DNS_RECORD_FIXED_LENGTH = 10;
/** Where RDLENGTH sits after a record's name. */
export const DNS_RECORD_RDLENGTH_OFFSET = 8;
/** The OPT pseudo-record's TYPE (RFC 6891 §6.1.1); its CLASS is the requester's UDP payload size. */
export const DNS_TYPE_OPT = 41;
/** Labels are at most 63 bytes: the top two bits of a length byte mark a pointer (RFC 1035 §4.1.4). */
export const DNS_LABEL_POINTER_MASK = 0xc0;
/** A pointer takes two bytes and ends the name. */
export const DNS_POINTER_LENGTH = 2;

/** The UDP payload a requester without EDNS0 accepts (RFC 1035 §4.2.1), and the floor for one with it (RFC 6891 §6.2.5). */
export const DNS_UDP_CLASSIC_LIMIT = 512;
/** Largest UDP payload over IPv4: 65,535 − 20 (IP header) − 8 (UDP header). */
export const DNS_UDP_MAX_PAYLOAD = 65_507;

/** Over TCP each message is preceded by its length, two bytes in network order (RFC 1035 §4.2.2, RFC 7766 §8). */
export const DNS_TCP_LENGTH_PREFIX = 2;
/** Largest message a 2-byte length can describe. */
export const DNS_TCP_MAX_MESSAGE = 0xffff;
/** Message IDs are 16 bits. */
export const DNS_ID_SPACE = 0x10000;
