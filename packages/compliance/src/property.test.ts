// Properties over random histories of the test city: an evaluation depends only on the
// ledger up to the event (later events, new declaration versions included, never change
// it), every outcome's path is a real lineage walk, and unknowns are never compliant.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clip, DAY, digestOf, HOUR, P, rule, testCity, wifi, type TestCity } from './fixtures.ts';
import type { Outcome } from './index.ts';

type Op =
  | { kind: 'collect'; camera: boolean }
  | {
      kind: 'derive';
      from: number[];
      processing: ('aggregate' | 'anonymise' | 'filter' | 'pseudonymise')[];
      anonymous: boolean;
    }
  | { kind: 'transfer'; from: number; to: 'police' | 'statistics-office' | 'adtech'; purpose: number }
  | { kind: 'use'; from: number; purpose: number; org: number }
  | { kind: 'delete'; from: number }
  | { kind: 'redeclare'; purposes: number[] }
  | { kind: 'wait'; hours: number };

const PURPOSES = [
  'city:TrafficManagement',
  'city:RoadSafetyEnforcement',
  'city:OfficialStatistics',
  'dpv:Advertising',
  'x-nobody:Unknown',
];
const ORGS = ['transport-agency', 'statistics-office', 'police'];

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('collect' as const), camera: fc.boolean() }),
  fc.record({
    kind: fc.constant('derive' as const),
    from: fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 3 }),
    processing: fc.uniqueArray(fc.constantFrom('aggregate', 'anonymise', 'filter', 'pseudonymise'), {
      minLength: 1,
      maxLength: 2,
    }),
    anonymous: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('transfer' as const),
    from: fc.nat(),
    to: fc.constantFrom('police', 'statistics-office', 'adtech'),
    purpose: fc.nat(),
  }),
  fc.record({ kind: fc.constant('use' as const), from: fc.nat(), purpose: fc.nat(), org: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), from: fc.nat() }),
  fc.record({
    kind: fc.constant('redeclare' as const),
    purposes: fc.uniqueArray(fc.nat({ max: 2 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('wait' as const), hours: fc.integer({ min: 1, max: 72 }) }),
);

/** Plays the operations; returns each movement's hash and its outcomes right after it was added. */
function play(ops: readonly Op[]): { c: TestCity; first: Map<string, Outcome[]>; moves: string[] } {
  const { c, d } = testCity();
  let cameras = d.cameras;
  const derived = c.declare({
    subject: 'transport-agency/plates',
    purposes: [P.traffic, P.statistics],
    categories: ['dpv:VehicleLicence', 'city:VideoStill'],
    personalData: 'identified',
    processing: ['filter', 'aggregate'],
    recipients: [rule({ org: 'statistics-office', purposes: ['city:OfficialStatistics'] })],
    retention: { duration: 'P7D' },
  });
  const moves: string[] = [];
  const first = new Map<string, Outcome[]>();
  const pick = (n: number) => moves[n % moves.length]!;
  const record = (h: string) => {
    moves.push(h);
    first.set(h, c.state.evaluate(h));
  };
  for (const o of ops) {
    if (o.kind === 'wait') {
      c.advance(o.hours * HOUR);
      continue;
    }
    if (o.kind === 'redeclare') {
      cameras = c.declare({
        subject: 'transport-agency/cameras',
        purposes: o.purposes.map((i) => [P.traffic, P.enforcement, P.statistics][i]!),
        categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
        personalData: 'identified',
        processing: ['filter', 'anonymise', 'aggregate'],
        recipients: [rule({ org: 'police', purposes: ['city:RoadSafetyEnforcement'] })],
        retention: { duration: 'P3D', deletion: 'erase' },
      });
      continue;
    }
    if (o.kind === 'collect' || moves.length === 0) {
      record(o.kind === 'collect' && !o.camera ? wifi(c, d.wifi) : clip(c, cameras));
      continue;
    }
    if (o.kind === 'derive') {
      const inputs = [...new Set(o.from.map(pick))];
      const anonymise = o.processing.includes('anonymise');
      record(
        c.move('transport-agency', 'derive', {
          datasetId: 'transport-agency/plates',
          inputs,
          purpose: 'city:TrafficManagement',
          declaration: derived,
          processing: o.processing,
          categories: ['dpv:VehicleLicence', 'city:VideoStill'],
          personalData: o.anonymous ? 'anonymised' : 'identified',
          ...(anonymise
            ? { anonymisation: { technique: 'dpv:Anonymisation', assessment: digestOf('a') } }
            : {}),
        }),
      );
    } else if (o.kind === 'transfer') {
      record(
        c.move('transport-agency', 'transfer', {
          datasetId: 'transport-agency/plates',
          inputs: [pick(o.from)],
          purpose: PURPOSES[o.purpose % PURPOSES.length],
          declaration: derived,
          recipient: o.to,
        }),
      );
    } else if (o.kind === 'use') {
      record(
        c.move(ORGS[o.org % ORGS.length]!, 'use', {
          datasetId: 'transport-agency/plates',
          inputs: [pick(o.from)],
          purpose: PURPOSES[o.purpose % PURPOSES.length],
          declaration: derived,
          action: 'city:StatisticalAnalysis',
        }),
      );
    } else {
      record(
        c.move('transport-agency', 'delete', {
          datasetId: 'transport-agency/plates',
          inputs: [pick(o.from)],
          purpose: 'city:TrafficManagement',
          declaration: derived,
          method: 'erase',
        }),
      );
    }
  }
  return { c, first, moves };
}

describe('properties of evaluation', () => {
  it('depends only on the ledger up to the event, walks real lineage, and never passes an unknown', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
        const { c, first, moves } = play(ops);
        c.advance(DAY);
        const inputsOf = new Map(
          c.events.flatMap((x) => ('inputs' in x.event ? [[x.hash, new Set(x.event.inputs)] as const] : [])),
        );
        for (const h of moves) {
          const now = c.state.evaluate(h);
          expect(now).toEqual(first.get(h));
          expect(new Set(now.map((o) => o.check)).size).toBe(now.length);
          for (const o of now) {
            expect(o.path[0]).toBe(h);
            for (let i = 1; i < o.path.length; i++)
              expect(inputsOf.get(o.path[i - 1]!)?.has(o.path[i]!)).toBe(true);
            expect(o.explanation.length).toBeLessThanOrEqual(280);
          }
          const ev = c.events.find((x) => x.hash === h)!.event;
          if ('purpose' in ev && ev.purpose.startsWith('x-nobody:')) {
            expect(now.find((o) => o.check === 'purpose-declared')?.outcome).toBe('undetermined');
            expect(now.find((o) => o.check === 'unknown-term')?.outcome).toBe('undetermined');
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
