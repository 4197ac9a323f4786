// Table-driven scenarios on a small hand-made city (fixtures.ts): each builds the events it
// is about on top of the base city and names the outcome it expects for some checks of one
// event. Together they cover every check with a compliant and a non-compliant case (the last
// test checks that), and the scenarios the issue names.
import { describe, expect, it } from 'vitest';
import { CHECK_IDS, type CheckId } from './checks.ts';
import type { OutcomeKind } from './evaluate.ts';
import {
  clip,
  counts,
  DAY,
  digestOf,
  footfall,
  HOUR,
  P,
  rule,
  T0,
  testCity,
  wifi,
  type TestCity,
} from './fixtures.ts';
import { toFinding } from './finding.ts';

type Expect = Partial<Record<CheckId, OutcomeKind | 'absent'>>;
interface Scenario {
  name: string;
  run: () => { c: TestCity; target: string };
  expect: Expect;
  /** No outcome other than compliant at all. */
  clean?: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function use(
  c: TestCity,
  org: string,
  input: string,
  datasetId: string,
  declaration: string,
  purpose: string,
  action = 'city:StatisticalAnalysis',
) {
  return c.move(org, 'use', { datasetId, inputs: [input], purpose, declaration, action });
}
function transfer(
  c: TestCity,
  org: string,
  input: string,
  datasetId: string,
  declaration: string,
  recipient: string,
  purpose: string,
  extra = {},
) {
  return c.move(org, 'transfer', { datasetId, inputs: [input], purpose, declaration, recipient, ...extra });
}

/** Counts released by anonymisation from a clip, then shared to vendor-a under a next policy. */
function vendorChain(opts: {
  onward: boolean;
  next: Parameters<TestCity['declare']>[0] | undefined;
  nextPolicy?: boolean;
}) {
  const { c } = testCity();
  const countsV2 = c.declare({
    subject: 'transport-agency/counts',
    purposes: [P.traffic, P.statistics],
    processing: ['aggregate', 'transform'],
    recipients: [
      rule({
        org: 'vendor-a',
        purposes: ['city:TrafficManagement'],
        nextPolicyRequired: true,
        ...(opts.onward ? { onwardTransfer: true } : {}),
      }),
      rule({ org: 'subproc', purposes: ['city:TrafficManagement'] }),
    ],
    prohibitions: ['city:SaleToThirdParties'],
    retention: { duration: 'P2Y', deletion: 'erase' },
  });
  const next = opts.next === undefined ? undefined : c.declare(opts.next, 'vendor-a');
  const cam = c.declare({
    subject: 'transport-agency/cameras',
    purposes: [P.traffic],
    categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
    personalData: 'identified',
    processing: ['infer', 'filter', 'anonymise', 'aggregate'],
    retention: { duration: 'P7D', deletion: 'erase' },
  });
  const k = counts(c, clip(c, cam), countsV2);
  const first = transfer(
    c,
    'transport-agency',
    k,
    'transport-agency/counts',
    countsV2,
    'vendor-a',
    'city:TrafficManagement',
    {
      ...(next !== undefined && opts.nextPolicy !== false ? { nextPolicy: next } : {}),
    },
  );
  const onward = transfer(
    c,
    'vendor-a',
    first,
    'transport-agency/counts',
    countsV2,
    'subproc',
    'city:TrafficManagement',
  );
  return { c, first, onward };
}

const vendorPolicy = (o: Partial<Parameters<TestCity['declare']>[0]> = {}) => ({
  subject: 'vendor-a/traffic-in',
  purposes: [{ ...P.traffic, legalBasis: 'dpv:Contract' }],
  recipients: [rule({ org: 'subproc', purposes: ['city:TrafficManagement'] })],
  prohibitions: ['city:SaleToThirdParties'],
  retention: { duration: 'P1Y', deletion: 'erase' as const },
  ...o,
});

/** Cameras re-declared (v2) with the given changes; returns the v2 hash. */
function cameras(c: TestCity, o: Partial<Parameters<TestCity['declare']>[0]> = {}) {
  return c.declare({
    subject: 'transport-agency/cameras',
    purposes: [P.traffic],
    categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
    personalData: 'identified',
    processing: ['infer', 'filter', 'anonymise', 'aggregate'],
    prohibitions: ['city:SaleToThirdParties', 'city:PersonTracking'],
    retention: { duration: 'P7D', deletion: 'erase' },
    ...o,
  });
}

/** A police body-camera source with special-category data under the given declaration options. */
function bodycam(o: Partial<Parameters<TestCity['declare']>[0]>) {
  const { c } = testCity();
  c.source('police/bodycams/b1', ['city:VideoFootage', 'pd:FacialPrint'], 'identified', {
    notice: 'https://sensors.example/b1',
  });
  c.dataset('police/bodycam-video', ['city:VideoFootage', 'pd:FacialPrint'], 'identified', [
    'police/bodycams/b1',
  ]);
  const d = c.declare({
    subject: 'police/bodycams',
    purposes: [{ id: 'city:PublicSafety', description: 'Public safety.', legalBasis: 'dpv:LegalObligation' }],
    categories: ['city:VideoFootage', 'pd:FacialPrint'],
    personalData: 'identified',
    retention: { duration: 'P30D', deletion: 'erase' },
    ...o,
  });
  const target = c.collect('police', {
    datasetId: 'police/bodycam-video',
    source: 'police/bodycams/b1',
    purpose: 'city:PublicSafety',
    declaration: d,
    categories: ['city:VideoFootage', 'pd:FacialPrint'],
    personalData: 'identified',
  });
  return { c, target };
}

const SCENARIOS: Scenario[] = [
  // --- Collection, declarations in force, register, impact assessment
  {
    name: 'a camera clip collected under its declaration is compliant',
    run: () => {
      const { c, d } = testCity();
      return { c, target: clip(c, d.cameras) };
    },
    expect: {
      'declaration-in-force': 'compliant',
      'impact-assessment': 'compliant',
      'public-register': 'compliant',
      'legal-basis': 'compliant',
      conflicts: 'compliant',
    },
    clean: true,
  },
  {
    name: 'a first collection without any DPIA',
    run: () => {
      const { c } = testCity();
      return { c, target: clip(c, cameras(c, { without: ['assessments'] })) };
    },
    expect: { 'impact-assessment': 'violation' },
  },
  {
    name: 'a first collection before the DPIA is dated',
    run: () => {
      const { c } = testCity();
      const v2 = cameras(c, {
        assessments: [
          {
            kind: 'dpia',
            url: 'https://example.org/dpia',
            digest: digestOf('late'),
            date: iso(T0 + 10 * DAY),
          },
        ],
      });
      return { c, target: clip(c, v2) };
    },
    expect: { 'impact-assessment': 'violation' },
  },
  {
    name: 'a collection recording a category the public register does not show',
    run: () => {
      const { c, d } = testCity();
      const target = c.collect('transport-agency', {
        datasetId: 'transport-agency/video',
        source: 'transport-agency/cameras/c1',
        purpose: 'city:TrafficManagement',
        declaration: d.cameras,
        categories: ['city:VideoFootage', 'pd:GPSCoordinate'],
        personalData: 'identified',
      });
      return { c, target };
    },
    expect: { 'public-register': 'violation' },
  },
  {
    name: 'a collection naming the declaration of another subject',
    run: () => {
      const { c, d } = testCity();
      return { c, target: clip(c, d.wifi) };
    },
    expect: { 'declaration-in-force': 'violation' },
  },
  {
    name: 'a collection naming a superseded version',
    run: () => {
      const { c, d } = testCity();
      cameras(c);
      return { c, target: clip(c, d.cameras) };
    },
    expect: { 'declaration-in-force': 'violation' },
  },
  {
    name: 'a collection after its declaration expired',
    run: () => {
      const { c } = testCity();
      return { c, target: clip(c, cameras(c, { validUntil: iso(T0 - DAY) })) };
    },
    expect: { 'declaration-in-force': 'violation' },
  },
  ...(['before', 'after'] as const).map((when): Scenario => ({
    name: `a declaration published after the movement it would cover (evaluated ${when} it appears)`,
    run: () => {
      const { c } = testCity();
      c.source('transport-agency/north/n1', ['city:VideoFootage'], 'identified', {
        notice: 'https://sensors.example/n1',
      });
      const decl = c.declaration({
        subject: 'transport-agency/north',
        purposes: [P.traffic],
        categories: ['city:VideoFootage'],
        personalData: 'identified',
        retention: { duration: 'P7D' },
      });
      const future = c.peek(
        'transport-agency',
        { type: 'declare', declaration: decl },
        'declarations',
        c.clock + HOUR,
      );
      const target = c.collect('transport-agency', {
        datasetId: 'transport-agency/video',
        source: 'transport-agency/north/n1',
        purpose: 'city:TrafficManagement',
        declaration: future,
        categories: ['city:VideoFootage'],
        personalData: 'identified',
      });
      if (when === 'after') {
        c.advance(HOUR);
        expect(c.emit('transport-agency', { type: 'declare', declaration: decl }, 'declarations')).toBe(
          future,
        );
      }
      return { c, target };
    },
    expect: { 'declaration-in-force': when === 'before' ? 'undetermined' : 'violation' },
  })),

  // --- Purposes, versions, further processing, notices
  {
    name: 'a declaration narrowed later: an earlier movement is judged by the old version',
    run: () => {
      const { c } = testCity();
      const v2 = cameras(c, { purposes: [P.traffic, P.enforcement] });
      const k = clip(c, v2);
      const target = use(
        c,
        'transport-agency',
        k,
        'transport-agency/video',
        v2,
        'city:RoadSafetyEnforcement',
        'city:Enforcement',
      );
      cameras(c, { purposes: [P.traffic] });
      return { c, target };
    },
    expect: { 'purpose-declared': 'compliant', 'declaration-in-force': 'compliant' },
    clean: true,
  },
  {
    name: 'a declaration narrowed later: a movement after it is judged by the new version',
    run: () => {
      const { c } = testCity();
      const v2 = cameras(c, { purposes: [P.traffic, P.enforcement] });
      const k = clip(c, v2);
      const v3 = cameras(c, { purposes: [P.traffic] });
      return {
        c,
        target: use(
          c,
          'transport-agency',
          k,
          'transport-agency/video',
          v3,
          'city:RoadSafetyEnforcement',
          'city:Enforcement',
        ),
      };
    },
    expect: { 'purpose-declared': 'violation', 'further-processing': 'violation' },
  },
  {
    name: 'camera video declared for traffic management handed to the police for enforcement',
    run: () => {
      const { c, d } = testCity();
      const k = clip(c, d.cameras);
      return {
        c,
        target: transfer(
          c,
          'transport-agency',
          k,
          'transport-agency/video',
          d.cameras,
          'police',
          'city:RoadSafetyEnforcement',
        ),
      };
    },
    expect: {
      'purpose-declared': 'violation',
      'recipient-allowed': 'violation',
      'further-processing': 'violation',
    },
  },
  {
    name: 'camera video handed to the police under a declaration that allows it',
    run: () => {
      const { c } = testCity();
      const v2 = cameras(c, {
        purposes: [P.traffic, P.enforcement],
        recipients: [
          rule({ org: 'police', purposes: ['city:RoadSafetyEnforcement'], agreementRequired: true }),
        ],
      });
      const k = clip(c, v2);
      return {
        c,
        target: transfer(
          c,
          'transport-agency',
          k,
          'transport-agency/video',
          v2,
          'police',
          'city:RoadSafetyEnforcement',
          {
            agreement: digestOf('police agreement'),
          },
        ),
      };
    },
    expect: { 'recipient-allowed': 'compliant', 'purpose-declared': 'compliant', 'next-policy': 'absent' },
    clean: true,
  },
  {
    name: 'a transfer without the agreement its rule requires',
    run: () => {
      const { c } = testCity();
      const v2 = cameras(c, {
        purposes: [P.traffic, P.enforcement],
        recipients: [
          rule({ org: 'police', purposes: ['city:RoadSafetyEnforcement'], agreementRequired: true }),
        ],
      });
      return {
        c,
        target: transfer(
          c,
          'transport-agency',
          clip(c, v2),
          'transport-agency/video',
          v2,
          'police',
          'city:RoadSafetyEnforcement',
        ),
      };
    },
    expect: { 'recipient-allowed': 'violation' },
  },
  {
    name: 'the police use video they never received',
    run: () => {
      const { c, d } = testCity();
      return {
        c,
        target: use(
          c,
          'police',
          clip(c, d.cameras),
          'transport-agency/video',
          d.cameras,
          'city:TrafficManagement',
        ),
      };
    },
    expect: { 'recipient-allowed': 'violation' },
  },
  {
    name: 'a further purpose with a recorded compatibility assessment is undetermined, never compliant',
    run: () => {
      const { c } = testCity();
      const v2 = c.declare({
        subject: 'transport-agency/counts',
        purposes: [P.traffic],
        assessments: [
          {
            kind: 'compatibility',
            url: 'https://example.org/compat',
            digest: digestOf('compat'),
            date: iso(T0 - DAY),
          },
        ],
        retention: { duration: 'P2Y' },
      });
      const k = counts(c, clip(c, cameras(c)), v2);
      return {
        c,
        target: use(c, 'transport-agency', k, 'transport-agency/counts', v2, 'city:UrbanPlanning'),
      };
    },
    expect: { 'further-processing': 'undetermined', 'purpose-declared': 'absent' },
  },
  {
    name: 'a further purpose resting on a new legal obligation',
    run: () => {
      const { c, d } = testCity();
      const plates = c.declare({
        subject: 'transport-agency/plates',
        purposes: [P.enforcement],
        categories: ['dpv:VehicleLicence', 'city:VideoStill'],
        personalData: 'identified',
        processing: ['filter'],
        retention: { duration: 'P7D' },
      });
      const target = c.move('transport-agency', 'derive', {
        datasetId: 'transport-agency/plates',
        inputs: [clip(c, d.cameras)],
        purpose: 'city:RoadSafetyEnforcement',
        declaration: plates,
        processing: ['filter'],
        categories: ['dpv:VehicleLicence', 'city:VideoStill'],
        personalData: 'identified',
      });
      return { c, target };
    },
    expect: {
      'further-processing': 'compliant',
      'notice-before-use': 'compliant',
      'derived-inheritance': 'violation',
    },
  },
  {
    name: 'a purpose added by a new version without a public notice',
    run: () => {
      const { c } = testCity();
      const v2 = cameras(c, { purposes: [P.traffic, P.enforcement], without: ['notice'] });
      return {
        c,
        target: use(
          c,
          'transport-agency',
          clip(c, v2),
          'transport-agency/video',
          v2,
          'city:RoadSafetyEnforcement',
          'city:Enforcement',
        ),
      };
    },
    expect: { 'notice-before-use': 'violation', 'purpose-declared': 'compliant' },
  },

  // --- Wi-Fi: aggregation, publication, sale, anonymisation
  {
    name: 'Wi-Fi captures aggregated and k-anonymised into footfall counts',
    run: () => {
      const { c, d } = testCity();
      return { c, target: footfall(c, [wifi(c, d.wifi), wifi(c, d.wifi)], d.footfall) };
    },
    expect: {
      anonymisation: 'compliant',
      'derived-inheritance': 'compliant',
      'processing-permitted': 'compliant',
    },
    clean: true,
  },
  {
    name: 'Wi-Fi footfall counts aggregated and published as open data',
    run: () => {
      const { c, d } = testCity();
      const f = footfall(c, [wifi(c, d.wifi)], d.footfall);
      const target = c.move('statistics-office', 'publish', {
        datasetId: 'statistics-office/footfall',
        inputs: [f],
        purpose: 'city:PublicInformation',
        declaration: d.footfall,
        audience: 'public',
        licence: 'spdx:CC-BY-4.0',
      });
      return { c, target };
    },
    expect: { 'recipient-allowed': 'compliant', 'purpose-declared': 'compliant' },
    clean: true,
  },
  {
    name: 'raw Wi-Fi device identifiers sold to an advertising vendor',
    run: () => {
      const { c, d } = testCity();
      return {
        c,
        target: transfer(
          c,
          'statistics-office',
          wifi(c, d.wifi),
          'statistics-office/wifi-raw',
          d.wifi,
          'adtech',
          'city:Advertising',
        ),
      };
    },
    expect: {
      'purpose-declared': 'violation',
      'recipient-allowed': 'violation',
      'processing-permitted': 'violation',
      'further-processing': 'violation',
    },
  },
  {
    name: 'an anonymised derivative used for research',
    run: () => {
      const { c, d } = testCity();
      const f = footfall(c, [wifi(c, d.wifi)], d.footfall);
      return {
        c,
        target: use(c, 'statistics-office', f, 'statistics-office/footfall', d.footfall, 'city:Research'),
      };
    },
    expect: { 'purpose-declared': 'compliant', retention: 'compliant' },
    clean: true,
  },
  ...(['derive', 'use'] as const).map((which): Scenario => ({
    name: `a pseudonymised derivative keeps the Wi-Fi rules (${which === 'derive' ? 'its wider declaration' : 'research under art. 89'})`,
    run: () => {
      const { c, d } = testCity();
      const pseudo = c.declare({
        subject: 'statistics-office/wifi-pseudo',
        purposes: [P.statistics, P.research],
        categories: ['city:DeviceIdentifierHash', 'city:PresenceTime'],
        personalData: 'pseudonymised',
        measures: ['dpv:Pseudonymisation'],
        retention: { duration: 'P2D' },
      });
      const derived = c.move('statistics-office', 'derive', {
        datasetId: 'statistics-office/wifi-pseudo',
        inputs: [wifi(c, d.wifi)],
        purpose: 'city:OfficialStatistics',
        declaration: pseudo,
        processing: ['pseudonymise'],
        categories: ['city:DeviceIdentifierHash', 'city:PresenceTime'],
        personalData: 'pseudonymised',
      });
      if (which === 'derive') return { c, target: derived };
      return {
        c,
        target: use(
          c,
          'statistics-office',
          derived,
          'statistics-office/wifi-pseudo',
          pseudo,
          'city:Research',
        ),
      };
    },
    expect:
      which === 'derive'
        ? { 'derived-inheritance': 'violation', anonymisation: 'absent' }
        : {
            'further-processing': 'compliant',
            'purpose-declared': 'absent',
            'notice-before-use': 'compliant',
          },
  })),
  ...(['derive', 'publish'] as const).map((which): Scenario => ({
    name: `pseudonymised data treated as anonymous (${which})`,
    run: () => {
      const { c, d } = testCity();
      const fake = c.move('statistics-office', 'derive', {
        datasetId: 'statistics-office/footfall',
        inputs: [wifi(c, d.wifi)],
        purpose: 'city:OfficialStatistics',
        declaration: d.footfall,
        processing: ['pseudonymise', 'aggregate'],
        categories: ['city:FootfallCount'],
        personalData: 'anonymised',
      });
      if (which === 'derive') return { c, target: fake };
      const target = c.move('statistics-office', 'publish', {
        datasetId: 'statistics-office/footfall',
        inputs: [fake],
        purpose: 'city:PublicInformation',
        declaration: d.footfall,
        audience: 'public',
      });
      return { c, target };
    },
    expect:
      which === 'derive'
        ? { anonymisation: 'violation' }
        : { 'recipient-allowed': 'violation', anonymisation: 'violation' },
  })),
  {
    name: 'an anonymisation with an unknown technique keeps the binding',
    run: () => {
      const { c, d } = testCity();
      const target = c.move('statistics-office', 'derive', {
        datasetId: 'statistics-office/footfall',
        inputs: [wifi(c, d.wifi)],
        purpose: 'city:OfficialStatistics',
        declaration: d.footfall,
        processing: ['aggregate', 'anonymise'],
        categories: ['city:FootfallCount'],
        personalData: 'anonymised',
        anonymisation: { technique: 'x-statistics-office:Magic', assessment: digestOf('magic') },
      });
      return { c, target };
    },
    expect: { anonymisation: 'undetermined', 'unknown-term': 'undetermined' },
  },

  // --- Onward transfers and next policies
  {
    name: "a vendor's onward transfer to a sub-processor its terms allow",
    run: () => {
      const { c, onward } = vendorChain({ onward: true, next: vendorPolicy() });
      return { c, target: onward };
    },
    expect: { 'recipient-allowed': 'compliant' },
    clean: true,
  },
  {
    name: 'the transfer to the vendor names a next policy at least as strict',
    run: () => {
      const { c, first } = vendorChain({ onward: true, next: vendorPolicy() });
      return { c, target: first };
    },
    expect: { 'next-policy': 'compliant' },
    clean: true,
  },
  {
    name: "a vendor's onward transfer to a sub-processor when the rule forbids onward transfer",
    run: () => {
      const { c, onward } = vendorChain({ onward: false, next: vendorPolicy() });
      return { c, target: onward };
    },
    expect: { 'recipient-allowed': 'violation' },
  },
  {
    name: 'a next policy letting the vendor pass data on though the rule forbids it',
    run: () => {
      const { c, first } = vendorChain({ onward: false, next: vendorPolicy() });
      return { c, target: first };
    },
    expect: { 'next-policy': 'violation' },
  },
  {
    name: 'a next policy naming a recipient the sender does not allow',
    run: () => {
      const { c, first } = vendorChain({
        onward: true,
        next: vendorPolicy({ recipients: [rule({ org: 'adtech', purposes: ['city:TrafficManagement'] })] }),
      });
      return { c, target: first };
    },
    expect: { 'next-policy': 'violation' },
  },
  {
    name: 'a next policy allowing more purposes',
    run: () => {
      const { c, first } = vendorChain({
        onward: true,
        next: vendorPolicy({ purposes: [{ ...P.traffic, legalBasis: 'dpv:Contract' }, P.commercial] }),
      });
      return { c, target: first };
    },
    expect: { 'next-policy': 'violation' },
  },
  {
    name: 'a next policy dropping a prohibition',
    run: () => {
      const { c, first } = vendorChain({ onward: true, next: vendorPolicy({ prohibitions: [] }) });
      return { c, target: first };
    },
    expect: { 'next-policy': 'violation' },
  },
  {
    name: 'a next policy keeping the data longer',
    run: () => {
      const { c, first } = vendorChain({
        onward: true,
        next: vendorPolicy({ retention: { duration: 'P5Y' } }),
      });
      return { c, target: first };
    },
    expect: { 'next-policy': 'violation' },
  },
  {
    name: 'a transfer without the next policy its rule requires',
    run: () => {
      const { c, first } = vendorChain({ onward: true, next: vendorPolicy(), nextPolicy: false });
      return { c, target: first };
    },
    expect: { 'next-policy': 'violation' },
  },
  {
    name: 'a rule allowing one recipient, used for a second',
    run: () => {
      const { c } = testCity();
      const v2 = c.declare({
        subject: 'transport-agency/counts',
        purposes: [P.traffic, P.statistics],
        recipients: [rule({ role: 'agency', purposes: ['city:OfficialStatistics'], maxRecipients: 1 })],
        retention: { duration: 'P2Y' },
      });
      const k = counts(c, clip(c, cameras(c)), v2);
      transfer(
        c,
        'transport-agency',
        k,
        'transport-agency/counts',
        v2,
        'statistics-office',
        'city:OfficialStatistics',
      );
      return {
        c,
        target: transfer(
          c,
          'transport-agency',
          k,
          'transport-agency/counts',
          v2,
          'university',
          'city:OfficialStatistics',
        ),
      };
    },
    expect: { 'recipient-allowed': 'violation' },
  },

  // --- Retention and duties
  ...([1, 3] as const).map((days): Scenario => ({
    name: `Wi-Fi data (retention 2 days) used ${days} day(s) after its collection`,
    run: () => {
      const { c, d } = testCity();
      const w = wifi(c, d.wifi);
      c.advance(days * DAY);
      return {
        c,
        target: use(
          c,
          'statistics-office',
          w,
          'statistics-office/wifi-raw',
          d.wifi,
          'city:OfficialStatistics',
        ),
      };
    },
    expect: { retention: days === 1 ? 'compliant' : 'violation' },
    clean: days === 1,
  })),
  {
    name: 'data used after its holder deleted it',
    run: () => {
      const { c, d } = testCity();
      const w = wifi(c, d.wifi);
      c.move('statistics-office', 'delete', {
        datasetId: 'statistics-office/wifi-raw',
        inputs: [w],
        purpose: 'city:OfficialStatistics',
        declaration: d.wifi,
        method: 'erase',
      });
      return {
        c,
        target: use(
          c,
          'statistics-office',
          w,
          'statistics-office/wifi-raw',
          d.wifi,
          'city:OfficialStatistics',
        ),
      };
    },
    expect: { retention: 'violation' },
  },
  {
    name: 'a deletion after the retention deadline',
    run: () => {
      const { c, d } = testCity();
      const w = wifi(c, d.wifi);
      c.advance(3 * DAY);
      return {
        c,
        target: c.move('statistics-office', 'delete', {
          datasetId: 'statistics-office/wifi-raw',
          inputs: [w],
          purpose: 'city:OfficialStatistics',
          declaration: d.wifi,
          method: 'erase',
        }),
      };
    },
    expect: { retention: 'violation', duties: 'compliant' },
  },
  ...(['erase', 'overwrite'] as const).map((method): Scenario => ({
    name: `a deletion by ${method} where the declaration requires erase`,
    run: () => {
      const { c, d } = testCity();
      const w = wifi(c, d.wifi);
      return {
        c,
        target: c.move('statistics-office', 'delete', {
          datasetId: 'statistics-office/wifi-raw',
          inputs: [w],
          purpose: 'city:OfficialStatistics',
          declaration: d.wifi,
          method,
        }),
      };
    },
    expect: { duties: method === 'erase' ? 'compliant' : 'violation' },
    clean: method === 'erase',
  })),

  // --- Processing, derivation, prohibitions
  ...(['filter', 'train-model'] as const).map((step): Scenario => ({
    name: `a ${step} of camera video (the declaration permits infer, filter, anonymise, aggregate)`,
    run: () => {
      const { c, d } = testCity();
      const plates = c.declare({
        subject: 'transport-agency/plates',
        purposes: [P.traffic],
        categories: ['dpv:VehicleLicence', 'city:VideoStill'],
        personalData: 'identified',
        processing: ['filter', 'train-model'],
        prohibitions: ['city:SaleToThirdParties', 'city:PersonTracking'],
        retention: { duration: 'P7D', deletion: 'erase' },
      });
      const target = c.move('transport-agency', 'derive', {
        datasetId: 'transport-agency/plates',
        inputs: [clip(c, d.cameras)],
        purpose: 'city:TrafficManagement',
        declaration: plates,
        processing: [step],
        categories: ['dpv:VehicleLicence', 'city:VideoStill'],
        personalData: 'identified',
      });
      return { c, target };
    },
    expect: {
      'processing-permitted': step === 'filter' ? 'compliant' : 'violation',
      'derived-inheritance': 'compliant',
    },
    clean: step === 'filter',
  })),
  {
    name: 'a derived dataset declared wider than its input allows',
    run: () => {
      const { c, d } = testCity();
      const plates = c.declare({
        subject: 'transport-agency/plates',
        purposes: [P.traffic],
        categories: ['dpv:VehicleLicence', 'city:VideoStill'],
        personalData: 'identified',
        processing: ['filter'],
        recipients: [rule({ org: 'police', purposes: ['city:TrafficManagement'] })],
        prohibitions: ['city:SaleToThirdParties', 'city:PersonTracking'],
        retention: { duration: 'P7D' },
      });
      const target = c.move('transport-agency', 'derive', {
        datasetId: 'transport-agency/plates',
        inputs: [clip(c, d.cameras)],
        purpose: 'city:TrafficManagement',
        declaration: plates,
        processing: ['filter'],
        categories: ['dpv:VehicleLicence', 'city:VideoStill'],
        personalData: 'identified',
      });
      return { c, target };
    },
    expect: { 'derived-inheritance': 'violation' },
  },
  {
    name: 'a prohibition wins over a declared purpose (tracking for statistics)',
    run: () => {
      const { c, d } = testCity();
      return {
        c,
        target: use(
          c,
          'statistics-office',
          wifi(c, d.wifi),
          'statistics-office/wifi-raw',
          d.wifi,
          'city:OfficialStatistics',
          'city:PersonTracking',
        ),
      };
    },
    expect: { conflicts: 'violation', 'purpose-declared': 'compliant' },
  },
  {
    name: 'a prohibited use for an undeclared purpose',
    run: () => {
      const { c, d } = testCity();
      return {
        c,
        target: use(
          c,
          'statistics-office',
          wifi(c, d.wifi),
          'statistics-office/wifi-raw',
          d.wifi,
          'dpv:Advertising',
          'city:AdTargeting',
        ),
      };
    },
    expect: { 'processing-permitted': 'violation', 'purpose-declared': 'violation' },
  },
  {
    name: 'a declaration that grants what it prohibits',
    run: () => {
      const { c } = testCity();
      const target = c.declare({
        subject: 'vendor-a/report',
        purposes: [{ id: 'city:Advertising', description: 'Ads.', legalBasis: 'dpv:Contract' }],
        prohibitions: ['dpv:Marketing'],
      });
      return { c, target };
    },
    expect: { conflicts: 'violation', 'declaration-in-force': 'compliant' },
  },

  // --- Legal basis, special categories, storage
  {
    name: 'a public authority relying on legitimate interests',
    run: () => {
      const { c } = testCity();
      return {
        c,
        target: clip(c, cameras(c, { purposes: [{ ...P.traffic, legalBasis: 'dpv:LegitimateInterest' }] })),
      };
    },
    expect: { 'legal-basis': 'violation' },
  },
  {
    name: 'consent, which the ledger cannot verify',
    run: () => {
      const { c } = testCity();
      return { c, target: clip(c, cameras(c, { purposes: [{ ...P.traffic, legalBasis: 'dpv:Consent' }] })) };
    },
    expect: { 'legal-basis': 'undetermined' },
  },
  {
    name: 'biometric data with a DPIA and a legal obligation',
    run: () => bodycam({}),
    expect: { 'special-category': 'compliant' },
    clean: true,
  },
  {
    name: 'biometric data on a contract basis',
    run: () =>
      bodycam({
        purposes: [{ id: 'city:PublicSafety', description: 'Public safety.', legalBasis: 'dpv:Contract' }],
      }),
    expect: { 'special-category': 'violation' },
  },
  {
    name: 'biometric data without a DPIA',
    run: () => bodycam({ without: ['assessments'] }),
    expect: { 'special-category': 'violation', 'impact-assessment': 'violation' },
  },
  ...([false, true] as const).map((scc): Scenario => ({
    name: `personal data sent to a recipient in the US ${scc ? 'under standard contractual clauses' : 'without a transfer basis'}`,
    run: () => {
      const { c } = testCity();
      const v2 = cameras(c, {
        recipients: [rule({ org: 'us-cloud', purposes: ['city:TrafficManagement'] })],
        ...(scc ? { measures: ['eu-gdpr:A46-2-c'] } : {}),
      });
      return {
        c,
        target: transfer(
          c,
          'transport-agency',
          clip(c, v2),
          'transport-agency/video',
          v2,
          'us-cloud',
          'city:TrafficManagement',
        ),
      };
    },
    expect: { 'storage-jurisdiction': scc ? 'compliant' : 'violation' },
    clean: scc,
  })),
  {
    name: 'a declaration storing personal data outside the EEA without a basis',
    run: () => {
      const { c } = testCity();
      return { c, target: cameras(c, { storage: [{ location: 'US cloud region', jurisdiction: 'US' }] }) };
    },
    expect: { 'storage-jurisdiction': 'violation' },
  },

  // --- Vocabulary
  {
    name: 'a use with an unknown action',
    run: () => {
      const { c, d } = testCity();
      return {
        c,
        target: use(
          c,
          'statistics-office',
          wifi(c, d.wifi),
          'statistics-office/wifi-raw',
          d.wifi,
          'city:OfficialStatistics',
          'x-statistics-office:Peek',
        ),
      };
    },
    expect: { 'unknown-term': 'undetermined' },
  },
  {
    name: 'a custom purpose with an unknown parent is refused as a finding',
    run: () => {
      const { c } = testCity();
      const target = c.declare({
        subject: 'police/patrols',
        purposes: [{ id: 'x-police:Patrol', description: 'Patrol planning.', legalBasis: 'dpv:PublicTask' }],
        customPurposes: [{ id: 'x-police:Patrol', label: 'Patrol planning', parents: ['city:Nonexistent'] }],
      });
      return { c, target };
    },
    expect: { 'custom-purpose': 'violation', 'unknown-term': 'undetermined' },
  },
  ...(['declare', 'collect'] as const).map((which): Scenario => ({
    name: `a custom purpose under a city purpose (${which})`,
    run: () => {
      const { c } = testCity();
      c.source('police/cams/p1', ['city:VideoFootage'], 'identified', {
        notice: 'https://sensors.example/p1',
      });
      c.dataset('police/patrol-video', ['city:VideoFootage'], 'identified', ['police/cams/p1']);
      const decl = c.declare({
        subject: 'police/cams',
        purposes: [
          { id: 'city:PublicSafety', description: 'Public safety.', legalBasis: 'dpv:LegalObligation' },
        ],
        customPurposes: [{ id: 'x-police:Patrol', label: 'Patrol planning', parents: ['city:PublicSafety'] }],
        categories: ['city:VideoFootage'],
        personalData: 'identified',
        retention: { duration: 'P30D', deletion: 'erase' },
      });
      if (which === 'declare') return { c, target: decl };
      const target = c.collect('police', {
        datasetId: 'police/patrol-video',
        source: 'police/cams/p1',
        purpose: 'x-police:Patrol',
        declaration: decl,
        categories: ['city:VideoFootage'],
        personalData: 'identified',
      });
      return { c, target };
    },
    expect:
      which === 'declare'
        ? { 'custom-purpose': 'compliant' }
        : { 'purpose-declared': 'compliant', 'unknown-term': 'compliant' },
    clean: true,
  })),
  {
    name: 'a derived dataset recording more than its register entry shows',
    run: () => {
      const { c, d } = testCity();
      const target = c.move('transport-agency', 'derive', {
        datasetId: 'transport-agency/counts',
        inputs: [clip(c, d.cameras)],
        purpose: 'city:TrafficManagement',
        declaration: d.counts,
        processing: ['infer', 'anonymise'],
        categories: ['city:VehicleCount', 'city:CongestionLevel'],
        personalData: 'anonymised',
        anonymisation: { technique: 'city:CountOnlyExtraction', assessment: digestOf('a') },
      });
      return { c, target };
    },
    expect: { 'public-register': 'violation', anonymisation: 'compliant' },
  },

  // --- Evidence: findings on the ledger
  ...(['matching', 'contradicting', 'by another organization'] as const).map((kind): Scenario => ({
    name: `a finding ${kind === 'matching' ? 'that matches the evaluation' : kind === 'contradicting' ? 'that contradicts the evaluation' : 'signed by an organization that is not the compliance service'}`,
    run: () => {
      const { c, d } = testCity();
      const k = clip(c, d.cameras);
      const t = transfer(
        c,
        'transport-agency',
        k,
        'transport-agency/video',
        d.cameras,
        'police',
        'city:RoadSafetyEnforcement',
      );
      const outcome = c.state.evaluate(t).find((o) => o.check === 'recipient-allowed')!;
      const body =
        kind === 'contradicting' ? { ...toFinding(outcome), outcome: 'undetermined' } : toFinding(outcome);
      return {
        c,
        target: c.emit(kind === 'by another organization' ? 'police' : 'compliance', body, 'findings'),
      };
    },
    expect: { evidence: kind === 'matching' ? 'compliant' : 'violation' },
  })),
];

describe('scenarios', () => {
  it('has at least 40 of them', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
  });

  for (const s of SCENARIOS) {
    it(s.name, () => {
      const { c, target } = s.run();
      const outcomes = c.state.evaluate(target);
      const by = new Map(outcomes.map((o) => [o.check, o]));
      for (const [check, want] of Object.entries(s.expect)) {
        const got = by.get(check as CheckId);
        if (want === 'absent') expect(got, `${check}: ${got?.explanation}`).toBeUndefined();
        else expect(got?.outcome, `${check}: ${got?.explanation ?? 'no outcome'}`).toBe(want);
      }
      if (s.clean) {
        expect(
          outcomes.filter((o) => o.outcome !== 'compliant').map((o) => `${o.check}: ${o.explanation}`),
        ).toEqual([]);
      }
      for (const o of outcomes) {
        expect(o.about).toBe(target);
        expect(o.path[0]).toBe(target);
        expect(o.explanation.length).toBeLessThanOrEqual(280);
      }
    });
  }

  it('cover every check with a compliant and a non-compliant case', () => {
    const seen = new Map<string, Set<string>>();
    for (const s of SCENARIOS) {
      for (const [check, want] of Object.entries(s.expect)) {
        if (want === 'absent') continue;
        let set = seen.get(check);
        if (set === undefined) seen.set(check, (set = new Set()));
        set.add(want === 'compliant' ? 'compliant' : 'not');
      }
    }
    for (const id of CHECK_IDS) {
      expect([...(seen.get(id) ?? [])].sort(), id).toEqual(['compliant', 'not']);
    }
  });
});
