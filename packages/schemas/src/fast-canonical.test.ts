import { canonicalize, CanonicalJsonError } from '@civic-ledger/canonical-json';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  canonicalEventText,
  compileCanonical,
  eventSerializer,
  patternAdmitsOnlyPlainText,
} from './fast-canonical.ts';
import { event, type Event, type EventType, EVENT_TYPES } from './events.ts';
import { EXAMPLE_EVENTS } from './examples.ts';
import { isRfc3339Utc, LIMITS, RFC3339_UTC } from './primitives.ts';
import { SchemaError } from './errors.ts';
import { validateEvent } from './validate.ts';

// ---------------------------------------------------------------------------------------
// Helpers

type Outcome = { text: string } | { code: string; at: unknown; message: string };

/** What a serializer does with a value: its text, or the CanonicalJsonError it throws. */
function outcome(write: () => string): Outcome {
  try {
    return { text: write() };
  } catch (e) {
    if (!(e instanceof CanonicalJsonError)) throw e;
    return { code: e.code, at: e.at, message: e.message };
  }
}

const compiled = eventSerializer();

/**
 * canonicalEventText agrees with the generic path on `value`; for plain values, the
 * compiled code handled it itself (no fallback) whenever the generic path could express it.
 */
function expectSameAsGeneric(value: unknown, plain = true): void {
  const generic = outcome(() => canonicalize(value));
  expect(outcome(() => canonicalEventText(value as Event))).toEqual(generic);
  if (!plain) return;
  if ('text' in generic) expect(compiled.attempt(value)).toBe(generic.text);
  else expect(compiled.attempt(value)).toBeUndefined();
}

interface Internals {
  type: string;
  [k: string]: unknown;
}
const defOf = (s: unknown): Internals => (s as { _zod: { def: Internals } })._zod.def;
const zodOf = (s: unknown) => (s as { _zod: { values?: Set<unknown>; optin?: string } })._zod;
const checksOf = (s: unknown): Record<string, unknown>[] =>
  ((defOf(s)['checks'] as unknown[] | undefined) ?? []).map((c) => defOf(c) as Record<string, unknown>);
const accepts = (schema: unknown, v: unknown) => (schema as z.ZodType).safeParse(v).success;

// Characters that need care in JSON text, and others that do not but are not ASCII.
const unit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '"',
      '\\',
      '\\"',
      '/',
      '\u00e9',
      '\u20ac',
      '\ud83d\ude00', // an emoji: a surrogate pair
      '\ud83d\udc69\u200d\ud83d\udc67',
      '\u00a0',
      '\ufeff',
      '\uffff',
      '\ud7ff',
      '\ue000',
      '\u2027',
      '\u007e',
      '\ud800', // lone surrogates: refused by most schemas, and by canonical JSON
      '\udfff',
      '\n', // control characters: refused by the text schemas
      '\u0000',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const text = (min: number, max: number) => fc.string({ unit, minLength: min, maxLength: max });

// RFC 3339 UTC times with 0 to 9 fractional digits.
const timestamp = fc
  .tuple(
    fc.date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    fc.integer({ min: 0, max: 9 }),
    fc.integer({ min: 0, max: 999_999_999 }),
  )
  .map(([d, digits, frac]) => {
    const base = d.toISOString().slice(0, 19);
    return digits === 0 ? `${base}Z` : `${base}.${String(frac).padStart(9, '0').slice(0, digits)}Z`;
  });

const SPECIAL_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  1 / 3,
  1e21,
  1e-7,
  123456789012345680000,
  5e-324,
  -5e-324,
  1.7976931348623157e308,
  Number.MAX_SAFE_INTEGER,
  2 ** 53,
  4.35,
  0.000001,
  45.123456789,
  -179.99999999999997,
];
const anyNumber = fc.oneof(
  fc.integer({ min: -10, max: 2000 }),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -200, max: 200, noNaN: true }),
  fc.constantFrom(...SPECIAL_NUMBERS),
);

// Strip what fc.stringMatching cannot generate (lookaheads); the schema filters the rest.
const generable = (re: RegExp) => new RegExp(re.source.replace(/\(\?[=!][^)]*\)/g, ''), re.flags);

/** Valid values of a zod schema, derived from the schema itself (filtered through it). */
function arb(schema: unknown, depth = 0): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const ok = (a: fc.Arbitrary<unknown>) => a.filter((v) => accepts(schema, v));
  switch (def.type) {
    case 'string': {
      const checks = checksOf(schema);
      const pattern = checks.find((c) => c['format'] === 'regex')?.['pattern'] as RegExp | undefined;
      if (checks.some((c) => c['fn'] === isRfc3339Utc)) return timestamp;
      const max = Math.min(
        40,
        ...checks.filter((c) => c['check'] === 'max_length').map((c) => c['maximum'] as number),
      );
      if (pattern === undefined) return ok(text(1, max));
      // Matching strings, sometimes with some character spliced in (kept if still valid).
      return ok(
        fc
          .tuple(fc.stringMatching(generable(pattern)), fc.option(fc.tuple(unit, fc.nat())))
          .map(([s, splice]) => {
            if (splice === null) return s;
            const at = splice[1] % (s.length + 1);
            return s.slice(0, at) + splice[0] + s.slice(at);
          }),
      );
    }
    case 'number':
      return ok(anyNumber);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'literal':
    case 'enum':
      return fc.constantFrom(...zodOf(schema).values!);
    case 'optional':
      return fc.option(arb(def['innerType'], depth), { nil: undefined });
    case 'array': {
      const checks = checksOf(schema);
      const min = Math.max(
        0,
        ...checks.filter((c) => c['check'] === 'min_length').map((c) => c['minimum'] as number),
      );
      const max = Math.min(
        4,
        ...checks.filter((c) => c['check'] === 'max_length').map((c) => c['maximum'] as number),
      );
      return ok(
        fc.uniqueArray(arb(def['element'], depth + 1), {
          minLength: min,
          maxLength: max,
          selector: (x) => JSON.stringify(x),
        }),
      );
    }
    case 'object': {
      const shape = def['shape'] as Record<string, unknown>;
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      const required: string[] = [];
      for (const [k, s] of Object.entries(shape)) {
        const optional = zodOf(s).optin === 'optional';
        model[k] = optional ? arb(defOf(s)['innerType'] ?? s, depth + 1) : arb(s, depth + 1);
        if (!optional) required.push(k);
      }
      return fc.record(model, { requiredKeys: required });
    }
    case 'union':
      return fc.oneof(...(def['options'] as unknown[]).map((o) => arb(o, depth)));
    case 'record':
      return ok(
        fc.dictionary(arb(def['keyType']) as fc.Arbitrary<string>, arb(def['valueType'], depth + 1), {
          maxKeys: 5,
        }),
      );
    default:
      throw new Error(`no arbitrary for ${def.type}`);
  }
}

/** Every object's members in an order picked by `seed` (serialization must not care). */
function shuffleDeep(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => shuffleDeep(x, seed + i));
  if (v === null || typeof v !== 'object') return v;
  const entries = Object.entries(v);
  let s = seed >>> 0;
  for (let i = entries.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries.map(([k, x]) => [k, shuffleDeep(x, s + k.length)]));
}

const optionByType = new Map<string, unknown>(
  (defOf(event)['options'] as unknown[]).map((o) => [
    [...zodOf((defOf(o)['shape'] as Record<string, unknown>)['type']).values!][0] as string,
    o,
  ]),
);

/** EXAMPLE_EVENTS[type] with a random set of members replaced, dropped or added. */
function mutatedEvent(type: EventType): fc.Arbitrary<Record<string, unknown>> {
  const schema = optionByType.get(type)!;
  const keys = Object.keys(defOf(schema)['shape'] as object);
  return fc
    .tuple(arb(schema) as fc.Arbitrary<Record<string, unknown>>, fc.subarray(keys), fc.integer())
    .map(([generated, replace, seed]) => {
      const out: Record<string, unknown> = structuredClone(EXAMPLE_EVENTS[type]) as Record<string, unknown>;
      for (const k of replace) {
        if (k in generated) out[k] = generated[k];
        else delete out[k];
      }
      return shuffleDeep(out, seed) as Record<string, unknown>;
    });
}

const MUTATED = new Map(EVENT_TYPES.map((t) => [t, mutatedEvent(t)]));
const anyMutatedEvent = fc.oneof(...MUTATED.values());

// ---------------------------------------------------------------------------------------

describe('patternAdmitsOnlyPlainText', () => {
  it.each([
    [/^[0-9a-f]{64}$/, true],
    [/^sha256:[0-9a-f]{64}$/, true],
    [/^[a-z][a-z0-9-]{1,47}\/[A-Za-z0-9._-]{1,64}$/, true],
    [/^(?!0{32})[0-9a-f]{32}$/, true],
    [/^(?:ab|cd)+$/, true],
    [/^\d{4}-\d{2}$/, true],
    [/^[é€]+$/, true], // non-ASCII, but nothing JSON escapes
    [/^\u00e9\x41$/, true],
    [/^[a-z]+$/u, true],
    [/[a-z]+/, false], // unanchored: matches inside "a\"b"
    [/^[a-z]+/, false],
    [/[a-z]+$/, false],
    [/^a|b$/, false], // top-level alternative: each side anchored at one end only
    [/^[^a]+$/, false],
    [/^.+$/, false],
    [/^\S+$/, false],
    [/^\w+$/, false], // plain in fact, but not vouched for
    [/^[a-z]+$/i, false],
    [/^[a-z]+$/m, false], // multiline: ^ and $ match at line ends
    [/^[a-z]+$/g, false],
    [/^["a-z]+$/, false],
    [/^[\\a-z]+$/, false],
    [/^\\$/, false],
    [/^[ -~]+$/, false], // includes " and \
    // eslint-disable-next-line no-control-regex -- control characters are the point
    [/^[\x00-\x1f]$/, false],
    [/^\u0022$/, false],
    [/^[\ud800-\udfff]$/, false],
    [/^\ud83d\ude00$/, false],
    [/^(a)\1$/, false],
    [/^\p{L}+$/u, false],
    [/^\u{1F600}$/u, false],
    [/^a$b$/, false],
    [/^(?:a$)$/, false],
    [/^[\d-z]$/, false],
  ])('%s -> %s', (re, plain) => {
    expect(patternAdmitsOnlyPlainText(re)).toBe(plain);
  });

  it('every string a pattern it vouches for accepts is its own JSON text minus quotes', () => {
    const patterns: RegExp[] = [];
    const seen = new Set<unknown>();
    const walk = (s: unknown) => {
      if (seen.has(s)) return;
      seen.add(s);
      const def = defOf(s);
      for (const c of checksOf(s)) {
        if (c['pattern'] instanceof RegExp && patternAdmitsOnlyPlainText(c['pattern']))
          patterns.push(c['pattern']);
      }
      for (const k of ['innerType', 'element', 'keyType', 'valueType'] as const) if (def[k]) walk(def[k]);
      for (const o of (def['options'] as unknown[] | undefined) ?? []) walk(o);
      for (const m of Object.values((def['shape'] as Record<string, unknown> | undefined) ?? {})) walk(m);
    };
    walk(event);
    expect(patterns.length).toBeGreaterThan(8);
    for (const re of [...patterns, RFC3339_UTC]) {
      // fc.stringMatching also tries strings with arbitrary text around a match.
      fc.assert(
        fc.property(fc.oneof(fc.stringMatching(generable(re)), text(1, 30)), (s) => {
          if (!re.test(s)) return;
          expect(JSON.stringify(s)).toBe(`"${s}"`);
          expect(s.isWellFormed()).toBe(true);
        }),
        { numRuns: 200 },
      );
    }
  });

  it('isRfc3339Utc accepts only what RFC3339_UTC matches (the compiler relies on it)', () => {
    fc.assert(
      fc.property(fc.oneof(timestamp, fc.stringMatching(RFC3339_UTC), text(1, 30)), (s) => {
        if (isRfc3339Utc(s)) expect(RFC3339_UTC.test(s)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('canonicalEventText', () => {
  it.each(EVENT_TYPES)('%s example: the same text as canonicalize', (type) => {
    expectSameAsGeneric(EXAMPLE_EVENTS[type]);
    expect(canonicalEventText(EXAMPLE_EVENTS[type] as Event)).toBe(canonicalize(EXAMPLE_EVENTS[type]));
  });

  it.each(EVENT_TYPES)(
    '%s: the same as canonicalize for every valid mutation',
    (type) => {
      let accepted = 0;
      const runs = 150;
      fc.assert(
        fc.property(MUTATED.get(type)!, (e) => {
          if (!event.safeParse(e).success) return;
          accepted++;
          expectSameAsGeneric(e);
        }),
        { numRuns: runs },
      );
      // The generator must mostly produce valid events, or this would test little.
      expect(accepted).toBeGreaterThan(runs / 2);
    },
    30_000,
  );

  it('the same for the parsed output of zod as for its input', () => {
    fc.assert(
      fc.property(anyMutatedEvent, (e) => {
        const parsed = event.safeParse(e);
        if (!parsed.success) return;
        expectSameAsGeneric(parsed.data);
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('refuses a present optional member holding undefined, as canonicalize does', () => {
    fc.assert(
      fc.property(fc.tuple(anyMutatedEvent, fc.nat()), ([e, pick]) => {
        const shape = defOf(optionByType.get(e['type'] as string))['shape'] as Record<string, unknown>;
        const optional = Object.keys(shape).filter((k) => zodOf(shape[k]).optin === 'optional');
        const key = optional[pick % optional.length]!;
        const withUndefined = { ...e, [key]: undefined };
        if (!event.safeParse(withUndefined).success) return;
        expectSameAsGeneric(withUndefined);
        // (Unless something else earlier in the text is refused, a lone surrogate say.)
        const before = Object.fromEntries(Object.entries(e).filter(([k]) => k < key));
        if ('text' in outcome(() => canonicalize(before))) {
          expect(outcome(() => canonicalEventText(withUndefined as Event))).toMatchObject({
            code: 'JCS_UNSUPPORTED_VALUE',
            at: `/${key}`,
          });
        }
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('refuses undefined in nested optional members and in arrays', () => {
    const declare = structuredClone(EXAMPLE_EVENTS.declare) as { declaration: Record<string, unknown> };
    declare.declaration['notice'] = { register: 'https://x.example/r', privacyStatement: undefined };
    expect(event.safeParse(declare).success).toBe(true);
    expect(outcome(() => canonicalEventText(declare as Event))).toMatchObject({
      code: 'JCS_UNSUPPORTED_VALUE',
      at: '/declaration/notice/privacyStatement',
    });
    expectSameAsGeneric(declare);

    const derive = structuredClone(EXAMPLE_EVENTS.derive) as Record<string, unknown>;
    derive['anonymisation'] = {
      technique: 'dpv:KAnonymity',
      assessment: `sha256:${'f'.repeat(64)}`,
      parameter: undefined,
    };
    expect(event.safeParse(derive).success).toBe(true);
    expectSameAsGeneric(derive);
  });

  it('gives the generic result for odd but schema-valid objects', () => {
    const use = EXAMPLE_EVENTS.use as Record<string, unknown>;
    // Null prototypes are plain objects to both.
    const nullProto = Object.assign(Object.create(null) as object, use, {
      dataset: Object.assign(Object.create(null) as object, use['dataset']),
    });
    expectSameAsGeneric(nullProto);
    expect(compiled.attempt(nullProto)).toBe(canonicalize(use));

    // A class instance passes zod's object check; canonical JSON refuses it.
    class Dataset {
      id = 'transport-agency/traffic-video';
      version = `sha256:${'a'.repeat(64)}`;
    }
    const withInstance = { ...use, dataset: new Dataset() };
    expect(event.safeParse(withInstance).success).toBe(true);
    expect(outcome(() => canonicalEventText(withInstance as Event))).toMatchObject({
      code: 'JCS_UNSUPPORTED_VALUE',
      at: '/dataset',
    });
    expectSameAsGeneric(withInstance, false);

    // A non-enumerable member: zod reads it, Object.keys (and so canonical JSON) does not.
    const hidden = { ...use };
    Object.defineProperty(hidden, 'note', { value: 'hidden', enumerable: false });
    expect(event.safeParse(hidden).success).toBe(true);
    expectSameAsGeneric(hidden, false);
    expect(canonicalEventText(hidden as Event)).not.toContain('hidden');

    // A member the strict schema names, inherited from a prototype object.
    const inherited = Object.assign(Object.create({ note: 'inherited' }) as object, use);
    expectSameAsGeneric(inherited, false);

    // A schema key that is also an Object.prototype property would be read through the
    // prototype; none exists in the event schemas, but the key count would catch it.
    expectSameAsGeneric({ ...use, seq: 1, prev: '0'.repeat(64) });
  });

  it('numbers: ECMAScript shortest form, -0 as 0', () => {
    for (const n of SPECIAL_NUMBERS) {
      const e = {
        ...EXAMPLE_EVENTS.use,
        ext: { 'acme:n': n },
        records: Number.isSafeInteger(n) && n >= 0 ? n : 7,
      };
      expect(event.safeParse(e).success).toBe(true);
      expectSameAsGeneric(e);
    }
    const negZero = { ...EXAMPLE_EVENTS.use, records: -0 };
    expect(event.safeParse(negZero).success).toBe(true);
    expect(canonicalEventText(negZero as Event)).toContain('"records":0,');
    const src = {
      ...EXAMPLE_EVENTS.register,
      emitter: 'city',
      key: 'city/k1',
      subject: {
        kind: 'source',
        id: 'city/cam-1',
        name: 'Cam "north" \\ 😀',
        technology: 'city:TrafficCamera',
        location: { lat: -0, lon: 179.99999999999997 },
        categories: ['city:VideoFootage'],
        personalData: 'none',
      },
    };
    expect(event.safeParse(src).success).toBe(true);
    expectSameAsGeneric(src);
  });

  it('escapes what needs escaping in free text and URLs', () => {
    const note = 'quote " backslash \\ slash / emoji 😀 e\u0301 \u00e9 \ufeff \uffff <\u2027>';
    const e = { ...EXAMPLE_EVENTS.publish, note, url: 'https://x.example/"a"\\b/é?q=😀' };
    expect(event.safeParse(e).success).toBe(true);
    expectSameAsGeneric(e);
    // A lone surrogate in a URL passes the schema; canonical JSON refuses it.
    const lone = { ...EXAMPLE_EVENTS.publish, url: 'https://x.example/\ud800' };
    expect(event.safeParse(lone).success).toBe(true);
    expect(outcome(() => canonicalEventText(lone as Event))).toMatchObject({
      code: 'JCS_LONE_SURROGATE',
      at: '/url',
    });
    expectSameAsGeneric(lone);
  });

  it('writes ids, hashes, times and enums without looking, and little generically', () => {
    const { report } = compiled;
    // What the compiler leaves to the generic path: the extension record and the two
    // plain (non-discriminated) unions.
    expect(new Set(report.generic.map((p) => p.replace(/^\([a-z]+\)/, '')))).toEqual(
      new Set(['/ext', '/subject(source)/location', '/about']),
    );
    // Strings escaped when needed: free text and URLs (and column names, the public key).
    for (const p of report.escaped) {
      expect(p).toMatch(
        /\/(note|name|label|description|explanation|text|reason|basis|location|url|contact|notice|register|privacyStatement|output|inputs\/\*|publicKey)$/,
      );
    }
    for (const p of [
      '/emitter',
      '/prev',
      '/time',
      '/key',
      '/dataset/id',
      '/dataset/version',
      '/personalData',
    ]) {
      expect(report.escaped.filter((x) => x.endsWith(p))).toEqual([]);
    }
  });
});

describe('compileCanonical on other schemas', () => {
  const same = (schema: z.ZodType, value: unknown) => {
    expect(schema.safeParse(value).success).toBe(true);
    const c = compileCanonical(schema);
    expect(outcome(() => c.write(value))).toEqual(outcome(() => canonicalize(value)));
  };

  it('a loose or stripping object is written generically, unknown members included', () => {
    for (const schema of [z.object({ a: z.string() }), z.looseObject({ a: z.string() })]) {
      expect(compileCanonical(schema).report.generic).toEqual(['/']);
      same(schema, { a: 'x', b: 1, '': [2] });
    }
  });

  it('coercing schemas are written generically', () => {
    const schema = z.strictObject({ n: z.coerce.number(), s: z.coerce.string() });
    expect(compileCanonical(schema).report.generic).toEqual(['/n', '/s']);
    same(schema, { n: '42', s: 7 });
  });

  it('keys are ordered by UTF-16 code units, with optional members anywhere', () => {
    const schema = z.strictObject({
      b: z.string().optional(),
      a: z.number().optional(),
      '\u00e9': z.boolean(),
      '\ud83d\ude00': z.null().optional(),
      '\uff61': z.literal('x'),
      A: z.enum(['p', 'q']).optional(),
      '': z.string().regex(/^[0-9]+$/),
    });
    const c = compileCanonical(schema);
    expect(c.report.generic).toEqual([]);
    fc.assert(
      fc.property(arb(schema), fc.integer(), (v, seed) => {
        const value = shuffleDeep(v, seed);
        const generic = outcome(() => canonicalize(value));
        expect(outcome(() => c.write(value))).toEqual(generic);
        expect(c.attempt(value)).toBe('text' in generic ? generic.text : undefined);
      }),
    );
    expect(c.write({ '': '1', é: true, '｡': 'x' })).toBe('{"":"1","é":true,"｡":"x"}');
  });

  it('nesting deeper than the generic limit is refused the same way', () => {
    let schema: z.ZodType = z.string();
    let value: unknown = 'leaf';
    for (let i = 0; i < 70; i++) {
      schema = z.strictObject({ x: schema, n: z.array(z.number()).optional() });
      value = { x: value, n: [i] };
    }
    same(schema, value);
    expect(outcome(() => compileCanonical(schema).write(value))).toMatchObject({ code: 'JCS_TOO_DEEP' });
  });

  it('discriminated unions dispatch on their discriminator; other unions go generic', () => {
    const schema = z.array(
      z.union([
        z.discriminatedUnion('k', [
          z.strictObject({ k: z.literal('a'), v: z.number() }),
          z.strictObject({ k: z.literal(2), w: z.string() }),
        ]),
        z.string(),
      ]),
    );
    same(schema, [{ k: 'a', v: 1 }, { w: '"', k: 2 }, 'x']);
    const du = z.discriminatedUnion('k', [
      z.strictObject({ k: z.literal('a'), v: z.number() }),
      z.strictObject({ k: z.literal(2), w: z.string() }),
    ]);
    const c = compileCanonical(du);
    expect(c.report.generic).toEqual([]);
    expect(c.attempt({ w: 'é"', k: 2 })).toBe('{"k":2,"w":"é\\""}');
  });
});

describe('validateEvent with the compiled serializer', () => {
  /** validateEvent's result code as the former order (canonicalize, size, schema) gives it. */
  function formerFirstCode(value: unknown): string | undefined {
    let canonical: string;
    try {
      canonical = canonicalize(value);
    } catch {
      return 'NOT_CANONICALIZABLE';
    }
    if (Buffer.byteLength(canonical) > LIMITS.maxEventBytes) return 'EVENT_TOO_LARGE';
    return event.safeParse(value).success ? undefined : 'SCHEMA_INVALID';
  }

  function result(value: unknown): { code: string; paths: string[] } | { canonical: string } {
    try {
      return { canonical: validateEvent(value).canonical };
    } catch (e) {
      if (!(e instanceof SchemaError)) throw e;
      return { code: e.code, paths: e.issues.map((i) => i.path) };
    }
  }

  it('returns the canonical text of the input, and the same codes as before', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        anyMutatedEvent,
        fc.option(fc.tuple(fc.string(), fc.anything({ withNullPrototype: true, maxDepth: 2 }))),
        (e, patch) => {
          const value = patch === null ? e : { ...e, [patch[0]]: patch[1] };
          const r = result(value);
          const former = formerFirstCode(value);
          if ('canonical' in r) {
            seen.add('valid');
            expect(former).toBeUndefined();
            expect(r.canonical).toBe(canonicalize(value));
          } else if (former !== undefined) {
            seen.add(former);
            expect(r.code).toBe(former);
          }
        },
      ),
      { numRuns: 1000 },
    );
    expect([...seen].sort()).toEqual(['NOT_CANONICALIZABLE', 'SCHEMA_INVALID', 'valid']);
  }, 30_000);

  it('NOT_CANONICALIZABLE for undefined in an optional member and for NaN', () => {
    expect(result({ ...EXAMPLE_EVENTS.use, note: undefined })).toEqual({
      code: 'NOT_CANONICALIZABLE',
      paths: ['/note'],
    });
    expect(result({ ...EXAMPLE_EVENTS.use, records: NaN })).toEqual({
      code: 'NOT_CANONICALIZABLE',
      paths: ['/records'],
    });
    expect(result({ ...EXAMPLE_EVENTS.use, records: Infinity, note: 'x'.repeat(300) })).toMatchObject({
      code: 'NOT_CANONICALIZABLE',
    });
  });

  it('EVENT_TOO_LARGE before SCHEMA_INVALID, as before', () => {
    expect(result({ ...EXAMPLE_EVENTS.use, note: 'x'.repeat(70 * 1024) })).toMatchObject({
      code: 'EVENT_TOO_LARGE',
    });
  });
});
