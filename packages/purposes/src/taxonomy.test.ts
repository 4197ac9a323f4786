import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTION_TAXONOMY,
  CATEGORY_TAXONOMY,
  categorySensitivity,
  LEGAL_BASIS_TAXONOMY,
  PurposeError,
  PurposeVocabulary,
  Taxonomy,
  type CustomPurpose,
} from './index.ts';

const base = PurposeVocabulary.base();

function refused(f: () => unknown): PurposeError {
  try {
    f();
  } catch (e) {
    if (e instanceof PurposeError) return e;
    throw e;
  }
  throw new Error('expected a PurposeError');
}

describe('isWithin', () => {
  it('holds for a purpose itself and for every broader purpose along any parent path', () => {
    expect(base.isWithin('city:TrafficManagement', 'city:TrafficManagement')).toBe(true);
    expect(base.isWithin('city:ParkingManagement', 'city:TrafficManagement')).toBe(true);
    expect(base.isWithin('city:ParkingManagement', 'dpv:PublicBenefit')).toBe(true);
    // Commercial research sits under both research and commercial purposes.
    expect(base.isWithin('dpv:CommercialResearch', 'dpv:ResearchAndDevelopment')).toBe(true);
    expect(base.isWithin('dpv:CommercialResearch', 'dpv:CommercialPurpose')).toBe(true);
  });

  it('does not hold upwards, sideways, or for unknown purposes', () => {
    expect(base.isWithin('city:TrafficManagement', 'city:ParkingManagement')).toBe(false);
    expect(base.isWithin('city:RoadSafetyEnforcement', 'city:TrafficManagement')).toBe(false);
    expect(base.isWithin('dpv:ScientificResearch', 'dpv:CommercialPurpose')).toBe(false);
    expect(base.isWithin('x-police:Patrol', 'dpv:Purpose')).toBe(false);
    expect(base.isWithinAny('city:ParkingManagement', ['dpv:Marketing', 'city:TrafficManagement'])).toBe(
      true,
    );
    expect(base.isWithinAny('city:ParkingManagement', [])).toBe(false);
  });

  it('lists ancestors along every path, not the term itself', () => {
    const a = base.ancestors('dpv:CommercialResearch');
    expect([...a].sort()).toEqual(['dpv:CommercialPurpose', 'dpv:Purpose', 'dpv:ResearchAndDevelopment']);
    expect(base.ancestors('nope:Nothing').size).toBe(0);
    expect(base.descendants('dpv:ResearchAndDevelopment')).toContain('city:Research');
  });
});

describe('extend', () => {
  it('returns a new vocabulary with the custom purposes and leaves the old one unchanged', () => {
    const v = base.extend(
      [
        {
          id: 'x-police:Patrol',
          label: 'Patrol planning',
          parents: ['city:PublicSafety', 'city:UrbanPlanning'],
        },
        { id: 'x-police:NightPatrol', label: 'Night patrol', parents: ['x-police:Patrol'] },
      ],
      'police',
    );
    expect(v.has('x-police:NightPatrol')).toBe(true);
    expect(base.has('x-police:NightPatrol')).toBe(false);
    expect(v.isWithin('x-police:NightPatrol', 'city:UrbanPlanning')).toBe(true);
    expect(v.isWithin('x-police:NightPatrol', 'dpv:ProtectionOfPublicSecurity')).toBe(true);
    expect(v.get('x-police:Patrol')).toMatchObject({
      source: 'custom',
      declaredBy: 'police',
      iri: 'https://civic-ledger.example/terms/x-police#Patrol',
    });
    expect(v.size).toBe(base.size + 2);
  });

  it('accepts a batch that lists children before their parents', () => {
    const v = base.extend([
      { id: 'x-a:Child', label: 'c', parents: ['x-a:Parent'] },
      { id: 'x-a:Parent', label: 'p', parents: ['dpv:Purpose'] },
    ]);
    expect(v.isWithin('x-a:Child', 'dpv:Purpose')).toBe(true);
  });

  it('refuses an unknown parent, naming the purpose and the parent', () => {
    const e = refused(() => base.extend([{ id: 'x-a:Foo', label: 'f', parents: ['city:Nonexistent'] }]));
    expect(e.code).toBe('UNKNOWN_PARENT');
    expect(e.purpose).toBe('x-a:Foo');
    expect(e.issues[0]).toMatchObject({ path: '/parents/0' });
    expect(e.message).toContain('city:Nonexistent');
  });

  it('refuses a duplicate id, against the vocabulary or within the batch', () => {
    expect(
      refused(() => base.extend([{ id: 'city:Research', label: 'r', parents: ['dpv:Purpose'] }])).code,
    ).toBe('DUPLICATE_PURPOSE');
    const twice: CustomPurpose[] = [
      { id: 'x-a:Foo', label: 'f', parents: ['dpv:Purpose'] },
      { id: 'x-a:Foo', label: 'g', parents: ['dpv:Purpose'] },
    ];
    const e = refused(() => base.extend(twice));
    expect(e.code).toBe('DUPLICATE_PURPOSE');
    expect(e.purpose).toBe('x-a:Foo');
  });

  it('refuses a cycle, naming the purposes in it', () => {
    const e = refused(() =>
      base.extend([
        { id: 'x-a:A', label: 'a', parents: ['x-a:B'] },
        { id: 'x-a:B', label: 'b', parents: ['x-a:C'] },
        { id: 'x-a:C', label: 'c', parents: ['x-a:A', 'dpv:Purpose'] },
        { id: 'x-a:D', label: 'd', parents: ['dpv:Purpose'] },
      ]),
    );
    expect(e.code).toBe('PURPOSE_CYCLE');
    expect(e.issues.map((i) => i.purpose).sort()).toEqual(['x-a:A', 'x-a:B', 'x-a:C']);
  });

  it('refuses a malformed purpose and one outside the declaring organization prefix', () => {
    const bad = refused(() => base.extend([{ id: 'no colon', label: 'x', parents: ['dpv:Purpose'] }]));
    expect(bad.code).toBe('PURPOSE_INVALID');
    expect(bad.issues[0]?.path).toBe('/id');
    const foreign = refused(() =>
      base.extend([{ id: 'x-other:Foo', label: 'x', parents: ['dpv:Purpose'] }], 'police'),
    );
    expect(foreign.code).toBe('PURPOSE_INVALID');
    expect(foreign.message).toContain('x-police:');
  });
});

describe('other taxonomies', () => {
  it('knows the legal bases, with the demo city alias dpv:PublicTask under public interest', () => {
    expect(LEGAL_BASIS_TAXONOMY.isWithin('dpv:PublicTask', 'dpv:PublicInterest')).toBe(true);
    expect(
      LEGAL_BASIS_TAXONOMY.isWithin('dpv:LegitimateInterestOfController', 'dpv:LegitimateInterest'),
    ).toBe(true);
    expect(LEGAL_BASIS_TAXONOMY.isWithin('eu-gdpr:A46-2-c', 'dpv:DataTransferLegalBasis')).toBe(true);
  });

  it('classifies categories as special, criminal, ordinary or unknown', () => {
    expect(categorySensitivity('pd:FacialPrint')).toBe('special');
    expect(categorySensitivity('pd:CriminalOffence')).toBe('criminal');
    expect(categorySensitivity('dpv:VehicleLicence')).toBe('ordinary');
    expect(categorySensitivity('city:Mystery')).toBe('unknown');
    expect(CATEGORY_TAXONOMY.isWithin('city:DeviceIdentifierHash', 'dpv:PersonalData')).toBe(true);
  });

  it('puts city actions under DPV processing operations', () => {
    expect(ACTION_TAXONOMY.isWithin('city:PersonTracking', 'dpv:Tracking')).toBe(true);
    expect(ACTION_TAXONOMY.isWithin('city:StatisticalAnalysis', 'dpv:Use')).toBe(true);
  });

  it('refuses bad shipped data the same way it refuses custom purposes', () => {
    expect(() => Taxonomy.of('t', [{ id: 'a:A', label: 'a', parents: ['a:B'], source: 'city' }])).toThrow(
      PurposeError,
    );
  });
});

// --- Properties: any accepted extension is a DAG whose closure is right --------------------

interface Spec {
  /** For each new purpose i: parents as indexes (< i: earlier new purposes; negative: base terms). */
  parents: number[][];
}

const BASE_IDS = base.terms().map((t) => t.id);

const specArb: fc.Arbitrary<Spec> = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.uniqueArray(fc.integer({ min: -BASE_IDS.length, max: i - 1 }), { minLength: 1, maxLength: 3 }),
      ),
    ),
  )
  .map((parents) => ({ parents }));

const idOf = (i: number) => (i < 0 ? BASE_IDS[-i - 1]! : `x-p:T${i}`);
const purposesOf = (s: Spec): CustomPurpose[] =>
  s.parents.map((ps, i) => ({ id: idOf(i), label: `T${i}`, parents: ps.map(idOf) }));

/** Reference closure by walking parents (no precomputation). */
function walk(v: PurposeVocabulary, id: string, out = new Set<string>()): Set<string> {
  if (out.has(id)) return out;
  out.add(id);
  for (const p of v.parents(id)) walk(v, p, out);
  return out;
}

describe('properties', () => {
  it('isWithin equals reachability along parents, is reflexive, transitive and antisymmetric', () => {
    fc.assert(
      fc.property(specArb, fc.integer(), (spec, salt) => {
        const purposes = purposesOf(spec);
        // The order of a batch does not matter.
        const shuffled = [...purposes].sort(
          (a, b) => ((a.id.length * 31 + salt) % 7) - ((b.id.length * 31 + salt) % 7),
        );
        const v = base.extend(shuffled);
        const ids = [
          ...purposes.map((p) => p.id),
          'dpv:Purpose',
          'city:TrafficManagement',
          'dpv:CommercialResearch',
        ];
        for (const a of ids) {
          const reach = walk(v, a);
          expect(v.isWithin(a, a)).toBe(true);
          for (const b of ids) {
            expect(v.isWithin(a, b)).toBe(reach.has(b));
            if (v.isWithin(a, b) && v.isWithin(b, a)) expect(a).toBe(b);
            for (const c of ids)
              if (v.isWithin(a, b) && v.isWithin(b, c)) expect(v.isWithin(a, c)).toBe(true);
          }
          // Every purpose reaches the DPV root.
          expect(v.isWithin(a, 'dpv:Purpose')).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('refuses any back edge as a cycle and leaves the vocabulary usable', () => {
    fc.assert(
      fc.property(
        specArb.filter((s) => s.parents.length >= 2),
        fc.nat(),
        (spec, pick) => {
          const purposes = purposesOf(spec);
          // Give an early purpose a parent that is within it: a cycle.
          const v = base.extend(purposes);
          const j = pick % purposes.length;
          const under = purposes.filter((p) => v.isWithin(p.id, purposes[j]!.id)).map((p) => p.id);
          const child = under[(pick >> 4) % under.length]!;
          const cyclic = purposes.map((p) =>
            p.id === purposes[j]!.id ? { ...p, parents: [...p.parents, child] } : p,
          );
          const e = refused(() => base.extend(cyclic));
          expect(e.code).toBe('PURPOSE_CYCLE');
          expect(e.issues.map((i) => i.purpose)).toContain(purposes[j]!.id);
          expect(base.has(purposes[j]!.id)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });
});
