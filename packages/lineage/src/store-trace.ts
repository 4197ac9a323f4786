// traceInStore(): the lineage of one event answered through the storage interface alone,
// with no index in memory: breadth-first, one batched store read per level (upstream by
// event hash, downstream by input hash), so a query costs O(depth) round trips, never one
// per node. Same semantics as trace() on a LineageIndex built from the same leaves: the
// same events at the same depths, the same links, the same completeness flags (depth,
// page, as-of, missing). It is what a service without a warm index answers with, and the
// contract test proves every store adapter gives the in-memory index's answers.
import { MOVEMENT_TYPES, eventHash, type MovementType } from '@civic-ledger/schemas';
import type { LeafRecord, LedgerStore } from '@civic-ledger/storage';
import { z } from 'zod';
import { LineageError } from './errors.ts';
import { DEFAULT_DEPTH, DEFAULT_PAGE, MAX_DEPTH, MAX_PAGE, parseQuery } from './query.ts';
import type { Incompleteness, LineageEdge } from './trace.ts';

/** The reads a store-backed trace needs. */
export type LineageStore = Pick<LedgerStore, 'head' | 'getLeavesByEventHash' | 'getLeavesByInput'>;

export const storeTraceQuerySchema = z.strictObject({
  event: eventHash,
  direction: z.enum(['upstream', 'downstream']),
  depth: z.number().int().min(0).max(MAX_DEPTH).default(DEFAULT_DEPTH),
  asOf: z.number().int('asOf: an integer tree size').min(0, 'asOf: a tree size >= 0').optional(),
  /** Most events returned; more in reach makes the answer incomplete (reason page). */
  limit: z.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
});
export type StoreTraceQuery = z.input<typeof storeTraceQuerySchema>;

/** A movement as the store-backed trace returns it (what its own leaf says). */
export interface StoreLineageNode {
  event: string;
  index: number;
  type: MovementType;
  emitter: string;
  purpose: string;
  recipient?: string;
  source?: string;
  dataset: { id: string; version: string };
  time: string;
  admitted: string;
  /** Steps from the start event. */
  depth: number;
}

export interface StoreTraceResult {
  nodes: StoreLineageNode[];
  edges: LineageEdge[];
  complete: boolean;
  incomplete: Incompleteness[];
  asOf: number;
}

export interface StoreTraceOptions {
  /** Hashes per store call (default 500), so one level never becomes one huge query. */
  chunk?: number;
}

interface Movement extends StoreLineageNode {
  inputs: string[];
}

const MOVEMENT = new Set<string>(MOVEMENT_TYPES);
const decoder = new TextDecoder();

/** The movement a stored leaf holds, or undefined for a governance event. */
function movementOf(record: LeafRecord): Movement | undefined {
  let leaf: { admitted?: unknown; event?: Record<string, unknown> };
  try {
    leaf = JSON.parse(decoder.decode(record.leaf)) as typeof leaf;
  } catch (cause) {
    throw new LineageError('LEAF_INVALID', `leaf ${record.index} is not JSON`, { cause });
  }
  const e = leaf.event;
  if (e === undefined || !MOVEMENT.has(e['type'] as string)) return undefined;
  const ds = e['dataset'] as { id: string; version: string };
  const m: Movement = {
    event: record.eventHash,
    index: record.index,
    type: e['type'] as MovementType,
    emitter: e['emitter'] as string,
    purpose: e['purpose'] as string,
    dataset: { id: ds.id, version: ds.version },
    time: new Date(Date.parse(e['time'] as string)).toISOString(),
    admitted: new Date(Date.parse(leaf.admitted as string)).toISOString(),
    depth: 0,
    inputs: [...new Set(e['inputs'] as string[])],
  };
  if (typeof e['recipient'] === 'string') m.recipient = e['recipient'];
  if (typeof e['source'] === 'string') m.source = e['source'];
  return m;
}

async function inChunks(
  hashes: readonly string[],
  size: number,
  read: (part: string[]) => Promise<LeafRecord[]>,
): Promise<LeafRecord[]> {
  const out: LeafRecord[] = [];
  for (let i = 0; i < hashes.length; i += size) out.push(...(await read(hashes.slice(i, i + size))));
  return out;
}

/** Upstream or downstream lineage of one event, read level by level from the store. */
export async function traceInStore(
  store: LineageStore,
  query: StoreTraceQuery,
  options: StoreTraceOptions = {},
): Promise<StoreTraceResult> {
  const q = parseQuery(storeTraceQuerySchema, query, 'trace query');
  const chunk = options.chunk ?? 500;
  const size = (await store.head()).size;
  if (q.asOf !== undefined && q.asOf > size) {
    throw new LineageError('AS_OF_BEYOND_INDEX', `asOf: ${q.asOf} is beyond the log's size ${size}`);
  }
  const asOf = q.asOf ?? size;
  const [startLeaf] = await store.getLeavesByEventHash([q.event]);
  const start = startLeaf !== undefined && startLeaf.index < asOf ? movementOf(startLeaf) : undefined;
  if (start === undefined) {
    throw new LineageError('NOT_FOUND', `from: no movement of ${q.event} as of tree size ${asOf}`);
  }
  const upstream = q.direction === 'upstream';
  const seen = new Map<string, Movement>([[start.event, start]]);
  const missingSet = new Set<string>();
  const out: Movement[] = [];
  let hasMore = false;
  let depthCut = 0;
  let laterLinks = 0;

  let level: Movement[] = [start];
  for (let d = 0; level.length > 0; d++) {
    for (const m of level) {
      if (out.length === q.limit) {
        hasMore = true;
        break;
      }
      out.push(m);
    }
    if (hasMore) break;
    const last = d === q.depth;
    // Every link of this level, as (neighbour hash, its movement or undefined when absent).
    const links: Array<{ hash: string; found: Movement | undefined; index: number }> = [];
    if (upstream) {
      const wanted = [...new Set(level.flatMap((m) => m.inputs))];
      const fresh = wanted.filter((h) => !seen.has(h) && !missingSet.has(h));
      const found = new Map<string, { m: Movement | undefined; index: number }>();
      for (const r of await inChunks(fresh, chunk, (p) => store.getLeavesByEventHash(p))) {
        found.set(r.eventHash, { m: movementOf(r), index: r.index });
      }
      for (const m of level) {
        for (const h of m.inputs) {
          const known = seen.get(h);
          const f = found.get(h);
          links.push({ hash: h, found: known ?? f?.m, index: known?.index ?? f?.index ?? -1 });
        }
      }
    } else {
      const children = await inChunks(
        level.map((m) => m.event),
        chunk,
        (p) => store.getLeavesByInput(p),
      );
      const inLevel = new Set(level.map((m) => m.event));
      for (const r of children) {
        const m = seen.get(r.eventHash) ?? movementOf(r);
        if (m === undefined) continue;
        // One link per (level node, child): as many as the child names level nodes.
        for (const h of m.inputs)
          if (inLevel.has(h)) links.push({ hash: r.eventHash, found: m, index: r.index });
      }
    }
    const next: Movement[] = [];
    for (const l of links) {
      if (l.found === undefined) {
        // Absent from the log, or a governance event: no lineage node (as in the index).
        if (!seen.has(l.hash)) missingSet.add(l.hash);
      } else if (l.index >= asOf) {
        laterLinks++;
      } else if (!seen.has(l.hash)) {
        if (last) depthCut++;
        else {
          l.found.depth = d + 1;
          seen.set(l.hash, l.found);
          next.push(l.found);
        }
      }
    }
    if (last) break;
    level = next.sort((a, b) => a.index - b.index);
  }

  // Links between returned events, each reported with the later of the two in answer order
  // (as trace() does, so pages of the index never repeat or lose a link).
  const returned = new Map(out.map((m) => [m.event, m]));
  const before = (a: Movement, b: Movement) =>
    a.depth < b.depth || (a.depth === b.depth && a.index < b.index);
  const linksOf = new Map<Movement, Array<{ other: Movement; up: boolean }>>();
  for (const child of out) {
    for (const h of child.inputs) {
      const parent = returned.get(h);
      if (parent === undefined) continue;
      const [later, link] = before(parent, child)
        ? [child, { other: parent, up: true }]
        : [parent, { other: child, up: false }];
      const list = linksOf.get(later);
      if (list === undefined) linksOf.set(later, [link]);
      else list.push(link);
    }
  }
  const edges: LineageEdge[] = [];
  for (const m of out) {
    const linked = (linksOf.get(m) ?? []).sort((a, b) => a.other.index - b.other.index);
    for (const { other, up } of linked)
      edges.push(up ? { from: other.event, to: m.event } : { from: m.event, to: other.event });
  }

  const incomplete: Incompleteness[] = [];
  if (depthCut > 0)
    incomplete.push({
      reason: 'depth',
      count: depthCut,
      detail: `${depthCut} links lead beyond depth ${q.depth}`,
    });
  if (hasMore)
    incomplete.push({ reason: 'page', detail: `more than ${q.limit} events in reach; raise limit` });
  if (laterLinks > 0) {
    incomplete.push({
      reason: 'as-of',
      count: laterLinks,
      detail: `${laterLinks} links to entries at or after tree size ${asOf} are not part of this answer`,
    });
  }
  if (missingSet.size > 0) {
    incomplete.push({
      reason: 'missing',
      count: missingSet.size,
      detail: `${missingSet.size} inputs name events not in the log`,
    });
  }
  const nodes = out.map(({ inputs: _inputs, ...node }) => node);
  return { nodes, edges, complete: incomplete.length === 0, incomplete, asOf };
}
