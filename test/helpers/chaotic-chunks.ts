/**
 * Chaotic chunking for property tests (CONVENTIONS: decoders are fed inputs split at random
 * points, after js-libp2p-yamux's decode tests): arbitrary cut indices become sorted,
 * distinct prefix lengths, always ending with the whole buffer.
 */
import fc from 'fast-check';

/** Arbitrary cut indices; reduce them with prefixLengths() against a concrete length. */
export const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

/** The growing prefix lengths a connection would see: the cuts inside (0, length), then length. */
export function prefixLengths(cuts: readonly number[], length: number): number[] {
  const inside = cuts.map((cut) => (length === 0 ? 0 : cut % length)).filter((cut) => cut > 0);
  return [...new Set([...inside, length])].sort((a, b) => a - b);
}
