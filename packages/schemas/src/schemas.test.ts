import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPES,
  EXAMPLE_EVENTS,
  GENESIS_PREV,
  isRfc3339Utc,
  LIMITS,
  permissionIssues,
  SchemaError,
  validateEvent,
  type SchemaIssue,
} from './index.ts';

const clone = <T>(v: T): T => structuredClone(v);

function failure(value: unknown, now?: number): { code: string; issues: SchemaIssue[] } {
  try {
    validateEvent(value, now === undefined ? {} : { now });
  } catch (e) {
    if (e instanceof SchemaError) return { code: e.code, issues: e.issues };
    throw e;
  }
  throw new Error('expected a SchemaError');
}

describe('every event type', () => {
  it.each(EVENT_TYPES)('a valid %s event is accepted unchanged', (type) => {
    const input = EXAMPLE_EVENTS[type];
    const { event, canonical, size } = validateEvent(input);
    expect(event).toEqual(input);
    expect(size).toBe(Buffer.byteLength(canonical));
  });

  it.each(EVENT_TYPES)('%s: an unknown top-level field is refused, naming it', (type) => {
    const f = failure({ ...EXAMPLE_EVENTS[type], colour: 'blue' });
    expect(f.code).toBe('SCHEMA_INVALID');
    expect(f.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys' }));
  });

  it.each(EVENT_TYPES)('%s: each required envelope field is named when missing', (type) => {
    for (const field of ['v', 'emitter', 'stream', 'seq', 'prev', 'time', 'key']) {
      const e = clone(EXAMPLE_EVENTS[type]) as Record<string, unknown>;
      delete e[field];
      expect(failure(e).issues.map((i) => i.path)).toContain(`/${field}`);
    }
  });
});

describe('field rules', () => {
  it('names nested paths', () => {
    const e = clone(EXAMPLE_EVENTS.declare) as { declaration: { recipients: { org: string }[] } };
    e.declaration.recipients[0]!.org = 'Not An Org';
    expect(failure(e).issues).toContainEqual(
      expect.objectContaining({
        path: '/declaration/recipients/0/org',
        rule: expect.stringContaining('organization id'),
      }),
    );
  });

  it.each([
    ['unknown type', { type: 'sell' }, '/type'],
    ['bad emitter', { emitter: 'Transport Agency' }, '/emitter'],
    ['seq 0', { seq: 0 }, '/seq'],
    ['fractional seq', { seq: 1.5 }, '/seq'],
    ['upper-case hash', { prev: 'A'.repeat(64) }, '/prev'],
    ['short hash', { prev: 'a'.repeat(63) }, '/prev'],
    [
      'bad digest',
      { dataset: { id: 'transport-agency/traffic-video', version: 'md5:abc' } },
      '/dataset/version',
    ],
    ['bad purpose', { purpose: 'traffic management' }, '/purpose'],
    ['bad trace id', { traceId: '0'.repeat(32) }, '/traceId'],
    ['version field', { v: 2 }, '/v'],
    ['offset time', { time: '2026-11-02T08:15:00+01:00' }, '/time'],
    ['non-genesis prev at seq 1', { seq: 1 }, '/prev'],
    ['genesis prev after seq 1', { seq: 5, prev: GENESIS_PREV }, '/prev'],
    ['transfer to itself', { recipient: 'transport-agency' }, '/recipient'],
    ['no inputs', { inputs: [] }, '/inputs'],
    ['repeated input', { inputs: ['1'.repeat(64), '1'.repeat(64)] }, '/inputs'],
    ['control character in note', { note: 'line one\nline two' }, '/note'],
    ['note too long', { note: 'x'.repeat(LIMITS.maxTextChars + 1) }, '/note'],
  ])('transfer with %s is refused at %s', (_name, patch, path) => {
    const f = failure({ ...EXAMPLE_EVENTS.transfer, ...patch });
    expect(f.code).toBe('SCHEMA_INVALID');
    expect(f.issues.map((i) => i.path)).toContain(path);
  });

  it('collect must start a lineage; derive with anonymise needs its assessment', () => {
    expect(
      failure({ ...EXAMPLE_EVENTS.collect, inputs: ['1'.repeat(64)] }).issues.map((i) => i.path),
    ).toContain('/inputs');
    const { anonymisation: _dropped, ...derive } = EXAMPLE_EVENTS.derive as Record<string, unknown>;
    expect(failure(derive).issues.map((i) => i.path)).toContain('/anonymisation');
  });

  // Well-formed events that claim what their emitter may not do: valid schema, refused as
  // NOT_PERMITTED at admission (permissionIssues), not as schema errors.
  const forbiddenAt = (raw: Record<string, unknown>) =>
    permissionIssues(validateEvent(raw).event).map((i) => i.path);

  it('only the operator registers organizations; others register in their own namespace', () => {
    const byAgency = { ...EXAMPLE_EVENTS.register, emitter: 'transport-agency', key: 'transport-agency/k1' };
    expect(forbiddenAt(byAgency)).toEqual(['/subject/kind']);
    const foreignDataset = {
      ...byAgency,
      subject: { kind: 'dataset', id: 'police/x', name: 'X', categories: ['city:X'], personalData: 'none' },
    };
    expect(forbiddenAt(foreignDataset)).toEqual(['/subject/id']);
    expect(
      forbiddenAt({ ...foreignDataset, subject: { ...foreignDataset.subject, id: 'transport-agency/x' } }),
    ).toEqual([]);
    expect(forbiddenAt(EXAMPLE_EVENTS.register)).toEqual([]);
  });

  it('key events: an organization manages its own keys; only the operator recovers', () => {
    const { publicKey: _pk, ...revokeOther } = {
      ...EXAMPLE_EVENTS.key,
      action: 'revoke',
      subjectOrg: 'police',
      subjectKey: 'police/k2',
    } as Record<string, unknown>;
    expect(forbiddenAt(revokeOther)).toContain('/subjectOrg');
    expect(forbiddenAt({ ...EXAMPLE_EVENTS.key, action: 'recover' })).toContain('/action');
    expect(forbiddenAt(EXAMPLE_EVENTS.key)).toEqual([]);
    // The key's name must still carry its organization: that is the schema's.
    expect(failure({ ...EXAMPLE_EVENTS.key, subjectKey: 'police/k2' }).issues.map((i) => i.path)).toContain(
      '/subjectKey',
    );
    const revoke: Record<string, unknown> = { ...EXAMPLE_EVENTS.key, action: 'revoke' };
    delete revoke['publicKey'];
    expect(validateEvent(revoke).event.type).toBe('key');
  });

  it('declarations: supersedes exactly when version > 1; custom purposes in the own prefix', () => {
    const d = clone(EXAMPLE_EVENTS.declare) as { declaration: Record<string, unknown> };
    d.declaration['version'] = 2;
    expect(failure(d).issues.map((i) => i.path)).toContain('/declaration/supersedes');
    const c = clone(EXAMPLE_EVENTS.declare) as { declaration: Record<string, unknown> };
    c.declaration['customPurposes'] = [
      { id: 'x-police:Patrol', label: 'Patrol', parents: ['city:PublicSafety'] },
    ];
    expect(failure(c).issues.map((i) => i.path)).toContain('/declaration/customPurposes/0/id');
  });
});

describe('limits', () => {
  it('accepts a namespaced extension and refuses one over its size limit', () => {
    expect(
      validateEvent({ ...EXAMPLE_EVENTS.use, ext: { 'acme:ticket': 'T-1', 'acme:n': 3 } }).event.ext,
    ).toEqual({
      'acme:ticket': 'T-1',
      'acme:n': 3,
    });
    expect(failure({ ...EXAMPLE_EVENTS.use, ext: { plain: 1 } }).code).toBe('SCHEMA_INVALID');
    expect(failure({ ...EXAMPLE_EVENTS.use, ext: { 'acme:deep': { a: 1 } } }).code).toBe('SCHEMA_INVALID');
    const big = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`acme:f${i}`, 'x'.repeat(250)]));
    expect(failure({ ...EXAMPLE_EVENTS.use, ext: big }).code).toBe('EXT_TOO_LARGE');
  });

  it('refuses an event over 64 KiB canonical with EVENT_TOO_LARGE', () => {
    const huge = { ...EXAMPLE_EVENTS.use, note: 'x'.repeat(70 * 1024) };
    expect(failure(huge).code).toBe('EVENT_TOO_LARGE');
  });

  it('refuses values canonical JSON cannot express', () => {
    expect(failure({ ...EXAMPLE_EVENTS.use, records: NaN })).toMatchObject({
      code: 'NOT_CANONICALIZABLE',
      issues: [{ path: '/records' }],
    });
  });

  it('refuses a claimed time further in the future than the documented skew', () => {
    const now = Date.parse('2026-11-02T08:15:00Z');
    expect(validateEvent(EXAMPLE_EVENTS.use, { now }).event.time).toBe('2026-11-02T08:15:00Z');
    const nearFuture = { ...EXAMPLE_EVENTS.use, time: '2026-11-02T08:19:59Z' };
    expect(validateEvent(nearFuture, { now }).event).toBeDefined();
    expect(failure({ ...EXAMPLE_EVENTS.use, time: '2026-11-02T08:20:01Z' }, now).code).toBe('TIME_IN_FUTURE');
  });

  it.each([
    ['2026-02-30T00:00:00Z', false],
    ['2026-11-02T24:00:00Z', false],
    ['2026-11-02T23:59:60Z', false],
    ['2026-11-02T08:15:00z', false],
    ['2026-11-02 08:15:00Z', false],
    ['2028-02-29T00:00:00.123456789Z', true],
    ['2027-02-29T00:00:00Z', false],
  ])('RFC 3339 UTC: %s -> %s', (t, ok) => {
    expect(isRfc3339Utc(t)).toBe(ok);
  });
});

describe('robustness', () => {
  it('never throws anything but a SchemaError on mutated events', () => {
    const anything = fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, maxDepth: 2 });
    fc.assert(
      fc.property(fc.constantFrom(...EVENT_TYPES), fc.string(), anything, (type, field, value) => {
        const e = { ...(EXAMPLE_EVENTS[type] as Record<string, unknown>), [field]: value };
        try {
          validateEvent(e);
        } catch (err) {
          expect(err).toBeInstanceOf(SchemaError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
