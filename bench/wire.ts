/** The tiny request format the bench's sink and source targets speak (see targets.ts). */

/** Every sink or source request starts with the transfer length as a u64, big-endian. */
export const HEADER_BYTES = 8;
/** A source asked for this length sends until the peer goes away. */
export const SOURCE_ENDLESS = 0n;
/** The sink answers one SINK_ACK per SINK_ACK_EVERY bytes it has taken… */
export const SINK_ACK = 0x2e;
export const SINK_ACK_EVERY = 1024 * 1024;
/** …and SINK_DONE once the whole announced length has arrived. */
export const SINK_DONE = 0x21;

export function lengthHeader(length: bigint): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeBigUInt64BE(length);
  return header;
}
