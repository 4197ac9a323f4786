import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { COUNTS, demoCityEntries, RAW, tinyChain } from './fixtures.test-support.ts';
import {
  DEFAULT_PRODUCER,
  ledgerEntryRunFacetSchema,
  runIdOf,
  toOpenLineage,
  type OpenLineageFacet,
  type OpenLineageRunEvent,
} from './index.ts';

const SPECS = fileURLToPath(new URL('../../../specs/openlineage/', import.meta.url));
const CORE_ID = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
const load = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(SPECS + path, 'utf8')) as Record<string, unknown>;

let ajv: InstanceType<typeof Ajv2020.default>;

beforeAll(() => {
  // Every schema is registered under its public $id from the local copies, and no
  // `loadSchema` is given: a $ref to anything not registered makes compilation throw,
  // so a missing schema fails the test instead of being fetched.
  // strict: false because ajv's strict mode lints schema style (OpenLineage's `example`
  // keyword, `required` inside `not`), which does not change what validates.
  ajv = new Ajv2020.default({ allErrors: true, strict: false });
  addFormats.default(ajv);
  ajv.addSchema(load('OpenLineage.json'));
  for (const f of readdirSync(SPECS + 'facets')
    .filter((n) => n.endsWith('.json'))
    .sort())
    ajv.addSchema(load(`facets/${f}`));
  ajv.addSchema(ledgerEntryRunFacetSchema());
});

function errorsOf(schemaUrl: string, value: unknown): unknown[] {
  const validate = ajv.getSchema(schemaUrl);
  if (!validate) throw new Error(`no local schema for ${schemaUrl}`);
  return validate(value) ? [] : (validate.errors ?? ['invalid']).slice(0, 5);
}

/** The facet maps of an event, each as [where, key, facet]. */
function facetsOf(ev: OpenLineageRunEvent): [string, string, OpenLineageFacet][] {
  const out: [string, string, OpenLineageFacet][] = [];
  for (const [k, f] of Object.entries(ev.run.facets)) out.push(['run', k, f]);
  for (const [side, list] of [
    ['inputs', ev.inputs],
    ['outputs', ev.outputs],
  ] as const)
    list.forEach((d, i) => {
      for (const [k, f] of Object.entries(d.facets)) out.push([`${side}[${i}]`, k, f]);
    });
  return out;
}

/** Valid against the core schema, and every facet against its own schema (by its _schemaURL). */
function expectValid(events: readonly OpenLineageRunEvent[]): Set<string> {
  const used = new Set<string>();
  for (const ev of events) {
    expect(errorsOf(CORE_ID, ev), ev.run.runId).toEqual([]);
    for (const [where, key, f] of facetsOf(ev)) {
      used.add(f._schemaURL);
      // The facet object against its definition, and under its key against the facet file
      // (which pins the key a facet must be published under).
      expect(errorsOf(f._schemaURL, f), `${where}.${key}`).toEqual([]);
      const fileId = f._schemaURL.slice(0, f._schemaURL.indexOf('#'));
      expect(errorsOf(fileId, { [key]: f }), `${where}.${key} under its key`).toEqual([]);
    }
  }
  return used;
}

describe('the validation set-up', () => {
  it('fails on a schema that is not available locally instead of fetching it', () => {
    const local = new Ajv2020.default({ strict: false });
    // A facet schema without the core schema it $refs: compiling must throw.
    expect(() => local.compile(load('facets/DatasetVersionDatasetFacet.json'))).toThrow(
      /can't resolve reference/,
    );
  });

  it('rejects an event that breaks the core schema or a facet schema', () => {
    const [start] = toOpenLineage(tinyChain().entries) as [OpenLineageRunEvent];
    expect(errorsOf(CORE_ID, { ...start, run: { runId: 'not-a-uuid' } })).not.toEqual([]);
    const version = start.outputs[0]!.facets['version']!;
    expect(errorsOf(version._schemaURL, { ...version, datasetVersion: 7 })).not.toEqual([]);
  });
});

describe('OpenLineage of collect -> transfer -> derive -> delete', () => {
  const { entries, hashes } = tinyChain();
  const hDerive = hashes[2]!;
  const events = toOpenLineage(entries);

  it('has one run for the derive: START and COMPLETE with the same deterministic UUIDv7', () => {
    expect(events.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
    const runId = runIdOf(hDerive, '2026-10-01T10:00:00Z');
    expect(runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(runId.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse('2026-10-01T10:00:00Z'));
    expect(events.map((e) => e.run.runId)).toEqual([runId, runId]);
  });

  it('is valid against OpenLineage 2-0-2 and every facet schema it uses', () => {
    const used = expectValid(events);
    expect([...used].sort()).toEqual(
      [
        'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet',
        'https://openlineage.io/spec/facets/1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet',
        'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
        'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet',
        'https://openlineage.io/spec/facets/1-0-0/LineageFacet.json#/$defs/LineageDatasetFacet',
        'urn:civic-ledger:spec:facets:1-0-0:CivicLedgerLedgerEntryRunFacet.json#/$defs/CivicLedgerLedgerEntryRunFacet',
      ].sort(),
    );
  });

  it('maps job, datasets and facets exactly', () => {
    const complete = events[1]!;
    expect(complete).toMatchObject({
      eventTime: '2026-10-01T10:00:00Z',
      producer: DEFAULT_PRODUCER,
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
      job: { namespace: 'civic-ledger/statistics-office', name: `analytics/${COUNTS.id}` },
    });
    // Exactly the input the event names (the transfer's dataset), not everything the job touched.
    expect(
      complete.inputs.map((d) => [d.namespace, d.name, d.facets['version']?.['datasetVersion']]),
    ).toEqual([['civic-ledger', RAW.id, RAW.version]]);
    const out = complete.outputs[0]!;
    expect([out.namespace, out.name]).toEqual(['civic-ledger', COUNTS.id]);
    expect(out.facets['version']?.['datasetVersion']).toBe(COUNTS.version);
    expect(out.facets['ownership']?.['owners']).toEqual([
      { name: 'organization:statistics-office', type: 'EMITTER' },
    ]);
    expect(out.facets['schema']?.['fields']).toEqual([{ name: 'vehicles' }, { name: 'camera' }]);
    expect(complete.inputs[0]!.facets['schema']?.['fields']).toEqual([
      { name: 'frame' },
      { name: 'lane' },
      { name: 'camera_id' },
    ]);
    expect(out.facets['columnLineage']?.['fields']).toEqual({
      vehicles: {
        inputFields: ['frame', 'lane'].map((field) => ({
          namespace: 'civic-ledger',
          name: RAW.id,
          field,
          transformations: [{ type: 'INDIRECT' }],
        })),
      },
      camera: {
        inputFields: [
          {
            namespace: 'civic-ledger',
            name: RAW.id,
            field: 'camera_id',
            transformations: [{ type: 'DIRECT', masking: true }],
          },
        ],
      },
    });
    expect(out.facets['lineage']?.['inputs']).toEqual([
      { namespace: 'civic-ledger', name: RAW.id, type: 'DATASET' },
    ]);
    expect(complete.run.facets['civicLedger_ledgerEntry']).toMatchObject({
      eventHash: hDerive,
      ledgerIndex: 12,
      admitted: '2026-10-01T10:00:00.250Z',
      inputEvents: [hashes[1]],
      unresolvedInputEvents: [],
      exactInputs: true,
      processing: ['infer', 'anonymise'],
    });
  });

  it('names an input outside the export as unresolved and writes no column lineage for it', () => {
    const partial = toOpenLineage(entries.slice(2, 3));
    expectValid(partial);
    expect(partial[0]!.inputs).toEqual([]);
    expect(partial[0]!.outputs[0]!.facets['columnLineage']).toBeUndefined();
    expect(partial[0]!.run.facets['civicLedger_ledgerEntry']?.['unresolvedInputEvents']).toEqual([hashes[1]]);
  });

  it('is the same bytes whatever the order of the input, and honours the options', () => {
    expect(JSON.stringify(toOpenLineage([...entries].reverse()))).toBe(JSON.stringify(events));
    const custom = toOpenLineage(entries, {
      producer: 'https://city.example.org/civic-ledger/0.1.0',
      namespace: 'city-ledger',
    });
    expectValid(custom);
    expect(custom[0]!.job.namespace).toBe('city-ledger/statistics-office');
    expect(() => toOpenLineage(entries, { producer: 'civic ledger' })).toThrow(
      expect.objectContaining({ code: 'OPTION_INVALID', field: 'producer' }),
    );
  });
});

describe('OpenLineage of the demo city', () => {
  it('gives a valid START and COMPLETE for each of a few hundred derive steps, deterministically', () => {
    const entries = demoCityEntries(2000);
    const derives = entries.filter((e) => (e.event as { type: string }).type === 'derive');
    expect(derives.length).toBeGreaterThan(200);
    const events = toOpenLineage(entries);
    expect(events).toHaveLength(2 * derives.length);
    expectValid(events);
    // Every input of every derive is in the log, so all are resolved and named exactly.
    for (const ev of events) {
      expect(ev.run.facets['civicLedger_ledgerEntry']?.['unresolvedInputEvents']).toEqual([]);
      expect(ev.inputs.length).toBeGreaterThan(0);
    }
    expect(new Set(events.map((e) => e.run.runId)).size).toBe(derives.length);
    expect(events.some((e) => e.outputs[0]!.facets['columnLineage'] !== undefined)).toBe(true);
    expect(JSON.stringify(toOpenLineage(entries))).toBe(JSON.stringify(events));
  }, 30_000);
});
