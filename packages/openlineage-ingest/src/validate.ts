// Validation of incoming OpenLineage events against the official 2-0-2 JSON Schemas (draft
// 2020-12) and the facet schemas, from the copies in ../schemas: every schema is registered
// under its public $id, so no $ref is ever fetched.
import { readdirSync, readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { OpenLineageIngestError, type IngestIssue } from './errors.ts';

export const OPENLINEAGE_SCHEMA_ID = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';

const SCHEMA_DIR = new URL('../schemas/', import.meta.url);

type Schema = { $id: string; $defs?: Record<string, unknown>; properties?: Record<string, unknown> };

function load(rel: string): Schema {
  return JSON.parse(readFileSync(new URL(rel, SCHEMA_DIR), 'utf8')) as Schema;
}

/** A run facet schema (under run.facets), or a dataset facet schema (under inputs/outputs[].facets). */
function facetKind(schema: Schema): 'run' | 'dataset' | 'other' {
  const text = JSON.stringify(schema.$defs ?? {});
  if (text.includes('OpenLineage.json#/$defs/RunFacet')) return 'run';
  if (text.includes('OpenLineage.json#/$defs/DatasetFacet')) return 'dataset';
  return 'other';
}

interface Compiled {
  run: ValidateFunction;
  dataset: ValidateFunction;
  job: ValidateFunction;
  runFacets: { id: string; fn: ValidateFunction }[];
  datasetFacets: { id: string; fn: ValidateFunction }[];
}

let compiled: Compiled | undefined;

function compile(): Compiled {
  if (compiled) return compiled;
  // strict: false because ajv's strict mode lints schema style (OpenLineage uses `example`),
  // which is not ours to change; validation itself is exact.
  const ajv = new Ajv2020.default({ allErrors: true, strict: false });
  addFormats.default(ajv);
  ajv.addSchema(load('OpenLineage.json'));
  const facets = readdirSync(new URL('facets/', SCHEMA_DIR))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => load(`facets/${f}`));
  for (const f of facets) ajv.addSchema(f);
  const get = (ref: string) => {
    const fn = ajv.getSchema(ref);
    if (!fn) throw new Error(`openlineage-ingest: schema ${ref} is missing from schemas/`);
    return fn;
  };
  compiled = {
    run: get(`${OPENLINEAGE_SCHEMA_ID}#/$defs/RunEvent`),
    dataset: get(`${OPENLINEAGE_SCHEMA_ID}#/$defs/DatasetEvent`),
    job: get(`${OPENLINEAGE_SCHEMA_ID}#/$defs/JobEvent`),
    // A facet file's root schema constrains its own key of a facets map (e.g. `version`).
    runFacets: facets.filter((f) => facetKind(f) === 'run').map((f) => ({ id: f.$id, fn: get(f.$id) })),
    datasetFacets: facets
      .filter((f) => facetKind(f) === 'dataset')
      .map((f) => ({ id: f.$id, fn: get(f.$id) })),
  };
  return compiled;
}

function issuesOf(errors: ErrorObject[] | null | undefined, base: string, schemaBase: string): IngestIssue[] {
  return (errors ?? []).map((e) => ({
    path: `${base}${e.instancePath}` || '/',
    rule: e.message ?? e.keyword,
    code: e.keyword,
    schemaPath: `${schemaBase}${e.schemaPath}`,
  }));
}

export type OpenLineageEventKind = 'run' | 'dataset' | 'job';

/** A run event as far as this package reads it (the schema has checked the rest). */
export interface OpenLineageDataset {
  namespace: string;
  name: string;
  facets?: Record<string, unknown>;
  inputFacets?: Record<string, unknown>;
  outputFacets?: Record<string, unknown>;
}
export interface OpenLineageRunEvent {
  eventTime: string;
  producer: string;
  schemaURL: string;
  eventType?: 'START' | 'RUNNING' | 'COMPLETE' | 'ABORT' | 'FAIL' | 'OTHER';
  run: { runId: string; facets?: Record<string, unknown> };
  job: { namespace: string; name: string; facets?: Record<string, unknown> };
  inputs?: OpenLineageDataset[];
  outputs?: OpenLineageDataset[];
}

export type ValidatedOpenLineageEvent =
  { kind: 'run'; event: OpenLineageRunEvent } | { kind: 'dataset' | 'job'; event: Record<string, unknown> };

/**
 * Validates one OpenLineage event: a RunEvent (has `run`), a DatasetEvent (has `dataset`) or a
 * JobEvent, then the facets of the facet schemas shipped in schemas/facets. Throws
 * RUN_EVENT_INVALID with `details.issues` ({ path, rule, code, schemaPath }); the message
 * names the first failing path.
 */
export function validateOpenLineageEvent(value: unknown): ValidatedOpenLineageEvent {
  const c = compile();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid([{ path: '/', rule: 'must be an object (an OpenLineage event)', code: 'type' }]);
  }
  const v = value as Record<string, unknown>;
  const kind: OpenLineageEventKind = 'run' in v ? 'run' : 'dataset' in v ? 'dataset' : 'job';
  const fn = kind === 'run' ? c.run : kind === 'dataset' ? c.dataset : c.job;
  const def = kind === 'run' ? 'RunEvent' : kind === 'dataset' ? 'DatasetEvent' : 'JobEvent';
  if (!fn(value)) throw invalid(issuesOf(fn.errors, '', `${OPENLINEAGE_SCHEMA_ID}#/$defs/${def}`));
  if (kind !== 'run') return { kind, event: v };

  const run = value as OpenLineageRunEvent;
  const issues: IngestIssue[] = [];
  const check = (facets: unknown, base: string, list: { id: string; fn: ValidateFunction }[]) => {
    if (facets === undefined) return;
    for (const f of list) if (!f.fn(facets)) issues.push(...issuesOf(f.fn.errors, base, f.id));
  };
  check(run.run.facets, '/run/facets', c.runFacets);
  for (const side of ['inputs', 'outputs'] as const) {
    (run[side] ?? []).forEach((d, i) => check(d.facets, `/${side}/${i}/facets`, c.datasetFacets));
  }
  if (issues.length > 0) throw invalid(issues);
  return { kind, event: run };
}

function invalid(issues: IngestIssue[]): OpenLineageIngestError {
  const first = issues[0] ?? { path: '/', rule: 'invalid' };
  return new OpenLineageIngestError(
    'RUN_EVENT_INVALID',
    `not a valid OpenLineage 2-0-2 event: ${first.path}: ${first.rule}`,
    { issues },
  );
}
