/** The link emulator as a child process of the bench, found by its "listening" line. */
import { linkArgs } from './link-args.js';
import { LISTENING_LINE, type LinkOptions } from './link-emulator.js';
import { startNode, type Managed } from './processes.js';

const START_TIMEOUT_MS = 10_000;

export interface LinkProcess {
  proc: Managed;
  /** The first upstream's listening port. */
  port: number;
  /** Upstream port → the port that reaches it across the link (a 'forwarded' route's entries). */
  entries: Record<string, number>;
  stop(): Promise<void>;
}

/** `script` is dist/bench/link-emulator.js. */
export async function startLinkProcess(name: string, script: string, options: LinkOptions): Promise<LinkProcess> {
  const proc = startNode(name, script, linkArgs(options));
  try {
    const [, json] = await proc.waitForLine(LISTENING_LINE, START_TIMEOUT_MS);
    const { port, entries } = JSON.parse(json) as { port: number; entries: Record<string, number> };
    return { proc, port, entries, stop: () => proc.stop() };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}
