/**
 * Every wait in the tests, bounded in time: a timed-out wait rejects with
 * "timed out after N ms waiting for <what>". Three shapes:
 * - waitFor: poll a condition (or a probe that returns a value) until it holds;
 * - withTimeout: an existing promise, or a rejection once the time is up;
 * - Waiters: conditions re-checked when their owner says its state changed (wake()),
 *   for owners that see every change as an event and must not miss or lag behind one.
 */

/** How long a wait lasts when the test does not say. */
export const DEFAULT_WAIT_MS = 10_000;

const POLL_INTERVAL_MS = 20;

export interface WaitOptions {
  /** What is awaited, for the timeout message. A function is read when the time runs out, to show the state then. */
  what: string | (() => string);
  timeoutMs?: number;
}

export interface PollOptions extends WaitOptions {
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns something other than false or undefined, and resolves with that.
 * A probe that throws (or rejects) is tried again; its last error ends the timeout message.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: PollOptions): Promise<Exclude<T, false | undefined>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== false && value !== undefined) return value as Exclude<T, false | undefined>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`${timeoutMessage(options.what, timeoutMs)}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? POLL_INTERVAL_MS));
  }
}

/** `promise`, or a rejection naming what was awaited once `timeoutMs` passed. */
export async function withTimeout<T>(promise: Promise<T>, options: WaitOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(timeoutMessage(options.what, timeoutMs))), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Promises that settle when a condition becomes true: the owner calls wake() whenever its
 * state changes, and each waiter re-checks its own condition at once, without polling.
 */
export class Waiters {
  private readonly checks = new Set<() => void>();

  /** Re-checks every waiting condition; call after each change of state. */
  wake(): void {
    for (const check of [...this.checks]) check();
  }

  /** Resolves once `condition()` holds; a timed-out waiter leaves the set. */
  until(condition: () => boolean, options: WaitOptions): Promise<void> {
    if (condition()) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(timeoutMessage(options.what, timeoutMs)));
      }, timeoutMs);
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.checks.delete(check);
        resolve();
      };
      this.checks.add(check);
    });
  }
}

function timeoutMessage(what: WaitOptions['what'], timeoutMs: number): string {
  return `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`;
}
