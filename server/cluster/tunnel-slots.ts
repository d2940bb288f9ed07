/**
 * The primary's count of every worker's tunnels per token, so that --max-tunnels-per-token
 * (and a user's maxTunnels) hold across workers. A worker that dies gives its slots back.
 */
export class TunnelSlots {
  private readonly byWorker = new Map<number, Map<string, number>>();

  /** Takes a slot for `token` on `worker` unless the token holds `limit` across all workers. */
  reserve(worker: number, token: string, limit: number): boolean {
    if (this.held(token) >= limit) return false;
    const mine = this.byWorker.get(worker) ?? new Map<string, number>();
    mine.set(token, (mine.get(token) ?? 0) + 1);
    this.byWorker.set(worker, mine);
    return true;
  }

  release(worker: number, token: string): void {
    const mine = this.byWorker.get(worker);
    const count = mine?.get(token) ?? 0;
    if (count <= 1) mine?.delete(token);
    else mine?.set(token, count - 1);
  }

  /** The worker is gone, and its tunnels with it. */
  releaseWorker(worker: number): void {
    this.byWorker.delete(worker);
  }

  held(token: string): number {
    let sum = 0;
    for (const mine of this.byWorker.values()) sum += mine.get(token) ?? 0;
    return sum;
  }
}
