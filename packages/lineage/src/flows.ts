// flows(): organization-to-organization transfers in a time window (claimed time, from
// inclusive, until exclusive): counts, purposes, data categories and datasets per pair —
// the data behind a flow diagram. A transfer carries no categories of its own; it gets
// those of the data it moves: the categories of its inputs, where an input without its
// own (a transfer, a use...) carries those of its inputs in turn, back to the nearest
// collect or derive (computed once, when the event is indexed).
import { graphOf, type LineageIndex } from './lineage-index.ts';
import { flowsQuerySchema, parseQuery, type FlowsQuery } from './query.ts';
import { resolveAsOf, type Incompleteness } from './trace.ts';

export interface Flow {
  from: string;
  to: string;
  transfers: number;
  purposes: Array<{ purpose: string; transfers: number }>;
  categories: Array<{ category: string; transfers: number }>;
  datasets: Array<{ id: string; transfers: number }>;
}

export interface FlowsResult {
  from: string;
  until: string;
  asOf: number;
  flows: Flow[];
  /** Every organization in a flow, sorted. */
  organizations: string[];
  complete: boolean;
  incomplete: Incompleteness[];
}

function counted(m: Map<number, number>, names: readonly string[]): Array<{ name: string; n: number }> {
  return [...m]
    .map(([id, n]) => ({ name: names[id]!, n }))
    .sort((a, b) => b.n - a.n || (a.name < b.name ? -1 : 1));
}

function bump(m: Map<number, number>, k: number): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

export function flows(index: LineageIndex, query: FlowsQuery): FlowsResult {
  const q = parseQuery(flowsQuerySchema, query, 'flows query');
  const g = graphOf(index);
  const asOf = resolveAsOf(g, q.asOf);
  const fromMs = Date.parse(q.from);
  const untilMs = Date.parse(q.until);
  const pairs = new Map<
    string,
    {
      from: number;
      to: number;
      n: number;
      p: Map<number, number>;
      c: Map<number, number>;
      d: Map<number, number>;
    }
  >();
  let later = 0;
  let uncategorised = 0;
  for (let i = 0; i < g.transferCount; i++) {
    const n = g.transfers[i]!;
    const t = g.time[n]!;
    if (t < fromMs || t >= untilMs) continue;
    if (g.index[n]! >= asOf) {
      later++;
      continue;
    }
    const key = `${g.emitter[n]!},${g.recipient[n]!}`;
    let f = pairs.get(key);
    if (f === undefined) {
      f = { from: g.emitter[n]!, to: g.recipient[n]!, n: 0, p: new Map(), c: new Map(), d: new Map() };
      pairs.set(key, f);
    }
    f.n++;
    bump(f.p, g.purpose[n]!);
    bump(f.d, g.dataset[n]!);
    const cats = g.effCats[n]!;
    if (cats < 0) uncategorised++;
    else for (const c of g.catSets[cats]!) bump(f.c, c);
  }
  const s = g.strings.list;
  const out: Flow[] = [...pairs.values()]
    .map((f) => ({
      from: s[f.from]!,
      to: s[f.to]!,
      transfers: f.n,
      purposes: counted(f.p, s).map(({ name, n }) => ({ purpose: name, transfers: n })),
      categories: counted(f.c, s).map(({ name, n }) => ({ category: name, transfers: n })),
      datasets: counted(f.d, s).map(({ name, n }) => ({ id: name, transfers: n })),
    }))
    .sort((a, b) => b.transfers - a.transfers || (a.from + a.to < b.from + b.to ? -1 : 1));
  const incomplete: Incompleteness[] = [];
  if (later > 0) {
    incomplete.push({
      reason: 'as-of',
      count: later,
      detail: `${later} transfers in the window are at or after tree size ${asOf} and not counted`,
    });
  }
  if (uncategorised > 0) {
    incomplete.push({
      reason: 'missing',
      count: uncategorised,
      detail: `${uncategorised} transfers have no categories: their inputs reach no collect or derive in the log`,
    });
  }
  return {
    from: q.from,
    until: q.until,
    asOf,
    flows: out,
    organizations: [...new Set(out.flatMap((f) => [f.from, f.to]))].sort(),
    complete: incomplete.length === 0,
    incomplete,
  };
}
