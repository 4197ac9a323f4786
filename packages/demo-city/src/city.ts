// What the demo city is made of: its organizations, sensors, datasets and the families of
// data its declarations cover. Names and locations are drawn from the seed's `city` stream;
// everything else is fixed, so two seeds give two cities of the same shape.
import type { Declaration } from '@civic-ledger/schemas';
import { digestOf, Prng } from './prng.ts';

export type OrgRole = 'agency' | 'vendor' | 'oversight' | 'operator' | 'compliance';
export type PersonalData = 'identified' | 'pseudonymised' | 'contextually-anonymised' | 'anonymised' | 'none';

export interface DemoOrg {
  id: string;
  name: string;
  role: OrgRole;
  jurisdiction: string;
  contact: string;
}

export const ORG = {
  ledger: 'ledger',
  transport: 'transport-agency',
  police: 'police',
  environment: 'environment-agency',
  statistics: 'statistics-office',
  vendorA: 'vendor-a',
  vendorB: 'vendor-b',
  oversight: 'oversight-board',
  compliance: 'compliance',
} as const;

/** Every organization, the operator first (it is not registered: its key is the genesis). */
export const ORGS: readonly DemoOrg[] = [
  org(ORG.ledger, 'Civic Ledger operator', 'operator'),
  org(ORG.transport, 'Municipal Transport Agency', 'agency'),
  org(ORG.police, 'City Police', 'agency'),
  org(ORG.environment, 'Environment Agency', 'agency'),
  org(ORG.statistics, 'Statistics Office', 'agency'),
  org(ORG.vendorA, 'Vendor A, mobility analytics', 'vendor'),
  org(ORG.vendorB, 'Vendor B, sensor networks and forecasting', 'vendor'),
  org(ORG.oversight, 'Data Oversight Board', 'oversight'),
  org(ORG.compliance, 'Compliance Service', 'compliance'),
];

function org(id: string, name: string, role: OrgRole): DemoOrg {
  return { id, name, role, jurisdiction: 'NL', contact: `https://example-city.eu/organizations/${id}` };
}

// --- Families: what one declaration covers -------------------------------------------

export const FAMILY_IDS = [
  'cameras',
  'traffic-stats',
  'plate-extract',
  'parking',
  'parking-stats',
  'wifi',
  'footfall',
  'mobility-index',
  'air',
  'air-quality',
  'congestion',
  'demand',
] as const;
export type FamilyId = (typeof FAMILY_IDS)[number];

export interface RecipientSpec {
  org: string;
  purposes: string[];
  agreementRequired?: boolean;
  nextPolicyRequired?: boolean;
  /** The recipient may pass the data on (under its next policy); default false. */
  onwardTransfer?: boolean;
  /** The city sends it only data derived from this (e.g. forecasts), never this data itself. */
  derivedOnly?: boolean;
  /** The declaration family of the recipient that binds the data onward (`nextPolicy`). */
  nextPolicy?: FamilyId;
}

export interface DemoFamily {
  id: FamilyId;
  /** The organization that declares (and owns) it. */
  org: string;
  /**
   * The declaration subject: a source group (the common path prefix of its sources, e.g.
   * `transport-agency/cameras` for `transport-agency/cameras/north-01`), whose declaration
   * also governs the raw capture dataset, or a dataset id, or the common prefix of a few
   * datasets (`transport-agency/traffic-stats` for `.../traffic-stats/hourly`).
   */
  subject: string;
  personalData: PersonalData;
  categories: string[];
  /** Purposes, the first primary, each with its legal basis. */
  purposes: { id: string; description: string; legalBasis: string }[];
  processing: Declaration['processing'] & {};
  measures: string[];
  recipients: RecipientSpec[];
  /** Published to the public (a `role: public` recipient rule for these purposes). */
  publicPurposes: string[];
  prohibitions: string[];
  /** ISO 8601 retention and the same in days (what the generator schedules deletions by). */
  retention: string;
  retentionDays: number;
  deletion: 'erase' | 'overwrite' | 'crypto-shred' | 'destroy-media';
  storage: string;
  assessment: 'dpia' | 'anonymisation' | 'compatibility';
}

const P = {
  traffic: {
    id: 'city:TrafficManagement',
    description: 'Measure and manage traffic flow on the city road network.',
    legalBasis: 'dpv:PublicTask',
  },
  enforcement: {
    id: 'city:RoadSafetyEnforcement',
    description: 'Enforce traffic rules at monitored junctions.',
    legalBasis: 'dpv:LegalObligation',
  },
  statistics: {
    id: 'city:OfficialStatistics',
    description: 'Produce official statistics on mobility and the use of public space.',
    legalBasis: 'dpv:PublicTask',
  },
  planning: {
    id: 'city:UrbanPlanning',
    description: 'Plan streets, transport and public space.',
    legalBasis: 'dpv:PublicTask',
  },
  parking: {
    id: 'city:ParkingManagement',
    description: 'Guide drivers to free parking spaces and manage parking zones.',
    legalBasis: 'dpv:PublicTask',
  },
  air: {
    id: 'city:AirQualityMonitoring',
    description: 'Monitor air quality as the environmental law requires.',
    legalBasis: 'dpv:LegalObligation',
  },
  information: {
    id: 'city:PublicInformation',
    description: 'Inform the public about the state of the city.',
    legalBasis: 'dpv:PublicTask',
  },
  forecasting: {
    id: 'city:DemandForecasting',
    description: 'Forecast travel demand for transport operations.',
    legalBasis: 'dpv:Contract',
  },
  congestion: {
    id: 'city:TrafficManagement',
    description: 'Report congestion to the transport agency under contract.',
    legalBasis: 'dpv:Contract',
  },
} as const;

const STORAGE_CITY = 'Municipal data centre';

export const FAMILIES: Record<FamilyId, DemoFamily> = {
  cameras: {
    id: 'cameras',
    org: ORG.transport,
    subject: 'transport-agency/cameras',
    personalData: 'identified',
    categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
    purposes: [P.traffic, P.enforcement],
    processing: ['infer', 'filter', 'anonymise'],
    measures: ['dpv:Encryption', 'dpv:AccessControlMethod'],
    // Plate extracts (filtered video, still identified) stay bound by this declaration.
    recipients: [{ org: ORG.police, purposes: [P.enforcement.id], agreementRequired: true }],
    publicPurposes: [],
    prohibitions: ['city:SaleToThirdParties', 'city:PersonTracking'],
    retention: 'P7D',
    retentionDays: 7,
    deletion: 'erase',
    storage: STORAGE_CITY,
    assessment: 'dpia',
  },
  'traffic-stats': {
    id: 'traffic-stats',
    org: ORG.transport,
    subject: 'transport-agency/traffic-stats',
    personalData: 'anonymised',
    categories: ['city:VehicleCount'],
    purposes: [P.traffic, P.statistics, P.planning, P.air, P.information],
    processing: ['aggregate', 'transform'],
    measures: ['dpv:KAnonymity'],
    recipients: [
      { org: ORG.statistics, purposes: [P.statistics.id] },
      {
        org: ORG.vendorA,
        purposes: [P.traffic.id],
        agreementRequired: true,
        nextPolicyRequired: true,
        nextPolicy: 'congestion',
      },
      { org: ORG.environment, purposes: [P.air.id] },
    ],
    publicPurposes: [P.information.id],
    prohibitions: ['city:SaleToThirdParties'],
    retention: 'P2Y',
    retentionDays: 730,
    deletion: 'erase',
    storage: STORAGE_CITY,
    assessment: 'anonymisation',
  },
  'plate-extract': {
    id: 'plate-extract',
    org: ORG.transport,
    subject: 'transport-agency/plate-extract',
    personalData: 'identified',
    categories: ['dpv:VehicleLicence', 'city:VideoStill'],
    purposes: [P.enforcement],
    processing: ['filter'],
    measures: ['dpv:Encryption', 'dpv:AccessControlMethod'],
    recipients: [{ org: ORG.police, purposes: [P.enforcement.id], agreementRequired: true }],
    publicPurposes: [],
    prohibitions: ['city:SaleToThirdParties', 'city:PersonTracking'],
    retention: 'P7D',
    retentionDays: 7,
    deletion: 'crypto-shred',
    storage: STORAGE_CITY,
    assessment: 'dpia',
  },
  parking: {
    id: 'parking',
    org: ORG.transport,
    subject: 'transport-agency/parking',
    personalData: 'none',
    categories: ['city:OccupancyState'],
    purposes: [P.parking, P.statistics],
    processing: ['aggregate'],
    measures: [],
    recipients: [],
    publicPurposes: [],
    prohibitions: ['city:SaleToThirdParties'],
    retention: 'P1Y',
    retentionDays: 365,
    deletion: 'erase',
    storage: 'Vendor B sensor cloud',
    assessment: 'compatibility',
  },
  'parking-stats': {
    id: 'parking-stats',
    org: ORG.transport,
    subject: 'transport-agency/parking-stats',
    personalData: 'none',
    categories: ['city:OccupancyRate'],
    purposes: [P.parking, P.statistics, P.planning],
    processing: ['aggregate'],
    measures: [],
    recipients: [{ org: ORG.statistics, purposes: [P.statistics.id] }],
    publicPurposes: [],
    prohibitions: [],
    retention: 'P2Y',
    retentionDays: 730,
    deletion: 'erase',
    storage: STORAGE_CITY,
    assessment: 'compatibility',
  },
  wifi: {
    id: 'wifi',
    org: ORG.statistics,
    subject: 'statistics-office/wifi',
    personalData: 'pseudonymised',
    categories: ['city:DeviceIdentifierHash', 'city:PresenceTime'],
    purposes: [P.statistics],
    processing: ['aggregate', 'anonymise'],
    measures: ['dpv:Pseudonymisation', 'city:DailySaltRotation'],
    recipients: [],
    publicPurposes: [],
    prohibitions: ['city:PersonTracking', 'city:SaleToThirdParties'],
    retention: 'P2D',
    retentionDays: 2,
    deletion: 'erase',
    storage: 'Statistics Office secure enclave',
    assessment: 'dpia',
  },
  footfall: {
    id: 'footfall',
    org: ORG.statistics,
    subject: 'statistics-office/footfall',
    personalData: 'anonymised',
    categories: ['city:FootfallCount'],
    purposes: [P.statistics, P.planning],
    processing: ['aggregate'],
    measures: ['dpv:KAnonymity'],
    recipients: [],
    publicPurposes: [P.statistics.id],
    prohibitions: [],
    retention: 'P10Y',
    retentionDays: 3650,
    deletion: 'erase',
    storage: STORAGE_CITY,
    assessment: 'anonymisation',
  },
  'mobility-index': {
    id: 'mobility-index',
    org: ORG.statistics,
    subject: 'statistics-office/mobility-index',
    personalData: 'anonymised',
    categories: ['city:MobilityIndicator'],
    purposes: [P.statistics, P.planning, P.forecasting],
    processing: ['aggregate', 'join', 'transform'],
    measures: [],
    recipients: [
      {
        org: ORG.vendorB,
        purposes: [P.forecasting.id],
        agreementRequired: true,
        nextPolicyRequired: true,
        // Forecasts built on it go on to the transport agency, under vendor B's demand policy.
        onwardTransfer: true,
        nextPolicy: 'demand',
      },
      { org: ORG.transport, purposes: [P.forecasting.id], derivedOnly: true },
    ],
    publicPurposes: [P.statistics.id],
    prohibitions: [],
    retention: 'P10Y',
    retentionDays: 3650,
    deletion: 'erase',
    storage: STORAGE_CITY,
    assessment: 'compatibility',
  },
  air: {
    id: 'air',
    org: ORG.environment,
    subject: 'environment-agency/air',
    personalData: 'none',
    categories: ['city:AirPollutantConcentration', 'city:WeatherObservation'],
    purposes: [P.air, P.information],
    processing: ['aggregate'],
    measures: [],
    recipients: [],
    publicPurposes: [],
    prohibitions: [],
    retention: 'P5Y',
    retentionDays: 1826,
    deletion: 'erase',
    storage: 'Environment Agency data centre',
    assessment: 'compatibility',
  },
  'air-quality': {
    id: 'air-quality',
    org: ORG.environment,
    subject: 'environment-agency/air-quality',
    personalData: 'none',
    categories: ['city:AirQualityIndex'],
    purposes: [P.air, P.information, P.statistics, P.forecasting],
    processing: ['aggregate'],
    measures: [],
    recipients: [
      { org: ORG.statistics, purposes: [P.statistics.id] },
      {
        org: ORG.vendorB,
        purposes: [P.forecasting.id],
        agreementRequired: true,
        nextPolicyRequired: true,
        // Forecasts built on it go on to the transport agency, under vendor B's demand policy.
        onwardTransfer: true,
        nextPolicy: 'demand',
      },
      { org: ORG.transport, purposes: [P.forecasting.id], derivedOnly: true },
    ],
    publicPurposes: [P.information.id],
    prohibitions: [],
    retention: 'P10Y',
    retentionDays: 3650,
    deletion: 'erase',
    storage: 'Environment Agency data centre',
    assessment: 'compatibility',
  },
  congestion: {
    id: 'congestion',
    org: ORG.vendorA,
    subject: 'vendor-a/congestion-report',
    personalData: 'anonymised',
    categories: ['city:CongestionLevel'],
    purposes: [P.congestion],
    processing: ['aggregate', 'infer'],
    measures: [],
    recipients: [{ org: ORG.transport, purposes: [P.traffic.id] }],
    publicPurposes: [],
    prohibitions: ['city:SaleToThirdParties'],
    retention: 'P1Y',
    retentionDays: 365,
    deletion: 'erase',
    storage: 'Vendor A cloud, EU region',
    assessment: 'compatibility',
  },
  demand: {
    id: 'demand',
    org: ORG.vendorB,
    subject: 'vendor-b/demand',
    personalData: 'anonymised',
    categories: ['city:DemandModel', 'city:DemandForecast'],
    purposes: [P.forecasting],
    processing: ['train-model', 'infer'],
    measures: [],
    recipients: [{ org: ORG.transport, purposes: [P.forecasting.id] }],
    publicPurposes: [],
    prohibitions: ['city:SaleToThirdParties'],
    retention: 'P1Y',
    retentionDays: 365,
    deletion: 'erase',
    storage: 'Vendor B cloud, EU region',
    assessment: 'compatibility',
  },
};

// --- Datasets --------------------------------------------------------------------------

export type DatasetKind = 'raw' | 'extract' | 'aggregate' | 'index' | 'model' | 'forecast' | 'report';

export interface DemoDataset {
  id: string;
  name: string;
  org: string;
  kind: DatasetKind;
  family: FamilyId;
  categories: string[];
  personalData: PersonalData;
  /** For raw capture: the source family it is captured from. */
  sourceFamily?: SourceFamilyId;
}

export const DATASET = {
  video: 'transport-agency/traffic-video',
  trafficCounts: 'transport-agency/traffic-stats/counts',
  trafficHourly: 'transport-agency/traffic-stats/hourly',
  trafficDaily: 'transport-agency/traffic-stats/daily',
  plates: 'transport-agency/plate-extract',
  parking: 'transport-agency/parking-occupancy',
  parkingHourly: 'transport-agency/parking-stats/hourly',
  parkingDaily: 'transport-agency/parking-stats/daily',
  wifi: 'statistics-office/wifi-presence',
  footfallHourly: 'statistics-office/footfall/hourly',
  footfallDaily: 'statistics-office/footfall/daily',
  index: 'statistics-office/mobility-index/daily',
  indexWeekly: 'statistics-office/mobility-index/weekly',
  air: 'environment-agency/air-readings',
  airHourly: 'environment-agency/air-quality/hourly',
  airDaily: 'environment-agency/air-quality/daily',
  congestion: 'vendor-a/congestion-report',
  model: 'vendor-b/demand/model',
  forecast: 'vendor-b/demand/forecast',
} as const;

function ds(
  id: string,
  name: string,
  kind: DatasetKind,
  family: FamilyId,
  categories: string[],
  personalData: PersonalData,
  sourceFamily?: SourceFamilyId,
): DemoDataset {
  const d: DemoDataset = {
    id,
    name,
    org: id.slice(0, id.indexOf('/')),
    kind,
    family,
    categories,
    personalData,
  };
  if (sourceFamily !== undefined) d.sourceFamily = sourceFamily;
  return d;
}

export const DATASETS: readonly DemoDataset[] = [
  ds(
    DATASET.video,
    'Traffic camera video clips',
    'raw',
    'cameras',
    FAMILIES.cameras.categories,
    'identified',
    'cameras',
  ),
  ds(
    DATASET.trafficCounts,
    'Vehicle counts per clip',
    'extract',
    'traffic-stats',
    ['city:VehicleCount'],
    'anonymised',
  ),
  ds(
    DATASET.trafficHourly,
    'Hourly traffic counts',
    'aggregate',
    'traffic-stats',
    ['city:VehicleCount'],
    'anonymised',
  ),
  ds(
    DATASET.trafficDaily,
    'Daily traffic counts',
    'aggregate',
    'traffic-stats',
    ['city:VehicleCount'],
    'anonymised',
  ),
  ds(
    DATASET.plates,
    'Enforcement extract',
    'extract',
    'plate-extract',
    FAMILIES['plate-extract'].categories,
    'identified',
  ),
  ds(DATASET.parking, 'Parking bay occupancy', 'raw', 'parking', ['city:OccupancyState'], 'none', 'parking'),
  ds(
    DATASET.parkingHourly,
    'Hourly parking occupancy',
    'aggregate',
    'parking-stats',
    ['city:OccupancyRate'],
    'none',
  ),
  ds(
    DATASET.parkingDaily,
    'Daily parking occupancy',
    'aggregate',
    'parking-stats',
    ['city:OccupancyRate'],
    'none',
  ),
  ds(DATASET.wifi, 'Wi-Fi presence counts', 'raw', 'wifi', FAMILIES.wifi.categories, 'pseudonymised', 'wifi'),
  ds(
    DATASET.footfallHourly,
    'Hourly footfall',
    'aggregate',
    'footfall',
    ['city:FootfallCount'],
    'anonymised',
  ),
  ds(DATASET.footfallDaily, 'Daily footfall', 'aggregate', 'footfall', ['city:FootfallCount'], 'anonymised'),
  ds(
    DATASET.index,
    'Daily mobility index',
    'index',
    'mobility-index',
    ['city:MobilityIndicator'],
    'anonymised',
  ),
  ds(
    DATASET.indexWeekly,
    'Weekly mobility index',
    'index',
    'mobility-index',
    ['city:MobilityIndicator'],
    'anonymised',
  ),
  ds(DATASET.air, 'Air-quality readings', 'raw', 'air', FAMILIES.air.categories, 'none', 'air'),
  ds(
    DATASET.airHourly,
    'Hourly air-quality index',
    'aggregate',
    'air-quality',
    ['city:AirQualityIndex'],
    'none',
  ),
  ds(
    DATASET.airDaily,
    'Daily air-quality index',
    'aggregate',
    'air-quality',
    ['city:AirQualityIndex'],
    'none',
  ),
  ds(DATASET.congestion, 'Congestion report', 'report', 'congestion', ['city:CongestionLevel'], 'anonymised'),
  ds(DATASET.model, 'Travel demand model', 'model', 'demand', ['city:DemandModel'], 'anonymised'),
  ds(DATASET.forecast, 'Travel demand forecast', 'forecast', 'demand', ['city:DemandForecast'], 'anonymised'),
];

// --- Sources ---------------------------------------------------------------------------

export const SOURCE_FAMILY_IDS = ['cameras', 'air', 'parking', 'wifi'] as const;
export type SourceFamilyId = (typeof SOURCE_FAMILY_IDS)[number];

export interface DemoSource {
  id: string;
  name: string;
  org: string;
  family: SourceFamilyId;
  technology: string;
  location: { lat: number; lon: number } | { area: string };
  categories: string[];
  personalData: PersonalData;
  notice: string;
  /** The organization that runs the sensor for the owner, when not the owner. */
  operator?: string;
}

interface SourceFamilySpec {
  org: string;
  prefix: string;
  count: number;
  technology: string;
  label: string;
  family: FamilyId;
  dataset: string;
  operator?: string;
  byArea: boolean;
}

export const SOURCE_FAMILIES: Record<SourceFamilyId, SourceFamilySpec> = {
  cameras: {
    org: ORG.transport,
    prefix: 'transport-agency/cameras',
    count: 8,
    technology: 'city:TrafficCamera',
    label: 'Traffic camera',
    family: 'cameras',
    dataset: DATASET.video,
    byArea: false,
  },
  air: {
    org: ORG.environment,
    prefix: 'environment-agency/air',
    count: 8,
    technology: 'city:AirQualityStation',
    label: 'Air-quality station',
    family: 'air',
    dataset: DATASET.air,
    byArea: false,
  },
  parking: {
    org: ORG.transport,
    prefix: 'transport-agency/parking',
    count: 10,
    technology: 'city:ParkingSensor',
    label: 'Parking sensor group',
    family: 'parking',
    dataset: DATASET.parking,
    operator: ORG.vendorB,
    byArea: false,
  },
  wifi: {
    org: ORG.statistics,
    prefix: 'statistics-office/wifi',
    count: 6,
    technology: 'city:WifiCounter',
    label: 'Wi-Fi footfall counter',
    family: 'wifi',
    dataset: DATASET.wifi,
    operator: ORG.vendorA,
    byArea: true,
  },
};

const DISTRICTS = ['north', 'south', 'east', 'west', 'centre', 'harbour', 'university', 'station'];
const DISTRICT_OFFSET: Record<string, [number, number]> = {
  north: [0.03, 0],
  south: [-0.03, 0],
  east: [0, 0.045],
  west: [0, -0.045],
  centre: [0, 0],
  harbour: [0.015, -0.06],
  university: [-0.02, 0.05],
  station: [-0.005, -0.01],
};
const AREAS = [
  'Central station concourse',
  'Market square',
  'Old town high street',
  'Harbour promenade',
  'University campus square',
  'Riverside park entrance',
  'Shopping arcade',
  'Museum quarter',
];
/** A fictional city centre in the Netherlands (jurisdiction NL). */
const CENTRE = { lat: 52.0907, lon: 5.1214 };

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** The sources of the city, drawn from the seed's `city` stream. */
export function citySources(seed: string): DemoSource[] {
  const rng = Prng.derive(seed, 'city', 'sources');
  const out: DemoSource[] = [];
  for (const family of SOURCE_FAMILY_IDS) {
    const spec = SOURCE_FAMILIES[family];
    const used = new Map<string, number>();
    const areas = [...AREAS];
    for (let i = 0; i < spec.count; i++) {
      const fam = FAMILIES[spec.family];
      let place: string;
      let location: DemoSource['location'];
      if (spec.byArea) {
        place = areas.splice(rng.int(areas.length), 1)[0]!;
        location = { area: place };
      } else {
        place = rng.pick(DISTRICTS);
        const [dLat, dLon] = DISTRICT_OFFSET[place]!;
        location = {
          lat: round4(CENTRE.lat + dLat + (rng.float() - 0.5) * 0.012),
          lon: round4(CENTRE.lon + dLon + (rng.float() - 0.5) * 0.018),
        };
      }
      const slug = spec.byArea ? place.toLowerCase().split(' ').slice(0, 2).join('-') : place;
      const n = (used.get(slug) ?? 0) + 1;
      used.set(slug, n);
      const local = `${slug}-${String(n).padStart(2, '0')}`;
      const id = `${spec.prefix}/${local}`;
      const source: DemoSource = {
        id,
        name: `${spec.label} ${spec.byArea ? place : `${place} ${n}`}`,
        org: spec.org,
        family,
        technology: spec.technology,
        location,
        categories: fam.categories,
        personalData: fam.personalData,
        notice: `https://sensors.example-city.eu/${id}`,
      };
      if (spec.operator !== undefined) source.operator = spec.operator;
      out.push(source);
    }
  }
  return out;
}

// --- Declarations ----------------------------------------------------------------------

/** The version-1 declaration of a family, valid from `validFrom`. */
export function baseDeclaration(seed: string, family: DemoFamily, validFrom: string): Declaration {
  const assessedOn = new Date(Date.parse(validFrom) - 30 * 86_400_000).toISOString().slice(0, 10);
  const d: Declaration = {
    subject: family.subject,
    version: 1,
    purposes: family.purposes.map((p, i) => ({
      id: p.id,
      description: p.description,
      ...(i === 0 ? { primary: true } : {}),
      legalBasis: p.legalBasis,
    })),
    categories: family.categories,
    personalData: family.personalData,
    processing: family.processing,
    retention: {
      duration: family.retention,
      basis: 'Retention schedule of the declaring organization.',
      deletion: family.deletion,
    },
    storage: [{ location: family.storage, jurisdiction: 'NL' }],
    validFrom,
    assessments: [
      {
        kind: family.assessment,
        url: `https://example-city.eu/assessments/${family.subject}`,
        digest: digestOf(seed, 'assessment', family.id),
        date: `${assessedOn}T00:00:00Z`,
      },
    ],
    notice: {
      register: `https://sensors.example-city.eu/${family.subject}`,
      privacyStatement: `https://example-city.eu/privacy/${family.org}`,
    },
  };
  if (family.measures.length > 0) d.measures = family.measures;
  if (family.prohibitions.length > 0) d.prohibitions = family.prohibitions;
  const recipients: NonNullable<Declaration['recipients']> = family.recipients.map((r) => ({
    org: r.org,
    purposes: r.purposes,
    ...(r.agreementRequired ? { agreementRequired: true } : {}),
    ...(r.nextPolicyRequired ? { nextPolicyRequired: true } : {}),
    onwardTransfer: r.onwardTransfer ?? false,
  }));
  if (family.publicPurposes.length > 0) recipients.push({ role: 'public', purposes: family.publicPurposes });
  if (recipients.length > 0) d.recipients = recipients;
  return d;
}
