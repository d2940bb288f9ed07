/**
 * Makes V8 free young ArrayBuffers during the scavenge itself rather than on a helper thread.
 *
 * Every socket read is a fresh 64 KiB ArrayBuffer (and ws copies each WebSocket message that
 * spans two reads into another), so the relay's upload path allocates about 2 GiB of them per
 * GiB carried. Swept concurrently, the freed ones are still counted as live external memory
 * when the next allocations arrive, and V8 answers that apparent growth with full
 * mark-compacts: about 55 per GiB uploaded, where the naive one-WebSocket-per-stream tunnel
 * ran none. Swept in the scavenge, the count drops to 10–25 and the relay's CPU per GiB
 * uploaded by about a third (bench figure 1; --trace-gc and /proc CPU time, A/B in one run).
 * The flag is read at each GC, so setting it at startup, before any traffic, is enough.
 */
import { setFlagsFromString } from 'node:v8';

export function sweepArrayBuffersInScavenges(): void {
  setFlagsFromString('--no-concurrent-array-buffer-sweeping');
}
