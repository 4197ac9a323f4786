import { z } from 'zod';

/** Limits that keep every event small and free of narrative (and so of personal data). */
export const LIMITS = {
  /** Canonical (RFC 8785) UTF-8 size of one event. */
  maxEventBytes: 64 * 1024,
  /** Canonical size of the `ext` extension object. */
  maxExtBytes: 4 * 1024,
  /** Free-text fields: a sentence, not a story. */
  maxTextChars: 280,
  /** Labels and titles. */
  maxLabelChars: 120,
  /** Lists of identifiers (inputs, categories, purposes, ...). */
  maxListItems: 64,
  /** Declarations carry longer lists (recipients, custom purposes). */
  maxDeclarationItems: 256,
  /** How far in the future a claimed time may lie, against the ledger's clock. */
  maxFutureSkewMs: 5 * 60 * 1000,
} as const;

// No control characters (which would hide text from a reader) and no lone surrogates
// (which canonical JSON refuses anyway, but the error is clearer here).
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function text(max: number, what: string) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL.test(s), `${what}: no control or line-separator characters`)
    .refine((s) => s.isWellFormed(), `${what}: no unpaired surrogates`);
}

/** A short plain sentence (<= 280 characters). Never a person's name or identifier. */
export const shortText = text(LIMITS.maxTextChars, 'text');
/** A label or title (<= 120 characters). */
export const label = text(LIMITS.maxLabelChars, 'label');

/** RFC 3339 date-time in UTC ("Z"), with up to 9 fractional digits. */
export const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** True for a real calendar instant in RFC 3339 UTC form (no Feb 30, no hour 24, no leap-second 60). */
export function isRfc3339Utc(s: string): boolean {
  const m = RFC3339_UTC.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day >= 1 && day <= daysInMonth;
}

/** Milliseconds since the epoch of an RFC 3339 UTC time (sub-millisecond digits truncated). */
export function timeToMillis(s: string): number {
  // Up to 24 characters there are at most 3 fractional digits: nothing to truncate.
  return Date.parse(s.length <= 24 ? s : s.replace(/(\.\d{3})\d+Z$/, '$1Z'));
}

export const timestamp = z
  .string()
  .max(40)
  .refine(isRfc3339Utc, 'time: RFC 3339 date-time in UTC, e.g. 2026-11-28T09:30:00Z');

/** ISO 8601 duration without weeks or fractions, e.g. P30D, P1Y6M, PT12H. */
export const ISO_DURATION =
  /^P(?=\d|T\d)(?:\d{1,4}Y)?(?:\d{1,4}M)?(?:\d{1,5}D)?(?:T(?=\d)(?:\d{1,6}H)?(?:\d{1,6}M)?(?:\d{1,8}S)?)?$/;
export const duration = z.string().regex(ISO_DURATION, 'duration: ISO 8601, e.g. P30D, P1Y, PT12H');

export const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// Strings and numbers compare by value in a Set; objects by their JSON text.
function distinct(a: readonly unknown[]): boolean {
  if (a.length < 2) return true;
  const keys = a.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : x));
  return new Set(keys).size === a.length;
}

/** A bounded list of distinct items. */
export function list<T extends z.ZodType>(item: T, max: number = LIMITS.maxListItems) {
  return z.array(item).max(max).refine(distinct, 'list: items must be distinct');
}

/** HTTPS (or URN) reference to a public document: a privacy statement, a register entry, an assessment. */
export const documentUrl = z
  .string()
  .max(500)
  .regex(/^(?:https:\/\/[^\s]+|urn:[a-z0-9][a-z0-9-]{0,31}:[^\s]+)$/, 'url: https:// or urn: reference');
