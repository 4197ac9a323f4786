// Fixed-window request limits per key (a client address, an emitter key). Memory is bounded:
// expired windows are swept when the table grows past `maxKeys`.
export interface RateLimitOptions {
  /** Requests allowed per window and key. */
  max: number;
  windowMs: number;
  /** Most keys tracked at once (default 100 000); past it, expired windows are swept. */
  maxKeys?: number;
}

export class RateLimiter {
  readonly #opts: Required<RateLimitOptions>;
  readonly #windows = new Map<string, { count: number; resetAt: number }>();

  constructor(options: RateLimitOptions) {
    this.#opts = { maxKeys: 100_000, ...options };
  }

  get options(): Required<RateLimitOptions> {
    return this.#opts;
  }

  /** Counts `cost` against `key`; returns the seconds to wait, or 0 when allowed. */
  take(key: string, now: number, cost = 1): number {
    let w = this.#windows.get(key);
    if (w === undefined || w.resetAt <= now) {
      if (w === undefined && this.#windows.size >= this.#opts.maxKeys) this.#sweep(now);
      w = { count: 0, resetAt: now + this.#opts.windowMs };
      this.#windows.set(key, w);
    }
    if (w.count + cost > this.#opts.max) return Math.max(1, Math.ceil((w.resetAt - now) / 1000));
    w.count += cost;
    return 0;
  }

  #sweep(now: number): void {
    for (const [k, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(k);
    // Still full of live windows: forget the oldest rather than grow without bound.
    while (this.#windows.size >= this.#opts.maxKeys) {
      const first = this.#windows.keys().next();
      if (first.done === true) break;
      this.#windows.delete(first.value);
    }
  }
}
