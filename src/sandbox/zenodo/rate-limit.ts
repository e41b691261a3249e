/**
 * Zenodo's request budget, per identity and per minute, announced on every answer with `X-RateLimit-Limit`,
 * `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds) and enforced with 429 + `Retry-After`. The
 * sandbox default is generous (1000/min) so test suites are not throttled; set `VRE_SANDBOX_ZENODO_RATE_LIMIT=100`
 * to get zenodo.org's budget for authenticated users.
 */
export interface RateDecision {
  limit: number;
  remaining: number;
  /** Epoch seconds at which the window resets. */
  reset: number;
  allowed: boolean;
}

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): RateLimiter {
    const value = Number(env.VRE_SANDBOX_ZENODO_RATE_LIMIT ?? "");
    return new RateLimiter(Number.isInteger(value) && value > 0 ? value : 1000);
  }

  take(identity: string): RateDecision {
    const now = this.now();
    let window = this.windows.get(identity);
    if (!window || now - window.start >= 60_000) {
      window = { start: now, used: 0 };
      this.windows.set(identity, window);
    }
    const allowed = window.used < this.perMinute;
    if (allowed) window.used += 1;
    return {
      limit: this.perMinute,
      remaining: Math.max(0, this.perMinute - window.used),
      reset: Math.ceil((window.start + 60_000) / 1000),
      allowed,
    };
  }
}
