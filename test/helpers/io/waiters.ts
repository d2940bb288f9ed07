/**
 * Promises that settle when a condition becomes true: the owner calls wake() whenever its
 * state changes, and each waiter re-checks its own condition. Bounded in time.
 */
export class Waiters {
  private readonly checks = new Set<() => void>();

  /** Re-checks every waiting condition; call after each change of state. */
  wake(): void {
    for (const check of [...this.checks]) check();
  }

  /** Resolves once `condition()` holds; rejects with `timeoutMessage()` after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs: number, timeoutMessage: () => string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(timeoutMessage()));
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
