/** Counts failures by message, so a report can say "412× timed out…" instead of one line each. */
export class ErrorTally {
  private readonly byMessage = new Map<string, number>();
  count = 0;

  add(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.count++;
    this.byMessage.set(message, (this.byMessage.get(message) ?? 0) + 1);
  }

  /** The most frequent messages, e.g. `412× timed out…; 3× ECONNRESET`. */
  summary(limit = 3): string {
    return [...this.byMessage.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([message, n]) => `${n}× ${message}`)
      .join('; ');
  }
}
