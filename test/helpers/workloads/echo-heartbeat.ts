/**
 * A SOCKS stream that keeps echoing in the background: one numbered message at a time, each
 * answered before the next, every `intervalMs`. It records failures and the slowest round
 * trip, so a test can say the stream "noticed nothing" during an episode elsewhere.
 */
import type { Socket } from 'node:net';
import { readBytes } from '../io/socket-io.js';

export interface HeartbeatReport {
  roundTrips: number;
  slowestMs: number;
  failures: string[];
}

export class EchoHeartbeat {
  private roundTrips = 0;
  private slowestMs = 0;
  private readonly failures: string[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly intervalMs = 20,
    private readonly roundTripTimeoutMs = 3_000,
  ) {
    socket.on('error', (err) => this.failures.push(`socket error: ${err.message}`));
    this.loop = this.run();
  }

  get report(): HeartbeatReport {
    return { roundTrips: this.roundTrips, slowestMs: this.slowestMs, failures: [...this.failures] };
  }

  /** Stops after the round trip in flight and returns what happened. */
  async stop(): Promise<HeartbeatReport> {
    this.stopped = true;
    await this.loop;
    return this.report;
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.failures.length === 0) {
      const message = Buffer.from(`beat ${String(this.roundTrips).padStart(8, '0')}\n`);
      const started = Date.now();
      try {
        const echoed = readBytes(this.socket, message.length, this.roundTripTimeoutMs);
        this.socket.write(message);
        const back = await echoed;
        if (!back.equals(message)) throw new Error(`echo ${JSON.stringify(back.toString())} for ${JSON.stringify(message.toString())}`);
      } catch (err) {
        this.failures.push(`round trip ${this.roundTrips}: ${(err as Error).message}`);
        return;
      }
      this.roundTrips += 1;
      this.slowestMs = Math.max(this.slowestMs, Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}
