/** Graceful shutdown: wait for work in flight to finish, but never longer than the grace period. */

const POLL_MS = 100;

/** Resolves true once `isIdle()` holds, or false when `graceMs` ran out first. */
export async function drain(isIdle: () => boolean, graceMs: number): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  while (!isIdle()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, deadline - Date.now())));
  }
  return true;
}
