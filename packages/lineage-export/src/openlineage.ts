// OpenLineage 2-0-2 run events of the `derive` steps among ledger entries: one run per
// derive event (a START and a COMPLETE with the same runId). The mapping is in README.md.
import { isMovement, timeToMillis, type DeriveEvent } from '@civic-ledger/schemas';
import { checkEntries, type EntryCheckOptions, type LedgerEntry, type LedgerEntryInput } from './entries.ts';
import { LineageExportError } from './errors.ts';

/** The package version, named in the default producer URI. */
export const LINEAGE_EXPORT_VERSION = '0.1.0';
/** `producer` (and every facet's `_producer`) unless the caller names its deployment. */
export const DEFAULT_PRODUCER = `urn:civic-ledger:lineage-export:${LINEAGE_EXPORT_VERSION}`;
/** Namespace of every dataset unless the caller gives its own (one ledger, one namespace). */
export const DEFAULT_OPENLINEAGE_NAMESPACE = 'civic-ledger';
/** Where the schema of our own run facet lives, unless the caller hosts it elsewhere. */
export const DEFAULT_FACET_SCHEMA_BASE = 'urn:civic-ledger:spec:facets:1-0-0:';

const CORE = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
export const RUN_EVENT_SCHEMA_URL = `${CORE}#/$defs/RunEvent`;
/** `_schemaURL` of each standard facet this exporter writes (the facet's `$id` + its `$defs` entry). */
export const FACET_SCHEMA_URLS = {
  version:
    'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet',
  ownership:
    'https://openlineage.io/spec/facets/1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet',
  schema: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  columnLineage:
    'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet',
  lineage: 'https://openlineage.io/spec/facets/1-0-0/LineageFacet.json#/$defs/LineageDatasetFacet',
} as const;
/** Key of our run facet (custom facets are `{prefix}_{name}`). */
export const LEDGER_ENTRY_FACET_KEY = 'civicLedger_ledgerEntry';
const LEDGER_ENTRY_FACET_NAME = 'CivicLedgerLedgerEntryRunFacet';

export interface OpenLineageExportOptions extends EntryCheckOptions {
  /** URI naming the exporting deployment and its version. */
  readonly producer?: string;
  /** Namespace of the datasets; jobs are in `<namespace>/<emitter>`. */
  readonly namespace?: string;
  /** URI prefix of our facet schema's `$id` (see `ledgerEntryRunFacetSchema`). */
  readonly facetSchemaBase?: string;
}

export interface OpenLineageFacet {
  readonly _producer: string;
  readonly _schemaURL: string;
  readonly [field: string]: unknown;
}
export interface OpenLineageDataset {
  readonly namespace: string;
  readonly name: string;
  readonly facets: Record<string, OpenLineageFacet>;
}
export interface OpenLineageRunEvent {
  readonly eventType: 'START' | 'COMPLETE';
  readonly eventTime: string;
  readonly producer: string;
  readonly schemaURL: string;
  readonly run: { readonly runId: string; readonly facets: Record<string, OpenLineageFacet> };
  readonly job: { readonly namespace: string; readonly name: string };
  readonly inputs: readonly OpenLineageDataset[];
  readonly outputs: readonly OpenLineageDataset[];
}

const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

/**
 * A deterministic UUIDv7 for the run of a derive event: the event's claimed time in the
 * 48-bit millisecond field (so runs sort by time, as OpenLineage recommends) and the
 * event hash in the 74 random bits.
 */
export function runIdOf(eventHash: string, time: string): string {
  const ms = timeToMillis(time);
  const ts = Math.max(0, ms).toString(16).padStart(12, '0').slice(-12);
  const variant = ((parseInt(eventHash[3]!, 16) & 0x3) | 0x8).toString(16);
  return [
    ts.slice(0, 8),
    ts.slice(8, 12),
    `7${eventHash.slice(0, 3)}`,
    `${variant}${eventHash.slice(4, 7)}`,
    eventHash.slice(7, 19),
  ].join('-');
}

/** The JSON Schema (2020-12) of our run facet, with its `$id` under `base`. Host it there. */
export function ledgerEntryRunFacetSchema(base: string = DEFAULT_FACET_SCHEMA_BASE): Record<string, unknown> {
  const hash = { type: 'string', pattern: '^[0-9a-f]{64}$' };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${base}${LEDGER_ENTRY_FACET_NAME}.json`,
    $defs: {
      [LEDGER_ENTRY_FACET_NAME]: {
        description:
          'The Civic Ledger entry this run was exported from. inputs/outputs of the run are exactly the datasets the signed derive event names (no all-to-all lineage).',
        type: 'object',
        allOf: [
          { $ref: `${CORE}#/$defs/RunFacet` },
          {
            type: 'object',
            properties: {
              eventHash: hash,
              ledgerIndex: { type: 'integer', minimum: 0 },
              admitted: { type: 'string', format: 'date-time' },
              emitter: { type: 'string' },
              stream: { type: 'string' },
              seq: { type: 'integer', minimum: 1 },
              key: { type: 'string' },
              purpose: { type: 'string' },
              declaration: hash,
              processing: { type: 'array', items: { type: 'string' } },
              categories: { type: 'array', items: { type: 'string' } },
              personalData: { type: 'string' },
              anonymisation: {
                type: 'object',
                properties: {
                  technique: { type: 'string' },
                  assessment: { type: 'string' },
                  parameter: { type: 'number' },
                },
                required: ['technique', 'assessment'],
              },
              records: { type: 'integer', minimum: 0 },
              inputEvents: { type: 'array', items: hash },
              unresolvedInputEvents: { type: 'array', items: hash },
              exactInputs: { const: true },
            },
            required: [
              'eventHash',
              'ledgerIndex',
              'admitted',
              'emitter',
              'stream',
              'seq',
              'key',
              'purpose',
              'declaration',
              'inputEvents',
              'unresolvedInputEvents',
              'exactInputs',
            ],
          },
        ],
      },
    },
    type: 'object',
    properties: { [LEDGER_ENTRY_FACET_KEY]: { $ref: `#/$defs/${LEDGER_ENTRY_FACET_NAME}` } },
  };
}

/** OpenLineage run events (START, COMPLETE) of every `derive` among the entries, in ledger order. */
export function toOpenLineage(
  entries: readonly LedgerEntryInput[],
  options: OpenLineageExportOptions = {},
): OpenLineageRunEvent[] {
  const producer = options.producer ?? DEFAULT_PRODUCER;
  const namespace = options.namespace ?? DEFAULT_OPENLINEAGE_NAMESPACE;
  const base = options.facetSchemaBase ?? DEFAULT_FACET_SCHEMA_BASE;
  if (!URI.test(producer))
    throw new LineageExportError('OPTION_INVALID', 'producer', 'must be an absolute URI');
  if (!URI.test(base))
    throw new LineageExportError('OPTION_INVALID', 'facetSchemaBase', 'must be an absolute URI');
  if (namespace.length === 0 || /\s/.test(namespace))
    throw new LineageExportError('OPTION_INVALID', 'namespace', 'must be non-empty, without spaces');
  const checked = checkEntries(entries, options);
  const byHash = new Map(checked.map((e) => [e.eventHash, e]));
  const out: OpenLineageRunEvent[] = [];
  for (const entry of checked) {
    if (entry.event.type !== 'derive') continue;
    out.push(...runEvents(entry, entry.event, byHash, { producer, namespace, base }));
  }
  return out;
}

interface Ctx {
  readonly producer: string;
  readonly namespace: string;
  readonly base: string;
}

function runEvents(
  entry: LedgerEntry,
  e: DeriveEvent,
  byHash: ReadonlyMap<string, LedgerEntry>,
  ctx: Ctx,
): OpenLineageRunEvent[] {
  const facet = (schemaURL: string, fields: Record<string, unknown>): OpenLineageFacet => ({
    _producer: ctx.producer,
    _schemaURL: schemaURL,
    ...fields,
  });

  // Input datasets: exactly those of the input events, one per distinct dataset version.
  const inputs: OpenLineageDataset[] = [];
  const seen = new Set<string>();
  const unresolved: string[] = [];
  for (const h of e.inputs) {
    const upstream = byHash.get(h)?.event;
    if (!upstream || !isMovement(upstream)) {
      unresolved.push(h);
      continue;
    }
    const { id, version } = upstream.dataset;
    if (seen.has(`${id}@${version}`)) continue;
    seen.add(`${id}@${version}`);
    inputs.push({
      namespace: ctx.namespace,
      name: id,
      facets: { version: facet(FACET_SCHEMA_URLS.version, { datasetVersion: version }) },
    });
  }
  const inputNames = [...new Set(inputs.map((d) => d.name))];

  const outFacets: Record<string, OpenLineageFacet> = {
    version: facet(FACET_SCHEMA_URLS.version, { datasetVersion: e.dataset.version }),
    ownership: facet(FACET_SCHEMA_URLS.ownership, {
      owners: [{ name: `organization:${e.emitter}`, type: 'EMITTER' }],
    }),
    // OpenLineage's experimental explicit-lineage facet: this output comes from exactly these inputs.
    lineage: facet(FACET_SCHEMA_URLS.lineage, {
      inputs: inputNames.map((name) => ({ namespace: ctx.namespace, name, type: 'DATASET' })),
    }),
  };
  const columns = e.columns ?? [];
  if (columns.length > 0) {
    outFacets['schema'] = facet(FACET_SCHEMA_URLS.schema, {
      fields: columns.map((c) => ({ name: c.output })),
    });
    // Column names in a derive event are not qualified by dataset, so they can only be
    // placed when every input is known and all inputs are versions of one dataset.
    const only = inputNames.length === 1 && unresolved.length === 0 ? inputNames[0] : undefined;
    if (only !== undefined) {
      outFacets['columnLineage'] = facet(FACET_SCHEMA_URLS.columnLineage, {
        fields: Object.fromEntries(
          columns.map((c) => [
            c.output,
            {
              inputFields: c.inputs.map((field) => ({
                namespace: ctx.namespace,
                name: only,
                field,
                transformations: [
                  {
                    type: c.transformation === 'direct' ? 'DIRECT' : 'INDIRECT',
                    ...(c.masked !== undefined ? { masking: c.masked } : {}),
                  },
                ],
              })),
            },
          ]),
        ),
      });
      const inputColumns = [...new Set(columns.flatMap((c) => c.inputs))];
      for (const d of inputs) {
        d.facets['schema'] = facet(FACET_SCHEMA_URLS.schema, {
          fields: inputColumns.map((name) => ({ name })),
        });
      }
    }
  }
  const outputs: OpenLineageDataset[] = [{ namespace: ctx.namespace, name: e.dataset.id, facets: outFacets }];

  const ledgerEntry = facet(`${ctx.base}${LEDGER_ENTRY_FACET_NAME}.json#/$defs/${LEDGER_ENTRY_FACET_NAME}`, {
    eventHash: entry.eventHash,
    ledgerIndex: entry.index,
    admitted: entry.admitted,
    emitter: e.emitter,
    stream: e.stream,
    seq: e.seq,
    key: e.key,
    purpose: e.purpose,
    declaration: e.declaration,
    processing: e.processing,
    categories: e.categories,
    personalData: e.personalData,
    ...(e.anonymisation ? { anonymisation: e.anonymisation } : {}),
    ...(e.records !== undefined ? { records: e.records } : {}),
    inputEvents: e.inputs,
    unresolvedInputEvents: unresolved,
    exactInputs: true,
  });
  const run = { runId: runIdOf(entry.eventHash, e.time), facets: { [LEDGER_ENTRY_FACET_KEY]: ledgerEntry } };
  const job = { namespace: `${ctx.namespace}/${e.emitter}`, name: `${e.stream}/${e.dataset.id}` };
  const base = {
    eventTime: e.time,
    producer: ctx.producer,
    schemaURL: RUN_EVENT_SCHEMA_URL,
    run,
    job,
    inputs,
    outputs,
  };
  return [
    { eventType: 'START', ...base },
    { eventType: 'COMPLETE', ...base },
  ];
}
