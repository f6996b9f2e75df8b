/** A sliding one-minute window per user, so one user cannot burn the AI budget or flood Atera. */
export class UserRateLimit {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly perMinute: number) {}

  /** Records a message at `nowMs`; false when the user is over the limit. */
  allow(userId: string, nowMs: number): boolean {
    const since = nowMs - 60_000;
    const recent = (this.hits.get(userId) ?? []).filter((t) => t > since);
    if (recent.length >= this.perMinute) {
      this.hits.set(userId, recent);
      return false;
    }
    recent.push(nowMs);
    this.hits.set(userId, recent);
    if (this.hits.size > 10_000) this.sweep(since);
    return true;
  }

  private sweep(since: number): void {
    for (const [user, times] of this.hits) {
      if (times.every((t) => t <= since)) this.hits.delete(user);
    }
  }
}
