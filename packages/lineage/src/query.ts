// Query objects: zod schemas (errors name the field and the rule), start resolution and
// page cursors.
import {
  MOVEMENT_TYPES,
  digest,
  eventHash,
  orgId,
  resourceId,
  termId,
  timestamp,
} from '@civic-ledger/schemas';
import { z } from 'zod';
import { LineageError, type QueryIssue } from './errors.ts';

export const MAX_DEPTH = 1000;
export const MAX_PAGE = 10_000;
export const DEFAULT_PAGE = 1000;
export const DEFAULT_DEPTH = 20;

const asOf = z.number().int('asOf: an integer tree size').min(0, 'asOf: a tree size >= 0');

export const startSchema = z
  .strictObject({
    event: eventHash.optional(),
    dataset: resourceId.optional(),
    version: digest.optional(),
    source: resourceId.optional(),
  })
  .superRefine((s, ctx) => {
    const given = [s.event, s.dataset, s.source].filter((x) => x !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({ code: 'custom', message: 'exactly one of event, dataset or source' });
    }
    if (s.version !== undefined && s.dataset === undefined) {
      ctx.addIssue({ code: 'custom', path: ['version'], message: 'version only with dataset' });
    }
  });

const window = {
  from: timestamp.optional(),
  until: timestamp.optional(),
};
function windowOrdered(
  w: { from?: string | undefined; until?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (w.from !== undefined && w.until !== undefined && Date.parse(w.until) <= Date.parse(w.from)) {
    ctx.addIssue({ code: 'custom', path: ['until'], message: 'until must be after from' });
  }
}

export const filtersSchema = z
  .strictObject({
    purposes: z.array(termId).min(1).max(64).optional(),
    organizations: z.array(orgId).min(1).max(64).optional(),
    types: z.array(z.enum(MOVEMENT_TYPES)).min(1).optional(),
    ...window,
  })
  .superRefine(windowOrdered);

export const traceQuerySchema = z.strictObject({
  from: startSchema,
  direction: z.enum(['upstream', 'downstream']),
  depth: z.number().int().min(0).max(MAX_DEPTH).default(DEFAULT_DEPTH),
  filters: filtersSchema.default({}),
  asOf: asOf.optional(),
  page: z
    .strictObject({
      limit: z.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
      cursor: z.string().max(1000).optional(),
    })
    .default({ limit: DEFAULT_PAGE }),
});

export const footprintOptionsSchema = z.strictObject({
  asOf: asOf.optional(),
  depth: z.number().int().min(0).max(MAX_DEPTH).optional(),
});

export const flowsQuerySchema = z
  .strictObject({ from: timestamp, until: timestamp, asOf: asOf.optional() })
  .superRefine(windowOrdered);

export type Start = z.input<typeof startSchema>;
export type TraceFilters = z.input<typeof filtersSchema>;
export type TraceQuery = z.input<typeof traceQuerySchema>;
export type ParsedTraceQuery = z.output<typeof traceQuerySchema>;
export type FootprintOptions = z.input<typeof footprintOptionsSchema>;
export type FlowsQuery = z.input<typeof flowsQuerySchema>;

/** Parses with `schema` or throws QUERY_INVALID naming every field and rule. */
export function parseQuery<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues: QueryIssue[] = r.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    rule: i.message,
  }));
  throw new LineageError(
    'QUERY_INVALID',
    `${what}: ${issues.map((i) => `${i.path}: ${i.rule}`).join('; ')}`,
    { issues },
  );
}

// Cursors: the position (depth, ledger index) of the last node returned, the as-of size
// the first page was answered at (later pages answer at the same size, so a growing log
// never shifts them) and a fingerprint of the rest of the query.
interface CursorBody {
  v: 1;
  f: string;
  a: number;
  d: number;
  i: number;
}

export function fingerprint(q: ParsedTraceQuery): string {
  const f = q.filters;
  const text = JSON.stringify([
    q.from.event ?? null,
    q.from.dataset ?? null,
    q.from.version ?? null,
    q.from.source ?? null,
    q.direction,
    q.depth,
    [...(f.purposes ?? [])].sort(),
    [...(f.organizations ?? [])].sort(),
    [...(f.types ?? [])].sort(),
    f.from ?? null,
    f.until ?? null,
  ]);
  // FNV-1a: a cursor is a position, not a secret; this only catches a cursor reused with another query.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function encodeCursor(c: Omit<CursorBody, 'v'>): string {
  return Buffer.from(JSON.stringify({ v: 1, ...c })).toString('base64url');
}

export function decodeCursor(text: string): CursorBody {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new LineageError('CURSOR_INVALID', 'page.cursor: not a cursor of this library', { cause });
  }
  const b = body as Partial<CursorBody> | null;
  const int = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (
    b === null ||
    typeof b !== 'object' ||
    b.v !== 1 ||
    typeof b.f !== 'string' ||
    !int(b.a) ||
    !int(b.d) ||
    !int(b.i)
  ) {
    throw new LineageError('CURSOR_INVALID', 'page.cursor: not a cursor of this library');
  }
  return b as CursorBody;
}
