// The shape of one day: how many events of each step it holds, for a given budget. Pure
// arithmetic on counts (no events, no randomness), so the generator can search for the
// largest day that fits its budget exactly, then lay that day out hour by hour.
import { SOURCE_FAMILY_IDS, type SourceFamilyId } from './city.ts';

/** At most this many inputs for an hourly or daily aggregate (the schema allows 64). */
export const AGGREGATE_FAN_IN = 24;
/** Share of collected data among the source families (the rest of a day's budget is reuse). */
export const COLLECT_SHARE = 0.32;
/** Share of a day's budget spent on live sharing of hourly aggregates (taken from the uses). */
export const SHARE_SHARE = 0.08;
const FAMILY_WEIGHT: Record<SourceFamilyId, number> = { cameras: 0.35, air: 0.2, parking: 0.25, wifi: 0.2 };

// People move by day: cameras and Wi-Fi counters capture more in the rush hours; air-quality
// stations and parking sensors report at a steady rate.
const DIURNAL = [
  1, 0.6, 0.4, 0.4, 0.6, 1.2, 2.6, 4.2, 5, 4, 3.4, 3.4, 3.6, 3.4, 3.4, 3.8, 4.6, 5, 4.2, 3.2, 2.6, 2.2, 1.8,
  1.4,
];
const cumulative = (w: readonly number[]) => {
  const total = w.reduce((a, b) => a + b, 0);
  const out = [0];
  let acc = 0;
  for (const x of w) out.push((acc += x) / total);
  out[out.length - 1] = 1;
  return out;
};
const CUM_DIURNAL = cumulative(DIURNAL);
const CUM_FLAT = cumulative(new Array<number>(24).fill(1));
export const HOUR_CUMULATIVE: Record<SourceFamilyId, readonly number[]> = {
  cameras: CUM_DIURNAL,
  wifi: CUM_DIURNAL,
  air: CUM_FLAT,
  parking: CUM_FLAT,
};

/** Events per plate-extract flow (derive, transfer to police, three police uses). */
export const PLATE_FLOW = 5;
/** Events of the vendor-A congestion flow (derive, transfer back, use). */
export const CONGESTION_FLOW = 3;
/** Events of the weekly flow (weekly index, two transfers, model, forecast, transfer, use, attest). */
export const WEEKLY_FLOW = 8;

export interface DayContext {
  /** Deletions due (retention ends) and not yet done. */
  deletesDue: number;
  /** An earlier daily index exists (the chain it extends). */
  hasIndex: boolean;
  /** Today ends a week. */
  weekly: boolean;
}

export interface DayShape {
  collectTotal: number;
  /** Collections per family per hour. */
  collects: Record<SourceFamilyId, number[]>;
  /** Hourly aggregates per family per hour. */
  hourly: Record<SourceFamilyId, number[]>;
  /** Daily aggregates (parts of at most AGGREGATE_FAN_IN hourly inputs) per family. */
  daily: Record<SourceFamilyId, number>;
  plates: number;
  congestion: boolean;
  index: boolean;
  weekly: boolean;
  deletes: number;
  /** Events of everything above; the rest of the budget is `use`. */
  total: number;
}

/** Collections per family for a day total (each family at least one when total >= 4). */
export function splitCollects(total: number): Record<SourceFamilyId, number> {
  const out = { cameras: 0, air: 0, parking: 0, wifi: 0 };
  if (total < SOURCE_FAMILY_IDS.length) {
    for (let i = 0; i < total; i++) out[SOURCE_FAMILY_IDS[i]!] += 1;
    return out;
  }
  const extra = total - SOURCE_FAMILY_IDS.length;
  let used = 0;
  for (const f of SOURCE_FAMILY_IDS) {
    out[f] = 1 + Math.floor(extra * FAMILY_WEIGHT[f]);
    used += out[f];
  }
  out.cameras += total - used;
  return out;
}

/** Spreads `n` over 24 hours along a cumulative curve. */
export function perHour(n: number, cum: readonly number[]): number[] {
  const out = new Array<number>(24);
  for (let h = 0; h < 24; h++) out[h] = Math.round(cum[h + 1]! * n) - Math.round(cum[h]! * n);
  return out;
}

const WINDOWS = [1, 2, 3, 4, 6, 8, 12, 24];

/** Hours per aggregation run: the shortest window expected to hold about 4 collections. */
export function aggregationWindow(collectsPerDay: number): number {
  for (const w of WINDOWS) if ((collectsPerDay * w) / 24 >= 4) return w;
  return 24;
}

/** The day holding `collectTotal` collections, and what follows from them. */
export function dayShape(collectTotal: number, ctx: DayContext): DayShape {
  const split = splitCollects(collectTotal);
  const collects = {} as Record<SourceFamilyId, number[]>;
  const hourly = {} as Record<SourceFamilyId, number[]>;
  const daily = {} as Record<SourceFamilyId, number>;
  let total = collectTotal + split.cameras; // each camera clip is followed by its count extract
  for (const f of SOURCE_FAMILY_IDS) {
    collects[f] = perHour(split[f], HOUR_CUMULATIVE[f]);
    // Hourly aggregates are computed every `w` hours (w = 1 when there is enough data), at
    // the end of each window, over the window's collections.
    const w = aggregationWindow(split[f]);
    hourly[f] = new Array<number>(24).fill(0);
    for (let h0 = 0; h0 < 24; h0 += w) {
      let inWindow = 0;
      for (let h = h0; h < h0 + w; h++) inWindow += collects[f][h]!;
      hourly[f][h0 + w - 1] = Math.ceil(inWindow / AGGREGATE_FAN_IN);
    }
    const hourlyTotal = hourly[f].reduce((a, b) => a + b, 0);
    daily[f] = Math.ceil(hourlyTotal / AGGREGATE_FAN_IN);
    total += hourlyTotal + daily[f];
  }
  // Daily parts shared: traffic to three recipients, parking and air to statistics.
  total += 3 * daily.cameras + daily.parking + daily.air;
  // Published: traffic and air daily parts.
  total += daily.cameras + daily.air;
  const index = ctx.hasIndex || daily.cameras + daily.parking + daily.air + daily.wifi > 0;
  if (index) total += 2; // the index and its publication
  const plates = split.cameras > 0 ? Math.min(8, 1 + Math.floor(split.cameras / 400)) : 0;
  total += PLATE_FLOW * plates;
  const congestion = daily.cameras > 0;
  if (congestion) total += CONGESTION_FLOW;
  const weekly = ctx.weekly && index;
  if (weekly) total += WEEKLY_FLOW;
  total += ctx.deletesDue;
  return {
    collectTotal,
    collects,
    hourly,
    daily,
    plates,
    congestion,
    index,
    weekly,
    deletes: ctx.deletesDue,
    total,
  };
}

/**
 * The fullest day that fits `budget` events: the most collections (up to COLLECT_SHARE of
 * the budget) whose consequences still fit, the rest being live shares and uses. When even the smallest day
 * (one collection per family) does not fit, that day is returned and the caller keeps only
 * its most important `budget` events.
 */
export function planDay(
  budget: number,
  ctx: DayContext,
): { shape: DayShape; uses: number; shares: number; truncated: boolean } {
  const min: number = SOURCE_FAMILY_IDS.length;
  const smallest = dayShape(min, ctx);
  if (smallest.total > budget) return { shape: smallest, uses: 0, shares: 0, truncated: true };
  let lo = min;
  let hi = Math.max(min, Math.floor(budget * COLLECT_SHARE));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (dayShape(mid, ctx).total <= budget) lo = mid;
    else hi = mid - 1;
  }
  const shape = dayShape(lo, ctx);
  const rest = budget - shape.total;
  const shares = Math.min(rest, Math.floor(budget * SHARE_SHARE));
  return { shape, uses: rest - shares, shares, truncated: false };
}
