/**
 * Two V8 garbage-collector settings for a process that carries bulk data, set at CLI start,
 * before any traffic (both flags are read at each GC, so setting them then is enough).
 *
 * Sweeping ArrayBuffers in the scavenge itself, not on a helper thread. Every socket read is a
 * fresh 64 KiB ArrayBuffer (and ws copies each WebSocket message that spans two reads into
 * another), so the relay's upload path allocates about 2 GiB of them per GiB carried. Swept
 * concurrently, the freed ones still count as live external memory when the next ones arrive,
 * and V8 answers that apparent growth with full mark-compacts: about 55 per GiB uploaded, where
 * the naive one-WebSocket-per-stream tunnel ran none. Swept in the scavenge: 10–25, and the
 * relay's CPU per GiB uploaded fell by about a third (bench figure 1; --trace-gc, /proc CPU).
 *
 * No incremental marking started by a task at V8's soft limit. Once a few thousand connections
 * have come and gone, the young generation has grown to its largest size, which is more than
 * the room a small old generation (8 MB live here) has left below its limit; from then on V8
 * starts marking again as soon as a mark-compact ends. A client that had served 1,500
 * connections ran 60–110 mark-compacts per GiB uploaded, against 6 when fresh, and spent
 * 2.5–3.2 s of CPU per GiB instead of 1.5. Without the task, marking starts only at the hard
 * limit: 1.5–1.9 s. Marking stays incremental, so pauses stay short; turning incremental
 * marking off altogether (1.2 s per GiB) made each full collection of a 50 MB heap, a relay
 * holding 10,000 streams, a 40–60 ms pause of every tunnel.
 */
import { setFlagsFromString } from 'node:v8';

export function tuneGarbageCollector(): void {
  setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  setFlagsFromString('--no-incremental-marking-task');
}
