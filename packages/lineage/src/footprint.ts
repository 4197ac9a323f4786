// footprint(): everything downstream of a source's collections, summarised: datasets
// reached, organizations that received copies (transfer recipients) and organizations
// that handled the data (emitters of downstream events), each with their purposes.
import { resourceId, type MovementType } from '@civic-ledger/schemas';
import { z } from 'zod';
import { LineageError } from './errors.ts';
import { TYPES } from './graph.ts';
import { graphOf, type LineageIndex } from './lineage-index.ts';
import { MAX_DEPTH, footprintOptionsSchema, parseQuery, type FootprintOptions } from './query.ts';
import { byLedgerIndex, forNeighbours, resolveAsOf, resolveStart, type Incompleteness } from './trace.ts';

export interface FootprintOrganization {
  org: string;
  /** Transfers this organization received, and their purposes. */
  received: { transfers: number; purposes: string[] };
  /** Events this organization emitted in the footprint, by type, and their purposes. */
  handled: { events: number; types: Partial<Record<MovementType, number>>; purposes: string[] };
}

export interface FootprintResult {
  source: string;
  asOf: number;
  /** Collections from the source (the start). */
  collects: number;
  /** Events in the footprint, collections included. */
  events: number;
  types: Partial<Record<MovementType, number>>;
  /** Datasets reached: versions and events of each. */
  datasets: Array<{ id: string; versions: number; events: number }>;
  organizations: FootprintOrganization[];
  /** Largest depth reached. */
  depth: number;
  complete: boolean;
  incomplete: Incompleteness[];
}

interface OrgAcc {
  received: number;
  receivedPurposes: Set<number>;
  events: number;
  types: Partial<Record<MovementType, number>>;
  purposes: Set<number>;
}

export function footprint(
  index: LineageIndex,
  source: string,
  options: FootprintOptions = {},
): FootprintResult {
  const src = parseQuery(z.strictObject({ source: resourceId }), { source }, 'footprint').source;
  const o = parseQuery(footprintOptionsSchema, options, 'footprint options');
  const g = graphOf(index);
  const asOf = resolveAsOf(g, o.asOf);
  const maxDepth = o.depth ?? MAX_DEPTH;
  const starts = resolveStart(g, { source: src }, asOf);
  const epoch = g.nextEpoch();
  const { mark, index: ledgerIndex } = g;
  const reached: number[] = [];
  let laterLinks = 0;
  let missing = 0;
  let depthCut = 0;
  let depth = 0;
  for (const n of starts) mark[n] = epoch;
  let level = starts;
  for (let d = 0; level.length > 0; d++) {
    depth = d;
    for (const n of level) reached.push(n);
    const next: number[] = [];
    for (const n of level) {
      forNeighbours(g, n, false, (m) => {
        const mi = ledgerIndex[m]!;
        if (mi >= asOf) laterLinks++;
        else if (mark[m] !== epoch) {
          if (d === maxDepth) depthCut++;
          else {
            mark[m] = epoch;
            next.push(m);
          }
        }
      });
      // Upstream placeholders cannot occur downstream; a missing input only shows on the way up.
      for (let e = g.upStart[n]!, end = e + g.upCount[n]!; e < end; e++)
        if (ledgerIndex[g.edgeParent[e]!]! < 0) missing++;
    }
    if (d === maxDepth) break;
    level = byLedgerIndex(g, next);
  }

  const s = g.strings.list;
  const types: Partial<Record<MovementType, number>> = {};
  const datasets = new Map<number, { versions: Set<number>; events: number }>();
  const orgs = new Map<number, OrgAcc>();
  const org = (id: number): OrgAcc => {
    let a = orgs.get(id);
    if (a === undefined) {
      a = { received: 0, receivedPurposes: new Set(), events: 0, types: {}, purposes: new Set() };
      orgs.set(id, a);
    }
    return a;
  };
  for (const n of reached) {
    const t = TYPES[g.type[n]!]!;
    types[t] = (types[t] ?? 0) + 1;
    let ds = datasets.get(g.dataset[n]!);
    if (ds === undefined) datasets.set(g.dataset[n]!, (ds = { versions: new Set(), events: 0 }));
    ds.versions.add(g.version[n]!);
    ds.events++;
    const e = org(g.emitter[n]!);
    e.events++;
    e.types[t] = (e.types[t] ?? 0) + 1;
    e.purposes.add(g.purpose[n]!);
    if (g.recipient[n]! >= 0) {
      const r = org(g.recipient[n]!);
      r.received++;
      r.receivedPurposes.add(g.purpose[n]!);
    }
  }
  const names = (ids: Set<number>) => [...ids].map((i) => s[i]!).sort();
  const incomplete: Incompleteness[] = [];
  if (depthCut > 0)
    incomplete.push({
      reason: 'depth',
      count: depthCut,
      detail: `${depthCut} links lead beyond depth ${maxDepth}`,
    });
  if (laterLinks > 0) {
    incomplete.push({
      reason: 'as-of',
      count: laterLinks,
      detail: `${laterLinks} links to entries at or after tree size ${asOf} are not part of this answer`,
    });
  }
  if (missing > 0)
    incomplete.push({
      reason: 'missing',
      count: missing,
      detail: `${missing} inputs name events not in the log`,
    });
  if (reached.length === 0) throw new LineageError('NOT_FOUND', `source ${src} has no collection`);
  return {
    source: src,
    asOf,
    collects: starts.length,
    events: reached.length,
    types,
    datasets: [...datasets]
      .map(([id, d]) => ({ id: s[id]!, versions: d.versions.size, events: d.events }))
      .sort((a, b) => (a.id < b.id ? -1 : 1)),
    organizations: [...orgs]
      .map(([id, a]) => ({
        org: s[id]!,
        received: { transfers: a.received, purposes: names(a.receivedPurposes) },
        handled: { events: a.events, types: a.types, purposes: names(a.purposes) },
      }))
      .sort((a, b) => (a.org < b.org ? -1 : 1)),
    depth,
    complete: incomplete.length === 0,
    incomplete,
  };
}
