// trace(): breadth-first over the lineage DAG, one level at a time. Each level is expanded
// as a batch over the typed arrays (no store round trip, no object per visited node); only
// the page's nodes and edges become objects. Filters hide nodes but never stop the
// traversal, so lineage through a hidden node is still followed.
import type { MovementType } from '@civic-ledger/schemas';
import { LineageError } from './errors.ts';
import { TYPES, type Graph } from './graph.ts';
import { graphOf, type LineageIndex } from './lineage-index.ts';
import {
  decodeCursor,
  encodeCursor,
  fingerprint,
  parseQuery,
  traceQuerySchema,
  type ParsedTraceQuery,
  type TraceQuery,
} from './query.ts';

export type IncompleteReason = 'depth' | 'page' | 'filter' | 'time' | 'as-of' | 'missing';

export interface Incompleteness {
  reason: IncompleteReason;
  /** How many events (or links, for as-of) were left out, where known. */
  count?: number;
  detail: string;
}

export interface LineageNode {
  /** Event hash. */
  event: string;
  /** Ledger index. */
  index: number;
  type: MovementType;
  emitter: string;
  purpose: string;
  /** Transfers only. */
  recipient?: string;
  /** Collects only. */
  source?: string;
  dataset: { id: string; version: string };
  /** Claimed time (ms precision). */
  time: string;
  /** Admission time. */
  admitted: string;
  /** The event's own categories (collect, derive) or those carried from its inputs. */
  categories: string[];
  /** True when `categories` are the event's own. */
  ownCategories: boolean;
  /** Steps from the start (0 = a start event). */
  depth: number;
}

/** A lineage link in the direction data flows: `to` names `from` among its inputs. */
export interface LineageEdge {
  from: string;
  to: string;
}

export interface TraceResult {
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** False whenever anything in reach was left out; `incomplete` says what and why. */
  complete: boolean;
  incomplete: Incompleteness[];
  /** The tree size the answer stands for. */
  asOf: number;
  /** Cursor of the next page, when the page was cut. */
  next?: string;
}

/** Visibility of a node under the filters. */
export const VISIBLE = 0;
export const HIDDEN_FILTER = 1;
export const HIDDEN_TIME = 2;

export interface Visibility {
  (node: number): number;
}

export function compileFilters(g: Graph, f: ParsedTraceQuery['filters']): Visibility {
  const typeMask = f.types === undefined ? -1 : f.types.reduce((m, t) => m | (1 << TYPES.indexOf(t)), 0);
  const ids = (list: string[] | undefined) =>
    list === undefined ? undefined : new Set(list.map((s) => g.strings.lookup(s)).filter((i) => i >= 0));
  const purposes = ids(f.purposes);
  const orgs = ids(f.organizations);
  const fromMs = f.from === undefined ? -Infinity : Date.parse(f.from);
  const untilMs = f.until === undefined ? Infinity : Date.parse(f.until);
  const timed = f.from !== undefined || f.until !== undefined;
  return (n) => {
    if ((typeMask & (1 << g.type[n]!)) === 0) return HIDDEN_FILTER;
    if (purposes !== undefined && !purposes.has(g.purpose[n]!)) return HIDDEN_FILTER;
    if (orgs !== undefined && !orgs.has(g.emitter[n]!) && !orgs.has(g.recipient[n]!)) return HIDDEN_FILTER;
    if (timed) {
      const t = g.time[n]!;
      if (t < fromMs || t >= untilMs) return HIDDEN_TIME;
    }
    return VISIBLE;
  };
}

/** The start events as of `asOf`, in ledger order; NOT_FOUND when there are none. */
export function resolveStart(g: Graph, from: ParsedTraceQuery['from'], asOf: number): number[] {
  const out: number[] = [];
  const walk = (head: number, next: Int32Array, keep: (n: number) => boolean) => {
    for (let n = head; n >= 0 && g.index[n]! < asOf; n = next[n]!) if (keep(n)) out.push(n);
  };
  if (from.event !== undefined) {
    const n = g.events.lookup(from.event);
    if (n >= 0 && n < g.nodeCount && g.index[n]! >= 0 && g.index[n]! < asOf) out.push(n);
  } else if (from.dataset !== undefined) {
    const ds = g.strings.lookup(from.dataset);
    if (from.version !== undefined) {
      const v = g.versions.lookup(from.version.slice(7));
      if (ds >= 0 && v >= 0 && v < g.versionHead.length)
        walk(g.versionHead[v]!, g.nextSameVersion, (n) => g.dataset[n] === ds);
    } else {
      const list = g.datasetList.get(ds);
      if (list !== undefined) walk(list[0], g.nextSameDataset, () => true);
    }
  } else if (from.source !== undefined) {
    const list = g.sourceList.get(g.strings.lookup(from.source));
    if (list !== undefined) walk(list[0], g.nextSameSource, () => true);
  }
  if (out.length === 0) {
    const what =
      from.event ??
      (from.dataset !== undefined
        ? `${from.dataset}${from.version === undefined ? '' : `@${from.version}`}`
        : from.source!);
    throw new LineageError('NOT_FOUND', `from: no movement of ${what} as of tree size ${asOf}`);
  }
  return out;
}

/** Calls `fn` for each neighbour of `n` in `direction` (placeholders and later entries included). */
export function forNeighbours(g: Graph, n: number, upstream: boolean, fn: (m: number) => void): void {
  if (upstream) {
    for (let e = g.upStart[n]!, end = e + g.upCount[n]!; e < end; e++) fn(g.edgeParent[e]!);
  } else {
    for (let e = g.downHead[n]!; e >= 0; e = g.downNext[e]!) fn(g.edgeChild[e]!);
  }
}

/** Sorts node ids by ledger index (all must be real entries). */
export function byLedgerIndex(g: Graph, nodes: number[]): number[] {
  const idx = new Int32Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) idx[i] = g.index[nodes[i]!]!;
  idx.sort();
  const out = new Array<number>(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = g.nodeOfIndex[idx[i]!]!;
  return out;
}

export function resolveAsOf(g: Graph, asOf: number | undefined): number {
  if (asOf === undefined) return g.size;
  if (asOf > g.size) {
    throw new LineageError('AS_OF_BEYOND_INDEX', `asOf: ${asOf} is beyond the index's size ${g.size}`);
  }
  return asOf;
}

export function nodeOf(g: Graph, n: number, depth: number): LineageNode {
  const s = g.strings.list;
  const node: LineageNode = {
    event: g.events.hex(n),
    index: g.index[n]!,
    type: TYPES[g.type[n]!]!,
    emitter: s[g.emitter[n]!]!,
    purpose: s[g.purpose[n]!]!,
    dataset: { id: s[g.dataset[n]!]!, version: `sha256:${g.versions.hex(g.version[n]!)}` },
    time: new Date(g.time[n]!).toISOString(),
    admitted: new Date(g.admitted[n]!).toISOString(),
    categories: g.categories(g.effCats[n]!),
    ownCategories: g.ownCats[n]! >= 0,
    depth,
  };
  if (g.recipient[n]! >= 0) node.recipient = s[g.recipient[n]!]!;
  if (g.source[n]! >= 0) node.source = s[g.source[n]!]!;
  return node;
}

/** Upstream (provenance) or downstream (reuse) lineage of an event, a dataset (version) or a source. */
export function trace(index: LineageIndex, query: TraceQuery): TraceResult {
  const q = parseQuery(traceQuerySchema, query, 'trace query');
  const g = graphOf(index);
  const print = fingerprint(q);
  let after: { d: number; i: number } | undefined;
  let asOf: number;
  if (q.page.cursor !== undefined) {
    const c = decodeCursor(q.page.cursor);
    if (c.f !== print) throw new LineageError('CURSOR_MISMATCH', 'page.cursor: written for another query');
    if (q.asOf !== undefined && q.asOf !== c.a) {
      throw new LineageError('CURSOR_MISMATCH', `page.cursor: written for asOf ${c.a}, not ${q.asOf}`);
    }
    asOf = resolveAsOf(g, c.a);
    after = { d: c.d, i: c.i };
  } else {
    asOf = resolveAsOf(g, q.asOf);
  }
  const starts = resolveStart(g, q.from, asOf);
  const upstream = q.direction === 'upstream';
  const visible = compileFilters(g, q.filters);
  const limit = q.page.limit;
  const epoch = g.nextEpoch();
  const { mark, depthOf, index: ledgerIndex } = g;

  const out: number[] = [];
  let hasMore = false;
  let hiddenFilter = 0;
  let hiddenTime = 0;
  let laterLinks = 0;
  let missing = 0;
  let depthCut = 0;

  for (const n of starts) {
    mark[n] = epoch;
    depthOf[n] = 0;
  }
  let level = starts;
  for (let d = 0; level.length > 0; d++) {
    for (const n of level) {
      const v = visible(n);
      if (v === HIDDEN_FILTER) hiddenFilter++;
      else if (v === HIDDEN_TIME) hiddenTime++;
      else if (after === undefined || d > after.d || (d === after.d && ledgerIndex[n]! > after.i)) {
        if (out.length === limit) {
          hasMore = true;
          break;
        }
        out.push(n);
      }
    }
    if (hasMore) break;
    // Expand the whole level in one pass; at the depth limit only look whether anything lies beyond.
    const last = d === q.depth;
    const next: number[] = [];
    for (const n of level) {
      forNeighbours(g, n, upstream, (m) => {
        const mi = ledgerIndex[m]!;
        if (mi < 0) {
          if (mark[m] !== epoch) {
            mark[m] = epoch;
            depthOf[m] = -1;
            missing++;
          }
        } else if (mi >= asOf) {
          laterLinks++;
        } else if (mark[m] !== epoch) {
          if (last) depthCut++;
          else {
            mark[m] = epoch;
            depthOf[m] = d + 1;
            next.push(m);
          }
        }
      });
    }
    if (last) break;
    level = byLedgerIndex(g, next);
  }

  // Edges: each link between two returned nodes, reported with the later of the two (in
  // answer order: depth, then ledger index), so pages never repeat or lose a link.
  const edges: LineageEdge[] = [];
  const before = (a: number, b: number) =>
    depthOf[a]! < depthOf[b]! || (depthOf[a] === depthOf[b] && ledgerIndex[a]! < ledgerIndex[b]!);
  const inAnswer = (m: number) =>
    mark[m] === epoch &&
    ledgerIndex[m]! >= 0 &&
    ledgerIndex[m]! < asOf &&
    depthOf[m]! >= 0 &&
    visible(m) === VISIBLE;
  const nodes: LineageNode[] = [];
  for (const n of out) {
    nodes.push(nodeOf(g, n, depthOf[n]!));
    const linked: Array<{ m: number; up: boolean }> = [];
    for (const up of [true, false]) {
      forNeighbours(g, n, up, (m) => {
        if (inAnswer(m) && before(m, n)) linked.push({ m, up });
      });
    }
    linked.sort((a, b) => ledgerIndex[a.m]! - ledgerIndex[b.m]!);
    const h = g.events.hex(n);
    for (const { m, up } of linked)
      edges.push(up ? { from: g.events.hex(m), to: h } : { from: h, to: g.events.hex(m) });
  }

  const incomplete: Incompleteness[] = [];
  if (depthCut > 0) {
    incomplete.push({
      reason: 'depth',
      count: depthCut,
      detail: `${depthCut} links lead beyond depth ${q.depth}`,
    });
  }
  if (hasMore) {
    incomplete.push({
      reason: 'page',
      detail: `more than ${limit} events on this page; pass next as page.cursor`,
    });
  }
  if (hiddenFilter > 0) {
    incomplete.push({
      reason: 'filter',
      count: hiddenFilter,
      detail: `${hiddenFilter} events in reach hidden by the purpose, organization or type filter (traversed, not returned)`,
    });
  }
  if (hiddenTime > 0) {
    incomplete.push({
      reason: 'time',
      count: hiddenTime,
      detail: `${hiddenTime} events in reach outside the time window (traversed, not returned)`,
    });
  }
  if (laterLinks > 0) {
    incomplete.push({
      reason: 'as-of',
      count: laterLinks,
      detail: `${laterLinks} links to entries at or after tree size ${asOf} are not part of this answer`,
    });
  }
  if (missing > 0) {
    incomplete.push({
      reason: 'missing',
      count: missing,
      detail: `${missing} inputs name events not in the log`,
    });
  }
  const result: TraceResult = { nodes, edges, complete: incomplete.length === 0, incomplete, asOf };
  if (hasMore) {
    const lastNode = out[out.length - 1]!;
    result.next = encodeCursor({ f: print, a: asOf, d: depthOf[lastNode]!, i: ledgerIndex[lastNode]! });
  }
  return result;
}
