// Retry policy: exponential backoff with jitter, and the server's Retry-After honoured.
// Every request the SDK repeats is idempotent (reads, and submissions: the ledger answers a
// resent event with its original receipt), so a lost answer can always be asked again.
import { z } from 'zod';

export const retryOptionsSchema = z.strictObject({
  /** Attempts per request, the first included (1: never retry). */
  attempts: z.number().int().min(1).max(100).default(5),
  /** Backoff before the first retry; doubled each time. */
  baseDelayMs: z.number().int().min(0).default(200),
  /** Largest backoff between two attempts. */
  maxDelayMs: z.number().int().min(0).default(5_000),
  /** A Retry-After longer than this is not waited for: the error is returned at once. */
  maxRetryAfterMs: z.number().int().min(0).default(30_000),
});
export type RetryOptions = z.infer<typeof retryOptionsSchema>;

/**
 * Wait before retry number `retry` (1 for the first retry): full-range jitter in the upper
 * half of the exponential step, so many clients do not retry in step; never less than the
 * server's Retry-After.
 */
export function backoffDelay(
  retry: number,
  options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.round(step / 2 + random() * (step / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** Retry-After (RFC 9110: delay-seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = /^[A-Za-z]{3}, /.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
