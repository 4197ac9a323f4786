// One valid example of every event type, for documentation and for tests across the
// workspace. Hashes are placeholders of the right shape; chains are not linked.
import type { EventInput, EventType } from './events.ts';
import { GENESIS_PREV } from './ids.ts';

const h = (c: string) => c.repeat(64);
const d = (c: string) => `sha256:${c.repeat(64)}`;

function envelope(emitter: string, seq: number) {
  return {
    v: 1 as const,
    emitter,
    stream: 'main',
    seq,
    prev: seq === 1 ? GENESIS_PREV : h('e'),
    time: '2026-11-02T08:15:00Z',
    key: `${emitter}/k1`,
  };
}

export const EXAMPLE_EVENTS: Record<EventType, EventInput> = {
  collect: {
    ...envelope('transport-agency', 2),
    type: 'collect',
    source: 'transport-agency/cameras/north-07',
    dataset: { id: 'transport-agency/traffic-video', version: d('a') },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: h('d'),
    categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
    personalData: 'identified',
    from: '2026-11-02T08:00:00Z',
    until: '2026-11-02T08:15:00Z',
    records: 900,
    bytes: 734003200,
    format: 'video/mp4',
  },
  transfer: {
    ...envelope('transport-agency', 3),
    type: 'transfer',
    dataset: { id: 'transport-agency/traffic-video', version: d('a') },
    inputs: [h('1')],
    purpose: 'city:RoadSafetyEnforcement',
    declaration: h('d'),
    recipient: 'police',
    agreement: d('b'),
  },
  derive: {
    ...envelope('statistics-office', 5),
    type: 'derive',
    dataset: { id: 'statistics-office/footfall-hourly', version: d('c') },
    inputs: [h('2'), h('3')],
    purpose: 'city:OfficialStatistics',
    declaration: h('d'),
    processing: ['aggregate', 'anonymise'],
    categories: ['city:FootfallCount'],
    personalData: 'anonymised',
    anonymisation: { technique: 'dpv:KAnonymity', assessment: d('f'), parameter: 10 },
    records: 24,
    columns: [{ output: 'visits', inputs: ['device_hash'], transformation: 'indirect' }],
  },
  use: {
    ...envelope('police', 4),
    type: 'use',
    dataset: { id: 'transport-agency/traffic-video', version: d('a') },
    inputs: [h('4')],
    purpose: 'city:RoadSafetyEnforcement',
    declaration: h('d'),
    action: 'city:Enforcement',
    records: 3,
  },
  publish: {
    ...envelope('statistics-office', 6),
    type: 'publish',
    dataset: { id: 'statistics-office/footfall-hourly', version: d('c') },
    inputs: [h('5')],
    purpose: 'city:OfficialStatistics',
    declaration: h('d'),
    audience: 'public',
    url: 'https://data.example-city.eu/footfall/2026-11',
    licence: 'spdx:CC-BY-4.0',
  },
  delete: {
    ...envelope('transport-agency', 9),
    type: 'delete',
    dataset: { id: 'transport-agency/traffic-video', version: d('a') },
    inputs: [h('1')],
    purpose: 'city:TrafficManagement',
    declaration: h('d'),
    method: 'erase',
  },
  register: {
    ...envelope('ledger', 1),
    type: 'register',
    subject: {
      kind: 'organization',
      id: 'transport-agency',
      name: 'Municipal Transport Agency',
      role: 'agency',
      jurisdiction: 'NL',
    },
  },
  declare: {
    ...envelope('transport-agency', 1),
    type: 'declare',
    declaration: {
      subject: 'transport-agency/cameras/north-07',
      version: 1,
      purposes: [
        {
          id: 'city:TrafficManagement',
          description: 'Measure and manage traffic flow at the northern ring road.',
          primary: true,
          legalBasis: 'dpv:PublicTask',
        },
      ],
      categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
      personalData: 'identified',
      processing: ['aggregate', 'anonymise'],
      measures: ['dpv:Encryption'],
      recipients: [{ org: 'police', purposes: ['city:RoadSafetyEnforcement'], agreementRequired: true }],
      prohibitions: ['city:SaleToThirdParties'],
      retention: { duration: 'P30D', deletion: 'erase' },
      storage: [{ location: 'Municipal data centre', jurisdiction: 'NL' }],
      validFrom: '2026-01-01T00:00:00Z',
      assessments: [
        {
          kind: 'dpia',
          url: 'https://example-city.eu/dpia/cameras',
          digest: d('9'),
          date: '2025-12-01T00:00:00Z',
        },
      ],
      notice: { register: 'https://sensors.example-city.eu/north-07' },
    },
  },
  key: {
    ...envelope('vendor-a', 2),
    type: 'key',
    action: 'add',
    subjectOrg: 'vendor-a',
    subjectKey: 'vendor-a/k2',
    publicKey: 'vendor-a/k2+0a1b2c3d+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  },
  attest: {
    ...envelope('oversight-board', 3),
    type: 'attest',
    about: { treeSize: 1000, rootHash: 'GZwEbrsbFYU2YlfTDdzlASkVQvzySCZbk1IX5d0MnNA=' },
    statement: 'verified',
  },
  finding: {
    ...envelope('compliance', 7),
    type: 'finding',
    about: h('7'),
    check: 'purpose-declared',
    outcome: 'violation',
    declaration: h('d'),
    path: [h('7'), h('1')],
    explanation: 'Purpose city:Advertising is not declared for transport-agency/cameras/north-07.',
  },
};
