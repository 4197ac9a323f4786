// Test helpers (the subpath @civic-ledger/schemas/fuzz, not the package's index):
// fast-check arbitraries that mutate JSON values the way a careless writer or a forger
// would, for the property tests that compare fast paths (the acceptor, the verifier's
// decoders) with the reference ones.
import fc from 'fast-check';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every place in a value: its container and the key or index there. */
function places(v: Json, out: { parent: Json[] | { [k: string]: Json }; key: string | number }[] = []) {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push({ parent: v, key: i });
      places(x, out);
    });
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push({ parent: v, key: k });
      places(x, out);
    }
  }
  return out;
}

/** Strings that stress a validator: control characters, quotes, surrogates, long ones. */
export const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', ' ', '\u0000', '"', '\\', '\ud800', '\udc00', '😀', '\u2028', 'é', 'a'.repeat(300)),
  fc.constantFrom(
    'transport-agency',
    'transport-agency/k1',
    // Registered source and dataset of the test history, and an id never registered: a
    // movement naming the wrong one (or the wrong kind) is UNKNOWN_SUBJECT.
    'transport-agency/cameras/north-07',
    'transport-agency/traffic-counts',
    'transport-agency/parking-counts',
    'city:TrafficManagement',
    'sha256:' + 'a'.repeat(64),
    'A'.repeat(64),
    'a'.repeat(63),
    'e'.repeat(64) + '\n',
    '2026-02-29T00:00:00Z',
    '2026-11-02T24:00:00Z',
    '2026-11-02T08:15:00.123456789Z',
    '0099-02-29T00:00:00Z',
    '2026-11-02t08:15:00z',
    'P30D',
    'https://x.example/a b',
  ),
);

const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1.5, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), 1e21, 1e-7, Number.MAX_VALUE),
);

const nastyValue: fc.Arbitrary<Json> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.constantFrom(null, true, false, [], {}),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

/** One mutation of a JSON value, applied in place to a copy. */
export type Mutation = (v: Json) => Json;

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Replace a member or item with something else.
  fc.tuple(fc.nat(), nastyValue).map(([at, x]) => (v: Json) => {
    const p = places(v);
    if (p.length === 0) return structuredClone(x);
    const { parent, key } = p[at % p.length]!;
    (parent as Record<string | number, Json>)[key] = structuredClone(x);
    return v;
  }),
  // Remove a member or item.
  fc.nat().map((at) => (v: Json) => {
    const p = places(v);
    if (p.length === 0) return v;
    const { parent, key } = p[at % p.length]!;
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
    return v;
  }),
  // Add a member to an object, or an item (possibly a duplicate) to an array.
  fc
    .tuple(
      fc.nat(),
      fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('note', 'ext', 'x', '__proto__')),
      nastyValue,
    )
    .map(([at, name, x]) => (v: Json) => {
      const containers = [
        v,
        ...places(v).map(({ parent, key }) => (parent as Record<string | number, Json>)[key]!),
      ].filter((c) => c !== null && typeof c === 'object') as (Json[] | { [k: string]: Json })[];
      if (containers.length === 0) return v;
      const c = containers[at % containers.length]!;
      // Copies, so no value ever contains itself.
      if (Array.isArray(c)) c.push(structuredClone(c.length > 0 && at % 2 === 0 ? c[0]! : x));
      else
        Object.defineProperty(c, name, {
          value: structuredClone(x),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return v;
    }),
  // Change the type, keeping the rest.
  fc
    .constantFrom(
      'collect',
      'transfer',
      'derive',
      'use',
      'publish',
      'delete',
      'register',
      'declare',
      'key',
      'attest',
      'finding',
      'other',
    )
    .map((t) => (v: Json) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) v['type'] = t;
      return v;
    }),
);

/** A deep copy with up to three mutations applied. */
export const mutated = (base: unknown) =>
  fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
    let v = structuredClone(base) as Json;
    for (const m of ms) v = m(v);
    return v as unknown;
  });

/** Whether any string in the value (or member name) holds a UTF-16 surrogate. */
export function hasSurrogate(v: unknown): boolean {
  const s = /[\ud800-\udfff]/;
  if (typeof v === 'string') return s.test(v);
  if (Array.isArray(v)) return v.some(hasSurrogate);
  if (v !== null && typeof v === 'object')
    return Object.entries(v).some(([k, x]) => s.test(k) || hasSurrogate(x));
  return false;
}

/** JSON text with members sorted by UTF-16 code units (RFC 8785 for these values). */
export function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
