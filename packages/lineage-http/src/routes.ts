// The lineage routes: trace, footprint, flows, exports, partial evidence bundles and the
// Marquez-compatible graph, over a LineageIndex kept current by a LineageFollower.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHECKPOINTS_FILE,
  ENTRIES_FILE,
  PROOFS_FILE,
  storeProofProvider,
  writePartialBundle,
} from '@civic-ledger/bundle';
import { apiSchemas, type ZodRouter } from '@civic-ledger/ledger-http';
import {
  flows,
  footprint,
  LineageError,
  trace,
  type LineageEdge,
  type LineageNode,
  type TraceQuery,
  type TraceResult,
} from '@civic-ledger/lineage';
import { toOpenLineage, toProvJson, type LedgerEntryInput } from '@civic-ledger/lineage-export';
import type { LedgerStore } from '@civic-ledger/storage';
import { fromLineageError, LineageHttpError } from './errors.ts';
import type { LineageFollower } from './follower.ts';
import { datasetIdOfNode, toMarquezGraph } from './marquez.ts';
import * as s from './schemas.ts';

export interface LineageRoutesOptions {
  follower: LineageFollower;
  store: LedgerStore;
  /** The log's size as the service knows it: a query first indexes every entry up to it. */
  logSize?: () => number;
  /** Partial bundles need the log's verifier key text and origin; without them /v1/lineage/bundle is not served. */
  bundle?: { logKey: string; origin: string };
  /** PROV namespace (default `urn:civic-ledger:`). */
  provNamespace?: string;
  /** OpenLineage `producer` and job namespace (defaults of @civic-ledger/lineage-export). */
  openLineage?: { producer?: string; namespace?: string };
}

const { errorResponses } = apiSchemas;

/** The trace query of the library from the query string. */
export function toTraceQuery(q: s.TraceQueryString): TraceQuery {
  const arr = (v: string | string[] | undefined) =>
    v === undefined ? undefined : Array.isArray(v) ? v : [v];
  const from: Record<string, string> = {};
  for (const k of ['event', 'dataset', 'version', 'source'] as const) if (q[k] !== undefined) from[k] = q[k];
  const filters: Record<string, unknown> = {};
  const purposes = arr(q.purpose);
  const organizations = arr(q.organization);
  const types = arr(q.type);
  if (purposes) filters['purposes'] = purposes;
  if (organizations) filters['organizations'] = organizations;
  if (types) filters['types'] = types;
  if (q.from !== undefined) filters['from'] = q.from;
  if (q.until !== undefined) filters['until'] = q.until;
  return {
    from,
    direction: q.direction,
    depth: q.depth,
    filters,
    ...(q.asOf === undefined ? {} : { asOf: q.asOf }),
    page: { limit: q.limit, ...(q.cursor === undefined ? {} : { cursor: q.cursor }) },
  } as TraceQuery;
}

/** Runs a library call, turning its errors into the route's. */
function lineage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LineageError) throw fromLineageError(e);
    throw e;
  }
}

/**
 * The signed checkpoint that proves an answer as of `size`: the one of that size when the
 * log signed it (`exact`), else the smallest signed one above it (its tree holds every
 * entry below `size`); null when the log has signed none that large yet.
 */
export async function checkpointFor(
  store: Pick<LedgerStore, 'getCheckpoint' | 'latestCheckpoint' | 'listCheckpoints'>,
  size: number,
): Promise<{ size: number; note: string; exact: boolean } | null> {
  const exact = await store.getCheckpoint(size);
  if (exact) return { size, note: exact.note, exact: true };
  const latest = await store.latestCheckpoint();
  if (!latest || latest.size < size) return null;
  // Windows widen so a sparsely signed log costs few queries and each stays bounded.
  for (
    let lo = size + 1, width = 1024;
    lo <= latest.size;
    lo += width, width = Math.min(width * 4, 1 << 20)
  ) {
    const [first] = await store.listCheckpoints(lo, Math.min(latest.size, lo + width - 1));
    if (first) return { size: first.size, note: first.note, exact: false };
  }
  return { size: latest.size, note: latest.note, exact: false };
}

interface Leaf {
  index: number;
  admitted: string;
  eventHash: string;
  event: Record<string, unknown>;
}

/** The answer's entries, read from the store in batched calls, in ledger order. */
async function readEntries(store: LedgerStore, hashes: readonly string[]): Promise<Leaf[]> {
  const out: Leaf[] = [];
  for (let i = 0; i < hashes.length; i += 1000) {
    for (const r of await store.getLeavesByEventHash(hashes.slice(i, i + 1000))) {
      const text = Buffer.from(r.leaf.buffer, r.leaf.byteOffset, r.leaf.byteLength).toString('utf8');
      const leaf = JSON.parse(text) as { admitted: string; event: Record<string, unknown> };
      out.push({ index: r.index, admitted: leaf.admitted, eventHash: r.eventHash, event: leaf.event });
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

function meta(r: TraceResult) {
  return {
    complete: r.complete,
    incomplete: r.incomplete,
    asOf: r.asOf,
    ...(r.next === undefined ? {} : { next: r.next }),
  };
}

export function registerLineageRoutes(app: ZodRouter, options: LineageRoutesOptions): void {
  const { follower, store } = options;

  /** Indexes what the log holds before answering: up to the service's size, or `asOf`. */
  async function current(asOf?: number): Promise<void> {
    const known = options.logSize?.() ?? 0;
    if (known > follower.size || (asOf !== undefined && asOf > follower.size)) await follower.catchUp();
  }

  async function runTrace(q: s.TraceQueryString): Promise<TraceResult> {
    await current(q.asOf);
    return lineage(() => trace(follower.index, toTraceQuery(q)));
  }

  void app.register(async (r: ZodRouter) => {
    // Lineage errors keep their codes; anything else goes on to the app's handler.
    r.setErrorHandler((error, request, reply) => {
      const e = error instanceof LineageError ? fromLineageError(error) : error;
      if (!(e instanceof LineageHttpError)) throw error;
      if (e.statusCode >= 500) request.log.error({ err: error }, 'lineage request failed');
      else request.log.info({ code: e.code }, e.message);
      return reply.code(e.statusCode).send({ code: e.code, message: e.message, details: e.details });
    });

    r.get(
      '/v1/lineage/trace',
      {
        schema: {
          summary:
            'Upstream or downstream lineage of an event, dataset (version) or source, with completeness and a checkpoint',
          tags: ['lineage'],
          querystring: s.traceQuery,
          response: { 200: s.traceResponse, ...errorResponses },
        },
      },
      async (request) => {
        const result = await runTrace(request.query);
        return { ...result, checkpoint: await checkpointFor(store, result.asOf) };
      },
    );

    r.get(
      '/v1/lineage/export',
      {
        schema: {
          summary: 'The nodes of a trace as a PROV-JSON document or OpenLineage run events',
          tags: ['lineage'],
          querystring: s.exportQuery,
          response: { 200: s.exportResponse, ...errorResponses },
        },
      },
      async (request, reply) => {
        const result = await runTrace(request.query);
        const entries: LedgerEntryInput[] = await readEntries(
          store,
          result.nodes.map((n) => n.event),
        );
        // PROV-JSON allows no other root members: what the answer stands for goes in headers.
        void reply.header('civic-ledger-as-of', String(result.asOf));
        void reply.header('civic-ledger-complete', String(result.complete));
        if (result.next !== undefined) void reply.header('civic-ledger-next', result.next);
        if (request.query.format === 'prov') {
          return toProvJson(entries, {
            ...(options.provNamespace === undefined ? {} : { namespace: options.provNamespace }),
          }) as unknown as Record<string, unknown>;
        }
        return { events: toOpenLineage(entries, { ...options.openLineage }) };
      },
    );

    const bundle = options.bundle;
    if (bundle) {
      r.get(
        '/v1/lineage/bundle',
        {
          schema: {
            summary: 'A partial evidence bundle of the nodes of a trace (files as JSON, verifiable offline)',
            tags: ['lineage'],
            querystring: s.traceQuery,
            response: { 200: s.bundleResponse, ...errorResponses },
          },
        },
        async (request) => {
          const result = await runTrace(request.query);
          if (result.nodes.length === 0)
            throw new LineageHttpError(
              'NOT_FOUND',
              'the answer has no events to bundle (all hidden by filters?)',
              meta(result),
            );
          const cp = await checkpointFor(store, result.asOf);
          if (!cp)
            throw new LineageHttpError(
              'CHECKPOINT_NOT_FOUND',
              `no signed checkpoint covers tree size ${result.asOf} yet; retry after the checkpoint delay`,
              { asOf: result.asOf },
            );
          const dir = await mkdtemp(join(tmpdir(), 'lineage-bundle-'));
          try {
            const manifest = await writePartialBundle(
              join(dir, 'b'),
              {
                size: async () => cp.size,
                leaves: (from, to) => store.getLeaves(from, to),
                checkpoints: async () => [cp.note],
              },
              {
                logKey: bundle.logKey,
                origin: bundle.origin,
                indexes: result.nodes.map((n) => n.index),
                checkpoint: cp.size,
                proofs: storeProofProvider(store),
              },
            );
            const files: Record<string, string> = {};
            for (const f of [ENTRIES_FILE, CHECKPOINTS_FILE, PROOFS_FILE])
              files[f] = await readFile(join(dir, 'b', f), 'utf8');
            return { manifest: manifest as unknown as Record<string, unknown>, files, ...meta(result) };
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        },
      );
    }

    r.get(
      '/v1/lineage/footprint',
      {
        schema: {
          summary: "Everything downstream of a source's collections, summarised",
          tags: ['lineage'],
          querystring: s.footprintQuery,
          response: { 200: s.footprintResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { source, asOf, depth } = request.query;
        await current(asOf);
        return lineage(() =>
          footprint(follower.index, source, { depth, ...(asOf === undefined ? {} : { asOf }) }),
        ) as unknown as Record<string, unknown>;
      },
    );

    r.get(
      '/v1/lineage/flows',
      {
        schema: {
          summary: 'Transfers between organizations in a time window',
          tags: ['lineage'],
          querystring: s.flowsQuery,
          response: { 200: s.flowsResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { from, until, asOf } = request.query;
        await current(asOf);
        return lineage(() =>
          flows(follower.index, { from, until, ...(asOf === undefined ? {} : { asOf }) }),
        ) as unknown as Record<string, unknown>;
      },
    );

    r.get(
      '/api/v1/lineage',
      {
        schema: {
          summary: 'Marquez-compatible lineage graph of a dataset (datasets and jobs, both directions)',
          tags: ['lineage'],
          querystring: s.marquezQuery,
          response: { 200: s.marquezResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { nodeId, depth, asOf } = request.query;
        const dataset = datasetIdOfNode(nodeId);
        if (dataset === undefined)
          throw new LineageHttpError(
            'SCHEMA_INVALID',
            'querystring /nodeId: dataset:<namespace>:<name> (only dataset nodes)',
            {
              in: 'querystring',
              issues: [{ path: '/nodeId', rule: 'dataset:<namespace>:<name>' }],
            },
          );
        await current(asOf);
        const base = {
          from: { dataset },
          depth,
          page: { limit: s.MAX_HTTP_PAGE },
          ...(asOf === undefined ? {} : { asOf }),
        };
        const up = lineage(() => trace(follower.index, { ...base, direction: 'upstream' }));
        const down = lineage(() =>
          trace(follower.index, { ...base, direction: 'downstream', asOf: up.asOf }),
        );
        const nodes = new Map<string, LineageNode>();
        for (const n of [...up.nodes, ...down.nodes]) if (!nodes.has(n.event)) nodes.set(n.event, n);
        const edges = new Map<string, LineageEdge>();
        for (const e of [...up.edges, ...down.edges]) edges.set(`${e.from}${e.to}`, e);
        const streams = new Map<string, string>();
        for (const l of await readEntries(store, [...nodes.keys()]))
          streams.set(l.eventHash, String(l.event['stream']));
        const incomplete = [
          ...up.incomplete,
          ...down.incomplete.filter(
            (i) => !up.incomplete.some((u) => u.reason === i.reason && u.detail === i.detail),
          ),
        ];
        return {
          graph: toMarquezGraph([...nodes.values()], [...edges.values()], streams),
          complete: incomplete.length === 0,
          incomplete,
          asOf: up.asOf,
        };
      },
    );
  });
}
