// ISO 8601 durations (the schema's subset: Y M D, T H M S, integers) added to instants in
// UTC calendar arithmetic: P1M from 31 January ends on the last day of February.
import { timeToMillis } from '@civic-ledger/schemas';

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const parsed = new Map<string, readonly [number, number, number]>();

/** [years, months, milliseconds] of a duration; throws RangeError for anything else. */
function parse(duration: string): readonly [number, number, number] {
  let p = parsed.get(duration);
  if (p === undefined) {
    const m = DURATION.exec(duration);
    if (m === null || duration === 'P' || duration.endsWith('T'))
      throw new RangeError(`not an ISO 8601 duration: ${duration}`);
    const n = (i: number) => Number(m[i] ?? 0);
    p = [n(1), n(2), ((n(3) * 24 + n(4)) * 60 + n(5)) * 60_000 + n(6) * 1000] as const;
    parsed.set(duration, p);
  }
  return p;
}

/** `ms` plus `duration`. */
export function addDuration(ms: number, duration: string): number {
  const [years, months, rest] = parse(duration);
  if (years === 0 && months === 0) return ms + rest;
  const d = new Date(ms);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + years * 12 + months;
  const year = Math.floor(total / 12);
  const month = total % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const shifted = Date.UTC(
    year,
    month,
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
  return shifted + rest;
}

/** Negative when `a` is shorter than `b` counted from `at`, 0 when equal, positive when longer. */
export function compareDurations(a: string, b: string, at: number): number {
  return addDuration(at, a) - addDuration(at, b);
}

/** Milliseconds of an RFC 3339 UTC time (Date.parse is exact up to millisecond digits). */
export function millis(time: string): number {
  return time.length <= 24 ? Date.parse(time) : timeToMillis(time);
}

const days = new Map<number, string>();

/** RFC 3339 date of an instant, for explanations (`2026-10-08`). */
export function day(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  const n = Math.floor(ms / 86_400_000);
  let s = days.get(n);
  if (s === undefined) {
    s = new Date(n * 86_400_000).toISOString().slice(0, 10);
    days.set(n, s);
  }
  return s;
}
