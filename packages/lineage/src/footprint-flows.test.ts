import { describe, expect, it } from 'vitest';
import { buildLeaves, type Spec } from './fixtures.ts';
import { LineageError, LineageIndex, flows, footprint } from './index.ts';

// Camera 1 feeds C1, C2 -> counts D -> statistics (T1) and vendor A (T2); vendor A uses
// them (U) and passes them on to vendor B (T3, no categories of its own: carried from D).
// Camera 2's collect C3 stays at home.
const CITY: Spec[] = [
  {
    name: 'C1',
    type: 'collect',
    source: 'transport-agency/cam-1',
    categories: ['city:Video', 'city:Plates'],
  },
  { name: 'C2', type: 'collect', source: 'transport-agency/cam-1', categories: ['city:Video'] },
  { name: 'C3', type: 'collect', source: 'transport-agency/cam-2' },
  { name: 'D', type: 'derive', inputs: ['C1', 'C2'], categories: ['city:Counts'] },
  {
    name: 'T1',
    type: 'transfer',
    inputs: ['D'],
    recipient: 'statistics-office',
    purpose: 'city:OfficialStatistics',
    time: '2026-10-02T10:00:00Z',
  },
  { name: 'T2', type: 'transfer', inputs: ['D'], recipient: 'vendor-a', time: '2026-10-02T11:00:00Z' },
  { name: 'U', type: 'use', inputs: ['T2'], emitter: 'vendor-a', purpose: 'city:TrafficManagement' },
  {
    name: 'T3',
    type: 'transfer',
    inputs: ['T2'],
    emitter: 'vendor-a',
    recipient: 'vendor-b',
    time: '2026-10-03T09:00:00Z',
  },
  {
    name: 'T4',
    type: 'transfer',
    inputs: ['C1'],
    recipient: 'police',
    purpose: 'city:RoadSafetyEnforcement',
    time: '2026-10-05T00:00:00Z',
  },
];

function cityIndex(): LineageIndex {
  const index = new LineageIndex();
  for (const r of buildLeaves(CITY).records) index.add(r);
  return index;
}

describe('footprint', () => {
  it('sums up everything downstream of a source: datasets, recipients and their purposes', () => {
    const f = footprint(cityIndex(), 'transport-agency/cam-1');
    expect(f).toMatchObject({
      source: 'transport-agency/cam-1',
      asOf: 9,
      collects: 2,
      events: 8,
      depth: 3,
      complete: true,
    });
    expect(f.types).toEqual({ collect: 2, derive: 1, transfer: 4, use: 1 });
    expect(f.organizations).toEqual([
      {
        org: 'police',
        received: { transfers: 1, purposes: ['city:RoadSafetyEnforcement'] },
        handled: { events: 0, types: {}, purposes: [] },
      },
      {
        org: 'statistics-office',
        received: { transfers: 1, purposes: ['city:OfficialStatistics'] },
        handled: { events: 0, types: {}, purposes: [] },
      },
      {
        org: 'transport-agency',
        received: { transfers: 0, purposes: [] },
        handled: {
          events: 6,
          types: { collect: 2, derive: 1, transfer: 3 },
          purposes: ['city:OfficialStatistics', 'city:RoadSafetyEnforcement', 'city:TrafficManagement'],
        },
      },
      {
        org: 'vendor-a',
        received: { transfers: 1, purposes: ['city:TrafficManagement'] },
        handled: { events: 2, types: { use: 1, transfer: 1 }, purposes: ['city:TrafficManagement'] },
      },
      {
        org: 'vendor-b',
        received: { transfers: 1, purposes: ['city:TrafficManagement'] },
        handled: { events: 0, types: {}, purposes: [] },
      },
    ]);
    expect(f.datasets).toEqual([
      { id: 'transport-agency/data', versions: 6, events: 6 },
      { id: 'vendor-a/data', versions: 2, events: 2 },
    ]);
  });

  it('is incomplete when cut by depth or by an as-of size', () => {
    const index = cityIndex();
    const shallow = footprint(index, 'transport-agency/cam-1', { depth: 1 });
    expect(shallow.events).toBe(4); // C1, C2, D, T4
    expect(shallow.incomplete.map((i) => i.reason)).toEqual(['depth']);
    const past = footprint(index, 'transport-agency/cam-1', { asOf: 6 });
    expect(past.events).toBe(5);
    expect(past.asOf).toBe(6);
    expect(past.incomplete.map((i) => i.reason)).toEqual(['as-of']);
  });

  it('refuses an unknown source and a bad id', () => {
    const index = cityIndex();
    expect(() => footprint(index, 'transport-agency/cam-9')).toThrow(LineageError);
    expect(() => footprint(index, 'Not An Id')).toThrow(/footprint: source: resource id/);
  });
});

describe('flows', () => {
  it('counts transfers per pair of organizations with purposes, carried categories and datasets', () => {
    const r = flows(cityIndex(), { from: '2026-10-02T00:00:00Z', until: '2026-10-04T00:00:00Z' });
    expect(r.complete).toBe(true);
    expect(r.organizations).toEqual(['statistics-office', 'transport-agency', 'vendor-a', 'vendor-b']);
    expect(r.flows).toEqual([
      {
        from: 'transport-agency',
        to: 'statistics-office',
        transfers: 1,
        purposes: [{ purpose: 'city:OfficialStatistics', transfers: 1 }],
        categories: [{ category: 'city:Counts', transfers: 1 }],
        datasets: [{ id: 'transport-agency/data', transfers: 1 }],
      },
      {
        from: 'transport-agency',
        to: 'vendor-a',
        transfers: 1,
        purposes: [{ purpose: 'city:TrafficManagement', transfers: 1 }],
        categories: [{ category: 'city:Counts', transfers: 1 }],
        datasets: [{ id: 'transport-agency/data', transfers: 1 }],
      },
      {
        // An onward transfer carries the categories of what it passes on (T2 <- D).
        from: 'vendor-a',
        to: 'vendor-b',
        transfers: 1,
        purposes: [{ purpose: 'city:TrafficManagement', transfers: 1 }],
        categories: [{ category: 'city:Counts', transfers: 1 }],
        datasets: [{ id: 'vendor-a/data', transfers: 1 }],
      },
    ]);
    const police = flows(cityIndex(), { from: '2026-10-05T00:00:00Z', until: '2026-10-06T00:00:00Z' });
    expect(police.flows[0]!.categories).toEqual([
      { category: 'city:Plates', transfers: 1 },
      { category: 'city:Video', transfers: 1 },
    ]);
  });

  it('as of a size leaves later transfers out and says so; refuses a reversed window', () => {
    const r = flows(cityIndex(), { from: '2026-10-02T00:00:00Z', until: '2026-10-04T00:00:00Z', asOf: 6 });
    expect(r.flows.map((f) => `${f.from}>${f.to}:${f.transfers}`)).toEqual([
      'transport-agency>statistics-office:1',
      'transport-agency>vendor-a:1',
    ]);
    expect(r.incomplete).toEqual([
      {
        reason: 'as-of',
        count: 1,
        detail: '1 transfers in the window are at or after tree size 6 and not counted',
      },
    ]);
    expect(() => flows(cityIndex(), { from: '2026-10-04T00:00:00Z', until: '2026-10-02T00:00:00Z' })).toThrow(
      /until: until must be after from/,
    );
  });
});
