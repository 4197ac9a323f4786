// A small hand-made city for the tests: real event shapes (validated and hashed with the
// schema), unsigned, fed to a ComplianceState in ledger order. `testCity()` registers the
// organizations, sources and datasets and declares the base declarations; each test then
// adds the movements it is about.
import { hashEvent } from '@civic-ledger/events';
import { GENESIS_PREV, type Declaration, type Event } from '@civic-ledger/schemas';
import { ComplianceState } from './state.ts';

export const T0 = Date.parse('2026-03-02T08:00:00Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const digestOf = (label: string) =>
  `sha256:${Buffer.from(label.padEnd(32, '.').slice(0, 32)).toString('hex')}`;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

type Body = Record<string, unknown>;
type Rule = NonNullable<Declaration['recipients']>[number];

export interface DeclareOptions extends Partial<Omit<Declaration, 'subject'>> {
  subject: string;
  /** Leave these out instead of the defaults. */
  without?: ('notice' | 'assessments')[];
}

export class TestCity {
  readonly state = new ComplianceState();
  readonly events: { event: Event; hash: string; index: number }[] = [];
  clock = T0;
  readonly #chains = new Map<string, { seq: number; prev: string }>();
  readonly #latest = new Map<string, { hash: string; version: number }>();

  /** Moves the clock (ms). */
  advance(ms: number): this {
    this.clock += ms;
    return this;
  }

  /** Builds, validates, hashes and adds an event of `org`; returns its hash. */
  emit(org: string, body: Body, stream = 'main'): string {
    const key = `${org} ${stream}`;
    const chain = this.#chains.get(key) ?? { seq: 0, prev: GENESIS_PREV };
    const input = {
      v: 1,
      emitter: org,
      stream,
      seq: chain.seq + 1,
      prev: chain.prev,
      time: iso(this.clock),
      key: `${org}/k1`,
      ...body,
    };
    const { event, hash } = hashEvent(input as never);
    this.#chains.set(key, { seq: chain.seq + 1, prev: hash });
    this.add(event, hash);
    return hash;
  }

  /** The hash an event would have, without adding it (to name a declaration before it exists). */
  peek(org: string, body: Body, stream = 'main', at = this.clock): string {
    const chain = this.#chains.get(`${org} ${stream}`) ?? { seq: 0, prev: GENESIS_PREV };
    return hashEvent({
      v: 1,
      emitter: org,
      stream,
      seq: chain.seq + 1,
      prev: chain.prev,
      time: iso(at),
      key: `${org}/k1`,
      ...body,
    } as never).hash;
  }

  add(event: Event, hash: string): void {
    const index = this.events.length;
    this.state.add(event, index, hash);
    this.events.push({ event, hash, index });
  }

  org(id: string, role: string, jurisdiction = 'NL'): string {
    return this.emit('ledger', {
      type: 'register',
      subject: { kind: 'organization', id, name: id, role, jurisdiction },
    });
  }

  source(id: string, categories: string[], personalData: string, extra: Body = {}): string {
    return this.emit(
      id.split('/')[0]!,
      {
        type: 'register',
        subject: {
          kind: 'source',
          id,
          name: id,
          technology: 'city:Sensor',
          location: { area: 'Centre' },
          categories,
          personalData,
          ...extra,
        },
      },
      'registry',
    );
  }

  dataset(id: string, categories: string[], personalData: string, sources?: string[]): string {
    return this.emit(
      id.split('/')[0]!,
      {
        type: 'register',
        subject: {
          kind: 'dataset',
          id,
          name: id,
          categories,
          personalData,
          ...(sources === undefined ? {} : { sources }),
        },
      },
      'registry',
    );
  }

  /** A declaration with sensible defaults; versions chain automatically per subject. */
  declaration(o: DeclareOptions): Declaration {
    const prev = this.#latest.get(o.subject);
    const version = o.version ?? (prev === undefined ? 1 : prev.version + 1);
    const d: Declaration = {
      subject: o.subject,
      version,
      ...(version > 1 && prev !== undefined ? { supersedes: prev.hash } : {}),
      purposes: o.purposes ?? [
        { id: 'city:TrafficManagement', description: 'Manage traffic.', legalBasis: 'dpv:PublicTask' },
      ],
      categories: o.categories ?? ['city:VehicleCount'],
      personalData: o.personalData ?? 'anonymised',
      processing: o.processing ?? ['aggregate'],
      retention: o.retention ?? { duration: 'P1Y', deletion: 'erase' },
      storage: o.storage ?? [{ location: 'City data centre', jurisdiction: 'NL' }],
      validFrom: o.validFrom ?? iso(T0 - 30 * DAY),
      notice: o.notice ?? { register: `https://register.example/${o.subject}` },
      assessments: o.assessments ?? [
        {
          kind: 'dpia',
          url: `https://example.org/dpia/${o.subject}`,
          digest: digestOf(`dpia ${o.subject}`),
          date: iso(T0 - 60 * DAY),
        },
      ],
    };
    for (const k of [
      'supersedes',
      'customPurposes',
      'measures',
      'recipients',
      'prohibitions',
      'validUntil',
    ] as const) {
      if (o[k] !== undefined) (d as Record<string, unknown>)[k] = o[k];
    }
    for (const k of o.without ?? []) delete d[k];
    return d;
  }

  declare(o: DeclareOptions, org = o.subject.split('/')[0]!): string {
    const d = this.declaration(o);
    const hash = this.emit(org, { type: 'declare', declaration: d }, 'declarations');
    this.#latest.set(o.subject, { hash, version: d.version });
    return hash;
  }

  collect(org: string, b: Body): string {
    return this.emit(org, {
      type: 'collect',
      inputs: [],
      dataset: { id: b['datasetId'], version: this.version() },
      ...strip(b),
    });
  }

  move(org: string, type: string, b: Body): string {
    return this.emit(org, {
      type,
      dataset: { id: b['datasetId'], version: (b['version'] as string | undefined) ?? this.version() },
      ...strip(b),
    });
  }

  #n = 0;
  version(): string {
    this.#n += 1;
    return digestOf(`v${this.#n}`);
  }
}

function strip(b: Body): Body {
  const { datasetId: _d, version: _v, ...rest } = b;
  return rest;
}

export const P = {
  traffic: { id: 'city:TrafficManagement', description: 'Manage traffic.', legalBasis: 'dpv:PublicTask' },
  enforcement: {
    id: 'city:RoadSafetyEnforcement',
    description: 'Enforce traffic rules.',
    legalBasis: 'dpv:LegalObligation',
  },
  statistics: {
    id: 'city:OfficialStatistics',
    description: 'Official statistics.',
    legalBasis: 'dpv:PublicTask',
  },
  planning: { id: 'city:UrbanPlanning', description: 'Plan the city.', legalBasis: 'dpv:PublicTask' },
  information: {
    id: 'city:PublicInformation',
    description: 'Inform the public.',
    legalBasis: 'dpv:PublicTask',
  },
  research: { id: 'city:Research', description: 'Research with safeguards.', legalBasis: 'dpv:PublicTask' },
  commercial: { id: 'city:Commercial', description: 'Vendor analytics.', legalBasis: 'dpv:Contract' },
} as const;

export const rule = (r: Partial<Rule> & { purposes: string[] }): Rule => r as Rule;

/**
 * The base city: organizations, sources, datasets and four declarations (cameras, counts,
 * wifi, footfall). `d` holds the declaration hashes.
 */
export function testCity() {
  const c = new TestCity();
  c.org('transport-agency', 'agency');
  c.org('police', 'agency');
  c.org('statistics-office', 'agency');
  c.org('vendor-a', 'vendor');
  c.org('subproc', 'vendor');
  c.org('adtech', 'vendor');
  c.org('university', 'agency');
  c.org('us-cloud', 'vendor', 'US');
  c.org('compliance', 'compliance');
  c.source('transport-agency/cameras/c1', ['city:VideoFootage', 'dpv:VehicleLicence'], 'identified', {
    notice: 'https://sensors.example/c1',
  });
  c.source('transport-agency/cameras/c2', ['city:VideoFootage', 'dpv:VehicleLicence'], 'identified', {
    notice: 'https://sensors.example/c2',
  });
  c.source('statistics-office/wifi/w1', ['city:DeviceIdentifierHash', 'city:PresenceTime'], 'pseudonymised', {
    notice: 'https://sensors.example/w1',
  });
  c.dataset('transport-agency/video', ['city:VideoFootage', 'dpv:VehicleLicence'], 'identified', [
    'transport-agency/cameras/c1',
    'transport-agency/cameras/c2',
  ]);
  c.dataset('transport-agency/counts', ['city:VehicleCount'], 'anonymised');
  c.dataset('transport-agency/plates', ['dpv:VehicleLicence', 'city:VideoStill'], 'identified');
  c.dataset(
    'statistics-office/wifi-raw',
    ['city:DeviceIdentifierHash', 'city:PresenceTime'],
    'pseudonymised',
    ['statistics-office/wifi/w1'],
  );
  c.dataset('statistics-office/footfall', ['city:FootfallCount'], 'anonymised');
  c.dataset(
    'statistics-office/wifi-pseudo',
    ['city:DeviceIdentifierHash', 'city:PresenceTime'],
    'pseudonymised',
  );
  c.dataset('vendor-a/report', ['city:CongestionLevel'], 'anonymised');
  const d = {
    cameras: c.declare({
      subject: 'transport-agency/cameras',
      purposes: [P.traffic],
      categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
      personalData: 'identified',
      processing: ['infer', 'filter', 'anonymise', 'aggregate'],
      prohibitions: ['city:SaleToThirdParties', 'city:PersonTracking'],
      retention: { duration: 'P7D', deletion: 'erase' },
    }),
    counts: c.declare({
      subject: 'transport-agency/counts',
      purposes: [P.traffic, P.statistics, P.planning, P.information],
      processing: ['aggregate', 'transform'],
      recipients: [
        rule({ org: 'statistics-office', purposes: ['city:OfficialStatistics'] }),
        rule({ role: 'public', purposes: ['city:PublicInformation'] }),
      ],
      prohibitions: ['city:SaleToThirdParties'],
      retention: { duration: 'P2Y', deletion: 'erase' },
    }),
    wifi: c.declare({
      subject: 'statistics-office/wifi',
      purposes: [P.statistics],
      categories: ['city:DeviceIdentifierHash', 'city:PresenceTime'],
      personalData: 'pseudonymised',
      processing: ['aggregate', 'anonymise', 'pseudonymise'],
      measures: ['dpv:Pseudonymisation'],
      prohibitions: ['city:SaleToThirdParties', 'city:PersonTracking'],
      retention: { duration: 'P2D', deletion: 'erase' },
    }),
    footfall: c.declare({
      subject: 'statistics-office/footfall',
      purposes: [P.statistics, P.planning, P.information, P.research],
      categories: ['city:FootfallCount'],
      recipients: [rule({ role: 'public', purposes: ['city:PublicInformation', 'city:OfficialStatistics'] })],
      retention: { duration: 'P10Y', deletion: 'erase' },
    }),
  };
  return { c, d };
}

/** A camera clip collected under the cameras declaration. */
export function clip(c: TestCity, declaration: string, source = 'transport-agency/cameras/c1'): string {
  return c.collect('transport-agency', {
    datasetId: 'transport-agency/video',
    source,
    purpose: 'city:TrafficManagement',
    declaration,
    categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
    personalData: 'identified',
  });
}

/** A Wi-Fi capture (pseudonymised device identifiers). */
export function wifi(c: TestCity, declaration: string): string {
  return c.collect('statistics-office', {
    datasetId: 'statistics-office/wifi-raw',
    source: 'statistics-office/wifi/w1',
    purpose: 'city:OfficialStatistics',
    declaration,
    categories: ['city:DeviceIdentifierHash', 'city:PresenceTime'],
    personalData: 'pseudonymised',
  });
}

/** Vehicle counts from a clip: count-only extraction, assessed as anonymous. */
export function counts(c: TestCity, input: string, declaration: string): string {
  return c.move('transport-agency', 'derive', {
    datasetId: 'transport-agency/counts',
    inputs: [input],
    purpose: 'city:TrafficManagement',
    declaration,
    processing: ['infer', 'anonymise'],
    categories: ['city:VehicleCount'],
    personalData: 'anonymised',
    anonymisation: { technique: 'city:CountOnlyExtraction', assessment: digestOf('counts assessment') },
  });
}

/** Footfall from Wi-Fi captures: aggregated and k-anonymised. */
export function footfall(c: TestCity, inputs: string[], declaration: string): string {
  return c.move('statistics-office', 'derive', {
    datasetId: 'statistics-office/footfall',
    inputs,
    purpose: 'city:OfficialStatistics',
    declaration,
    processing: ['aggregate', 'anonymise'],
    categories: ['city:FootfallCount'],
    personalData: 'anonymised',
    anonymisation: {
      technique: 'dpv:DifferentialPrivacy',
      assessment: digestOf('footfall assessment'),
      parameter: 1,
    },
  });
}
