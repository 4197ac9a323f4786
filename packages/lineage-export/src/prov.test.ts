import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoCityEntries, DECL, entryOf, RAW, COUNTS, tinyChain } from './fixtures.test-support.ts';
import {
  LineageExportError,
  provActivityId,
  provCopyId,
  provDatasetId,
  toProvJson,
  type ProvDocument,
} from './index.ts';

const SPECS = fileURLToPath(new URL('../../../specs/prov/', import.meta.url));
const load = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(SPECS + name, 'utf8')) as Record<string, unknown>;

// Which schema decides validity, and why: the W3C PROV-JSON schema (prov-json-schema.json,
// the 2013 member submission's own file) misspells the root key `wasEndedby` and sets
// `additionalProperties: false` at the root, so a correct document using `wasEndedBy` is
// rejected, and it lacks `mentionOf`. ProvToolbox's maintained draft-04 schema (v4) fixes
// both and is what PROV tooling validates against, so every export must pass v4. The
// exporter never writes wasEndedBy, so its documents must ALSO pass the W3C file: both are
// checked below, and a test pins the W3C quirk so the choice stays explained.
let provV4: ValidateFunction;
let provW3c: ValidateFunction;

beforeAll(() => {
  // strict: false because the W3C file puts `prov:startTime` where a keyword belongs
  // (ignored by every validator); formats on, so `uri` and `date-time` are checked.
  const v4 = new Ajv04.default({ allErrors: true, strict: false });
  addFormats.default(v4);
  provV4 = v4.compile(load('prov-json-schema-provtoolbox-v4.json'));
  const w3c = new Ajv04.default({ allErrors: true, strict: false });
  addFormats.default(w3c);
  provW3c = w3c.compile(load('prov-json-schema.json'));
});

function expectValid(doc: unknown): void {
  const ok4 = provV4(doc);
  expect(ok4 ? [] : provV4.errors?.slice(0, 5)).toEqual([]);
  const okW3c = provW3c(doc);
  expect(okW3c ? [] : provW3c.errors?.slice(0, 5)).toEqual([]);
}

type Rel = Record<string, Record<string, unknown>>;
/** The relations of a kind as `a -> b` lines, ids left out. */
function edges(doc: ProvDocument, kind: keyof ProvDocument, from: string, to: string): string[] {
  return Object.values((doc[kind] ?? {}) as Rel)
    .map((r) => `${String(r[from])} -> ${String(r[to])}`)
    .sort();
}

describe('the schema choice', () => {
  it('the W3C schema rejects a correct wasEndedBy and the ProvToolbox v4 schema accepts it', () => {
    const doc = {
      prefix: { ex: 'https://example.org/' },
      activity: { 'ex:a': {} },
      wasEndedBy: { '_:e1': { 'prov:activity': 'ex:a' } },
    };
    expect(provV4(doc)).toBe(true);
    expect(provW3c(doc)).toBe(false);
    expect(provW3c.errors?.[0]?.keyword).toBe('additionalProperties');
  });

  it('both schemas reject a broken relation (a usage without its activity, a non-URI reference)', () => {
    const doc = toProvJson(tinyChain().entries);
    const [id, usage] = Object.entries(doc.used ?? {})[0]!;
    const broken = { ...doc, used: { [id]: { ...usage, 'prov:activity': 'not a uri' } } };
    expect(provV4(broken)).toBe(false);
    expect(provW3c(broken)).toBe(false);
    const { ['prov:activity']: _gone, ...noActivity } = usage;
    expect(provV4({ ...doc, used: { [id]: noActivity } })).toBe(false);
  });
});

describe('PROV-JSON of collect -> transfer -> derive -> delete', () => {
  const { entries, hashes } = tinyChain();
  const [hCollect, hTransfer, hDerive, hDelete] = hashes as [string, string, string, string];
  const doc = toProvJson(entries);

  it('is valid against both PROV-JSON schemas', () => {
    expectValid(doc);
  });

  it('has one activity per event, with time, ledger index and event hash', () => {
    expect(Object.keys(doc.activity ?? {})).toEqual(hashes.map(provActivityId));
    expect(doc.activity?.[provActivityId(hDerive)]).toMatchObject({
      'prov:type': { $: 'cl:Derive', type: 'prov:QUALIFIED_NAME' },
      'prov:startTime': '2026-10-01T10:00:00Z',
      'prov:endTime': '2026-10-01T10:00:00Z',
      'cl:ledgerIndex': 12,
      'cl:eventHash': hDerive,
      'cl:admitted': { $: '2026-10-01T10:00:00.250Z', type: 'xsd:dateTime' },
      'cl:purpose': 'city:TrafficManagement',
      'cl:declaration': DECL,
      'cl:processing': ['infer', 'anonymise'],
    });
  });

  it('has the dataset versions, the copies each organization held, and the agents', () => {
    const rawT = provCopyId('transport-agency', RAW.id, RAW.version);
    const rawS = provCopyId('statistics-office', RAW.id, RAW.version);
    const countsS = provCopyId('statistics-office', COUNTS.id, COUNTS.version);
    expect(Object.keys(doc.entity ?? {}).sort()).toEqual(
      [
        provDatasetId(RAW.id, RAW.version),
        rawT,
        rawS,
        provDatasetId(COUNTS.id, COUNTS.version),
        countsS,
      ].sort(),
    );
    expect(doc.entity?.['cl:dataset/transport-agency/traffic-video@' + RAW.version]).toEqual({
      'prov:type': { $: 'cl:DatasetVersion', type: 'prov:QUALIFIED_NAME' },
      'cl:dataset': RAW.id,
      'cl:version': RAW.version,
    });
    expect(Object.keys(doc.agent ?? {}).sort()).toEqual([
      'cl:key/statistics-office/k1',
      'cl:key/transport-agency/k1',
      'cl:org/statistics-office',
      'cl:org/transport-agency',
    ]);
  });

  it('has exactly the expected relations', () => {
    const act = (h: string) => provActivityId(h);
    const rawT = provCopyId('transport-agency', RAW.id, RAW.version);
    const rawS = provCopyId('statistics-office', RAW.id, RAW.version);
    const countsS = provCopyId('statistics-office', COUNTS.id, COUNTS.version);
    expect(edges(doc, 'wasGeneratedBy', 'prov:entity', 'prov:activity')).toEqual(
      [`${rawT} -> ${act(hCollect)}`, `${rawS} -> ${act(hTransfer)}`, `${countsS} -> ${act(hDerive)}`].sort(),
    );
    expect(edges(doc, 'used', 'prov:activity', 'prov:entity')).toEqual(
      [`${act(hTransfer)} -> ${rawT}`, `${act(hDerive)} -> ${rawS}`].sort(),
    );
    expect(edges(doc, 'wasDerivedFrom', 'prov:generatedEntity', 'prov:usedEntity')).toEqual(
      [`${rawS} -> ${rawT}`, `${countsS} -> ${rawS}`].sort(),
    );
    expect(edges(doc, 'wasInvalidatedBy', 'prov:entity', 'prov:activity')).toEqual([
      `${rawS} -> ${act(hDelete)}`,
    ]);
    expect(edges(doc, 'wasInformedBy', 'prov:informed', 'prov:informant')).toEqual(
      [
        `${act(hTransfer)} -> ${act(hCollect)}`,
        `${act(hDerive)} -> ${act(hTransfer)}`,
        `${act(hDelete)} -> ${act(hTransfer)}`,
      ].sort(),
    );
    expect(edges(doc, 'wasAttributedTo', 'prov:entity', 'prov:agent')).toEqual(
      [
        `${rawT} -> cl:org/transport-agency`,
        `${rawS} -> cl:org/statistics-office`,
        `${countsS} -> cl:org/statistics-office`,
      ].sort(),
    );
    const assoc = Object.values(doc.wasAssociatedWith ?? {}).map(
      (r) =>
        `${String(r['prov:activity'])} -> ${String(r['prov:agent'])} as ${(r['prov:role'] as { $: string }).$}`,
    );
    expect(assoc.sort()).toEqual(
      [
        ...[hCollect, hTransfer].flatMap((h) => [
          `${act(h)} -> cl:org/transport-agency as cl:Emitter`,
          `${act(h)} -> cl:key/transport-agency/k1 as cl:SigningKey`,
        ]),
        `${act(hTransfer)} -> cl:org/statistics-office as cl:Recipient`,
        ...[hDerive, hDelete].flatMap((h) => [
          `${act(h)} -> cl:org/statistics-office as cl:Emitter`,
          `${act(h)} -> cl:key/statistics-office/k1 as cl:SigningKey`,
        ]),
      ].sort(),
    );
    expect(edges(doc, 'actedOnBehalfOf', 'prov:delegate', 'prov:responsible')).toEqual([
      'cl:key/statistics-office/k1 -> cl:org/statistics-office',
      'cl:key/transport-agency/k1 -> cl:org/transport-agency',
    ]);
    expect(edges(doc, 'specializationOf', 'prov:specificEntity', 'prov:generalEntity')).toEqual(
      [
        `${rawT} -> ${provDatasetId(RAW.id, RAW.version)}`,
        `${rawS} -> ${provDatasetId(RAW.id, RAW.version)}`,
        `${countsS} -> ${provDatasetId(COUNTS.id, COUNTS.version)}`,
      ].sort(),
    );
  });

  it('is the same bytes whatever the order or repetition of the input', () => {
    const again = toProvJson([...entries].reverse().concat(entries[1]!));
    expect(JSON.stringify(again)).toBe(JSON.stringify(doc));
  });

  it('keeps an input outside the export as wasInformedBy only (no guessed dataset)', () => {
    const partial = toProvJson(entries.slice(2, 3));
    expectValid(partial);
    expect(partial.used).toBeUndefined();
    expect(partial.wasDerivedFrom).toBeUndefined();
    expect(edges(partial, 'wasInformedBy', 'prov:informed', 'prov:informant')).toEqual([
      `${provActivityId(hDerive)} -> ${provActivityId(hTransfer)}`,
    ]);
  });

  it('expands cl to the namespace the caller gives', () => {
    const custom = toProvJson(entries, { namespace: 'https://ledger.example.org/prov#' });
    expect(custom.prefix).toEqual({ cl: 'https://ledger.example.org/prov#' });
    expectValid(custom);
    expect(() => toProvJson(entries, { namespace: 'not a uri' })).toThrow(
      expect.objectContaining({ code: 'OPTION_INVALID', field: 'namespace' }),
    );
  });
});

describe('input checks', () => {
  const { entries } = tinyChain();
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      if (e instanceof LineageExportError) return `${e.code} ${e.field}`;
      throw e;
    }
    return undefined;
  };

  it('refuses a wrong event hash, an invalid event and two events at one index', () => {
    const [a, b] = entries as [(typeof entries)[0], (typeof entries)[0]];
    expect(code(() => toProvJson([{ ...a, eventHash: b.eventHash }]))).toBe(
      'ENTRY_HASH_MISMATCH entries[0].eventHash',
    );
    expect(code(() => toProvJson([a, { ...b, event: { ...(b.event as object), recipient: 'X' } }]))).toBe(
      'ENTRY_INVALID entries[1].event.recipient',
    );
    expect(code(() => toProvJson([a, { ...b, index: a.index }]))).toBe(
      'ENTRY_INDEX_CONFLICT entries[1].index',
    );
    expect(code(() => toProvJson([{ ...a, admitted: 'yesterday' }]))).toBe(
      'ENTRY_INVALID entries[0].admitted',
    );
    expect(code(() => toProvJson([{ ...a, index: -1 }]))).toBe('ENTRY_INVALID entries[0].index');
  });

  it('accepts an unchecked hash only when asked to', () => {
    const [a, b] = entries as [(typeof entries)[0], (typeof entries)[0]];
    expect(() => toProvJson([{ ...a, eventHash: b.eventHash }], { checkHashes: false })).not.toThrow();
  });

  it('labels agents from organization registrations', () => {
    const register = entryOf(0, {
      v: 1,
      emitter: 'ledger',
      stream: 'registry',
      seq: 1,
      prev: '0'.repeat(64),
      time: '2026-09-30T00:00:00Z',
      key: 'ledger/k1',
      type: 'register',
      subject: {
        kind: 'organization',
        id: 'transport-agency',
        name: 'Transport Agency',
        role: 'agency',
        jurisdiction: 'NL',
      },
    });
    const doc = toProvJson([register, ...entries]);
    expectValid(doc);
    expect(doc.agent?.['cl:org/transport-agency']).toEqual({
      'prov:type': { $: 'prov:Organization', type: 'prov:QUALIFIED_NAME' },
      'cl:organization': 'transport-agency',
      'prov:label': 'Transport Agency',
      'cl:role': 'agency',
      'cl:jurisdiction': 'NL',
    });
    // A governance event is no movement: no activity for it.
    expect(Object.keys(doc.activity ?? {})).toHaveLength(4);
  });
});

describe('PROV-JSON of the demo city', () => {
  it('is valid and deterministic for a whole 2,000-event log', () => {
    const entries = demoCityEntries(2000);
    const doc = toProvJson(entries);
    expectValid(doc);
    const movements = entries.filter((e) =>
      ['collect', 'transfer', 'derive', 'use', 'publish', 'delete'].includes(
        (e.event as { type: string }).type,
      ),
    );
    expect(Object.keys(doc.activity ?? {})).toHaveLength(movements.length);
    expect(Object.keys(doc.wasInvalidatedBy ?? {}).length).toBeGreaterThan(0);
    expect(Object.keys(doc.wasDerivedFrom ?? {}).length).toBeGreaterThan(100);
    // Every organization is labelled from its registration.
    for (const [id, agent] of Object.entries(doc.agent ?? {}))
      if (id.startsWith('cl:org/')) expect(agent['prov:label'], id).toBeTypeOf('string');
    expect(JSON.stringify(toProvJson(entries))).toBe(JSON.stringify(doc));
  }, 30_000);
});
