/**
 * Client-side limit under Atera's reported 700 requests per minute per account: a sliding one-minute window.
 * A 429's Retry-After pauses every request of the client, not only the one that got it.
 */
export class RequestRateLimiter {
  private readonly stamps: number[] = [];
  private pausedUntil = 0;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  pauseUntil(epochMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, epochMs);
  }

  async acquire(): Promise<void> {
    for (;;) {
      const t = this.now();
      while (this.stamps.length > 0 && this.stamps[0]! <= t - 60_000) this.stamps.shift();
      const windowWait = this.stamps.length >= this.perMinute ? this.stamps[0]! + 60_000 - t : 0;
      const wait = Math.max(this.pausedUntil - t, windowWait);
      if (wait <= 0) {
        this.stamps.push(t);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
