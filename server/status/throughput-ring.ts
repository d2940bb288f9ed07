/** A fixed-size ring of one-second throughput samples: the last five minutes for the page's chart. */
import type { ThroughputSample } from './snapshot.js';

export const THROUGHPUT_WINDOW_SAMPLES = 300;

export class ThroughputRing {
  private readonly samples: ThroughputSample[] = [];
  private next = 0;

  constructor(private readonly capacity = THROUGHPUT_WINDOW_SAMPLES) {}

  push(sample: ThroughputSample): void {
    if (this.samples.length < this.capacity) this.samples.push(sample);
    else this.samples[this.next] = sample;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): ThroughputSample[] {
    if (this.samples.length < this.capacity) return this.samples.slice();
    return [...this.samples.slice(this.next), ...this.samples.slice(0, this.next)];
  }
}
