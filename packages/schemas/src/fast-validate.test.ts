import { randomBytes } from 'node:crypto';
import {
  event,
  EXAMPLE_EVENTS,
  isRfc3339Utc,
  DIGEST,
  EVENT_HASH,
  TRACE_ID,
  datasetVersion,
  list,
  eventHash,
  timestamp,
} from './index.ts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAcceptor, fastRfc3339Utc, hexPattern } from './fast-validate.ts';
import { hasSurrogate, mutated, nastyString } from './fuzz.ts';

const acceptor = compileAcceptor(event);
const zodAccepts = (schema: unknown, v: unknown) =>
  (schema as { safeParse: (v: unknown) => { success: boolean } }).safeParse(v).success;

describe('the event acceptor', () => {
  it('is compiled from the schema, handing only `ext` (a record) to zod', () => {
    expect(acceptor.report.delegated).toEqual(['(collect)/ext']);
    expect(acceptor.source).toContain('function p0(v)');
  });

  it('accepts every example event, as zod does', () => {
    for (const e of Object.values(EXAMPLE_EVENTS)) {
      expect(zodAccepts(event, e)).toBe(true);
      expect(acceptor.accepts(e)).toBe(true);
    }
  });

  it('never accepts what zod refuses, and agrees with zod on values without surrogates', () => {
    const examples = Object.values(EXAMPLE_EVENTS);
    let agreedRefusals = 0;
    let agreedAcceptances = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...examples).chain((e) => mutated(e)),
        (v) => {
          const zod = zodAccepts(event, v);
          const fast = acceptor.accepts(v);
          // The contract: fast acceptance implies zod's.
          if (fast) expect(zod).toBe(true);
          // Exact where strings count the same in code units and code points.
          if (!hasSurrogate(v)) expect(fast).toBe(zod);
          if (fast && zod) agreedAcceptances++;
          if (!fast && !zod) agreedRefusals++;
        },
      ),
      { numRuns: Number(process.env['FUZZ_RUNS'] ?? 3000) },
    );
    // Both kinds of verdict were exercised.
    expect(agreedAcceptances).toBeGreaterThan(50);
    expect(agreedRefusals).toBeGreaterThan(500);
  }, 30_000);

  it('hands `ext` to zod, with its own rules', () => {
    const base = EXAMPLE_EVENTS.collect;
    expect(acceptor.accepts({ ...base, ext: { 'x-city:zone': 'north', 'x-city:n': 3 } })).toBe(true);
    expect(acceptor.accepts({ ...base, ext: { zone: 'north' } })).toBe(false);
    expect(zodAccepts(event, { ...base, ext: { zone: 'north' } })).toBe(false);
  });

  it('counts string lengths the way zod does, erring only on the strict side', () => {
    // A note of 280 emoji is 560 UTF-16 units: zod counts code points and accepts it; the
    // acceptor counts units and leaves it to zod.
    const emoji = { ...EXAMPLE_EVENTS.use, note: '😀'.repeat(280) };
    expect(zodAccepts(event, emoji)).toBe(true);
    expect(acceptor.accepts(emoji)).toBe(false);
    expect(acceptor.accepts({ ...EXAMPLE_EVENTS.use, note: '😀'.repeat(140) })).toBe(true);
    expect(acceptor.accepts({ ...EXAMPLE_EVENTS.use, note: 'a'.repeat(281) })).toBe(false);
  });

  it('compiles sub-schemas too, and gives up on what is not a schema', () => {
    const dv = compileAcceptor(datasetVersion);
    expect(dv.accepts({ id: 'a-b/c', version: `sha256:${'0'.repeat(64)}` })).toBe(true);
    expect(dv.accepts({ id: 'a-b/c', version: `sha256:${'0'.repeat(64)}`, extra: 1 })).toBe(false);
    const hashes = compileAcceptor(list(eventHash));
    expect(hashes.accepts(['a'.repeat(64), 'b'.repeat(64)])).toBe(true);
    expect(hashes.accepts(['a'.repeat(64), 'a'.repeat(64)])).toBe(false); // distinct
    expect(compileAcceptor({ not: 'a schema' }).accepts({})).toBe(false);
  });
});

describe('fastRfc3339Utc', () => {
  const times = fc.oneof(
    fc
      .date({
        min: new Date(Date.UTC(-50, 0, 1)),
        max: new Date(Date.UTC(9999, 11, 31)),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')),
    // With a fraction (1-9 digits accepted; 10, none after the dot, or a non-digit refused).
    fc
      .tuple(
        fc.date({
          min: new Date(Date.UTC(-50, 0, 1)),
          max: new Date(Date.UTC(9999, 11, 31)),
          noInvalidDate: true,
        }),
        fc.stringMatching(/^[0-9]{0,10}$|^[0-9]{0,4}[a.Z ][0-9]{0,4}$/),
      )
      .map(([d, f]) => d.toISOString().replace(/\.\d{3}Z$/, `.${f}Z`)),
    fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
      )
      .map(
        ([y, mo, d, h, mi, s]) =>
          `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(s).padStart(2, '0')}Z`,
      ),
    nastyString,
  );

  it('answers exactly as isRfc3339Utc', () => {
    fc.assert(
      fc.property(times, (s) => {
        expect(fastRfc3339Utc(s)).toBe(isRfc3339Utc(s));
      }),
      { numRuns: 20_000 },
    );
    for (const s of [
      '2024-02-29T00:00:00Z',
      '2100-02-29T00:00:00Z',
      '2000-02-29T23:59:59Z',
      '0050-02-29T00:00:00Z',
      '0100-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-11-02T08:15:00.5Z',
      '2026-11-02T08:15:00.123456789Z',
      '2026-11-02T08:15:00.1234567890Z',
      '2026-11-02T08:15:00.Z',
      '2026-02-30T08:15:00.500Z',
      '2026-11-02T08:15:00.5z',
      '2026-11-02T08:15:60Z',
      '２０２６-11-02T08:15:00Z',
    ])
      expect(fastRfc3339Utc(s)).toBe(isRfc3339Utc(s));
  }, 30_000);

  it('is what the event acceptor runs for timestamps', () => {
    expect(compileAcceptor(timestamp).accepts('2026-02-29T00:00:00Z')).toBe(false);
    expect(compileAcceptor(timestamp).accepts('2028-02-29T00:00:00Z')).toBe(true);
  });
});

describe('hex patterns', () => {
  it('are recognized only in their exact form, and checked as the pattern would', () => {
    expect(hexPattern(new RegExp(EVENT_HASH))).toEqual({ prefix: '', digits: 64 });
    expect(hexPattern(new RegExp(DIGEST))).toEqual({ prefix: 'sha256:', digits: 64 });
    expect(hexPattern(new RegExp(TRACE_ID))).toBeUndefined();
    expect(hexPattern(/^[0-9a-f]{64}$/i)).toBeUndefined();
    expect(hexPattern(/^[0-9a-f]{64}/)).toBeUndefined();
    const hash = compileAcceptor(eventHash);
    const hexish = fc.oneof(
      fc.constant(randomBytes(32).toString('hex')),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg'), minLength: 62, maxLength: 66 }),
      nastyString,
    );
    fc.assert(
      fc.property(hexish, (s) => {
        expect(hash.accepts(s)).toBe(EVENT_HASH.test(s));
      }),
      { numRuns: 3000 },
    );
  });
});
