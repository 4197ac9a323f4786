// Every `finding` event of the log, in memory, for the findings API: filtered by the
// organizations involved, the dataset, check, outcome, event evaluated and admission time,
// newest first, paged by ledger index. Rebuilt from the leaves on start (findings are
// themselves in the log), extended in ledger order as the runner reads on.
import type { FindingEvent } from '@civic-ledger/schemas';

/** What the findings API says of the event a finding is about (from its leaf). */
export interface EvaluatedEvent {
  /** Ledger index of the evaluated event. */
  index: number;
  type: string;
  emitter: string;
  recipient?: string;
  /** Dataset id (movements), or the declared subject (declarations). */
  dataset?: string;
}

/** One finding of the log, as the findings API answers it. */
export interface FindingRecord {
  /** Hash of the `finding` event itself. */
  event: string;
  index: number;
  /** When the ledger admitted it (RFC 3339 UTC, ms). */
  admitted: string;
  /** The compliance organization that recorded it, and its claimed time. */
  emitter: string;
  time: string;
  about: string;
  check: string;
  outcome: FindingEvent['outcome'];
  declaration?: string;
  path: string[];
  explanation: string;
  /** The evaluated event; null when it is not in the log (an `evidence` matter). */
  evaluated: EvaluatedEvent | null;
  /** Emitters and recipients of the evaluated event and of every event on the path, sorted. */
  organizations: string[];
}

export interface FindingsFilter {
  /** Involved: emitter or recipient of the evaluated event or of an event on the path. */
  organization?: string;
  /** The evaluated event's dataset id (or declared subject). */
  dataset?: string;
  check?: string;
  outcome?: string;
  /** Findings about this event. */
  about?: string;
  /** Only findings of this compliance organization. */
  emitter?: string;
  /** Admission time window (ms since the epoch): from inclusive, until exclusive. */
  from?: number;
  until?: number;
}

export interface FindingsPage {
  findings: FindingRecord[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: number;
}

export class FindingsIndex {
  /** In ledger order. */
  readonly #all: FindingRecord[] = [];
  readonly #admittedMs: number[] = [];
  readonly #byOutcome = new Map<string, number>();

  /** Findings indexed. */
  get size(): number {
    return this.#all.length;
  }

  /** Findings per outcome. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#byOutcome);
  }

  /** Adds the next finding (ledger order: indexes increase). */
  add(f: FindingRecord): void {
    const last = this.#all[this.#all.length - 1];
    if (last !== undefined && f.index <= last.index) return;
    this.#all.push(f);
    this.#admittedMs.push(Date.parse(f.admitted));
    this.#byOutcome.set(f.outcome, (this.#byOutcome.get(f.outcome) ?? 0) + 1);
  }

  /** Newest first: findings with index < `before` (default: all) matching every filter. */
  query(filter: FindingsFilter, page: { limit: number; before?: number }): FindingsPage {
    const out: FindingRecord[] = [];
    let i = this.#all.length - 1;
    if (page.before !== undefined) i = Math.min(i, this.#firstAtOrAfter(page.before) - 1);
    for (; i >= 0; i--) {
      const f = this.#all[i]!;
      const t = this.#admittedMs[i]!;
      if (filter.from !== undefined && t < filter.from) continue;
      if (filter.until !== undefined && t >= filter.until) continue;
      if (filter.check !== undefined && f.check !== filter.check) continue;
      if (filter.outcome !== undefined && f.outcome !== filter.outcome) continue;
      if (filter.about !== undefined && f.about !== filter.about) continue;
      if (filter.emitter !== undefined && f.emitter !== filter.emitter) continue;
      if (filter.dataset !== undefined && f.evaluated?.dataset !== filter.dataset) continue;
      if (filter.organization !== undefined && !f.organizations.includes(filter.organization)) continue;
      if (out.length === page.limit) return { findings: out, next: out[out.length - 1]!.index };
      out.push(f);
    }
    return { findings: out };
  }

  /** Position of the first finding with index >= `index` (binary search). */
  #firstAtOrAfter(index: number): number {
    let lo = 0;
    let hi = this.#all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#all[mid]!.index < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
