// Query and response schemas of the lineage routes (zod): fastify validates with them and
// the OpenAPI document at /docs/json is generated from them. Identifiers, purposes and times
// are checked by the lineage library's own schemas, whose issues name the parameter.
import { z } from 'zod';

/** Largest depth a request may ask for (the library allows more; HTTP bounds the work). */
export const MAX_HTTP_DEPTH = 50;
/** Largest page of nodes. */
export const MAX_HTTP_PAGE = 1000;

const int = z.coerce.number().int();
/** One value, or the parameter repeated (`?type=derive&type=transfer`). */
const list = (what: string) =>
  z
    .union([z.string().max(200), z.array(z.string().max(200)).max(64)])
    .optional()
    .describe(`${what}; repeat the parameter for several (any of them matches)`);

export const selection = {
  event: z.string().max(64).optional().describe('Start: one event (hash)'),
  dataset: z.string().max(200).optional().describe('Start: every movement of a dataset (id)'),
  version: z.string().max(71).optional().describe('With dataset: only that version (sha256:<hex>)'),
  source: z.string().max(200).optional().describe('Start: every collect of a source (id)'),
};

export const traceQuery = z.object({
  ...selection,
  direction: z
    .enum(['upstream', 'downstream'])
    .describe('upstream: where it came from; downstream: where it went'),
  depth: int.min(0).max(MAX_HTTP_DEPTH).default(20).describe('Steps from the start (0..50)'),
  purpose: list('Only nodes with this purpose'),
  organization: list('Only nodes emitted or received by this organization'),
  type: list('Only movements of this type'),
  from: z.string().max(40).optional().describe('Only nodes claimed at or after this time (RFC 3339)'),
  until: z.string().max(40).optional().describe('Only nodes claimed before this time (RFC 3339)'),
  asOf: int.min(0).optional().describe('Answer as of this tree size (default: every entry indexed)'),
  limit: int.min(1).max(MAX_HTTP_PAGE).default(MAX_HTTP_PAGE).describe('Nodes per page (1..1000)'),
  cursor: z.string().max(1000).optional().describe('`next` of the previous page'),
});
export type TraceQueryString = z.infer<typeof traceQuery>;

export const exportQuery = traceQuery.extend({
  format: z.enum(['prov', 'openlineage']).describe('PROV-JSON document or OpenLineage run events'),
});

export const footprintQuery = z.object({
  source: z.string().max(200).describe('Source id'),
  asOf: int.min(0).optional(),
  depth: int.min(0).max(MAX_HTTP_DEPTH).default(MAX_HTTP_DEPTH).describe('Steps downstream (0..50)'),
});

export const flowsQuery = z.object({
  from: z.string().max(40).describe('Window start (RFC 3339, inclusive, claimed time)'),
  until: z.string().max(40).describe('Window end (RFC 3339, exclusive)'),
  asOf: int.min(0).optional(),
});

export const marquezQuery = z.object({
  nodeId: z.string().max(300).describe('dataset:<namespace>:<name> (namespace: the owning organization)'),
  depth: int.min(0).max(MAX_HTTP_DEPTH).default(20).describe('Event steps up- and downstream (0..50)'),
  asOf: int.min(0).optional().describe('Civic Ledger extension: answer as of this tree size'),
});

const incompleteness = z.object({
  reason: z.enum(['depth', 'page', 'filter', 'time', 'as-of', 'missing']),
  count: z.number().int().optional(),
  detail: z.string(),
});

export const checkpointRef = z
  .object({
    size: z.number().int().nonnegative(),
    note: z.string().describe('The signed note (C2SP tlog-checkpoint)'),
    exact: z
      .boolean()
      .describe("true: its size is the answer's asOf; false: the smallest larger signed size"),
  })
  .nullable()
  .describe('A signed checkpoint whose tree holds every node of the answer; null when none is signed yet');

export const lineageNode = z.object({
  event: z.string(),
  index: z.number().int(),
  type: z.string(),
  emitter: z.string(),
  purpose: z.string(),
  recipient: z.string().optional(),
  source: z.string().optional(),
  dataset: z.object({ id: z.string(), version: z.string() }),
  time: z.string(),
  admitted: z.string(),
  categories: z.array(z.string()),
  ownCategories: z.boolean(),
  depth: z.number().int(),
});

const completeness = {
  complete: z.boolean(),
  incomplete: z.array(incompleteness),
  asOf: z.number().int().describe('The tree size the answer stands for'),
};

export const traceResponse = z.object({
  nodes: z.array(lineageNode),
  edges: z.array(z.object({ from: z.string(), to: z.string() })),
  ...completeness,
  next: z.string().optional().describe('Cursor of the next page'),
  checkpoint: checkpointRef,
});

export const bundleResponse = z.object({
  manifest: z.record(z.string(), z.unknown()).describe('bundle.json (a partial evidence bundle manifest)'),
  files: z
    .record(z.string(), z.string())
    .describe('entries.jsonl, checkpoints.jsonl, proofs.jsonl: the exact file texts'),
  ...completeness,
  next: z.string().optional(),
});

const loose = (what: string) => z.record(z.string(), z.unknown()).describe(what);

export const footprintResponse = loose('The footprint (see @civic-ledger/lineage README)');
export const flowsResponse = loose('Flows between organizations (see @civic-ledger/lineage README)');
export const exportResponse = loose('PROV-JSON document, or { events: [OpenLineage run events] }');

const marquezEdge = z.object({ origin: z.string(), destination: z.string() });
export const marquezResponse = z.object({
  graph: z.array(
    z.object({
      id: z.string(),
      type: z.enum(['DATASET', 'JOB']),
      data: z.record(z.string(), z.unknown()),
      inEdges: z.array(marquezEdge),
      outEdges: z.array(marquezEdge),
    }),
  ),
  ...completeness,
});
