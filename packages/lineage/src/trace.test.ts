import { describe, expect, it } from 'vitest';
import { buildLeaves, arraySource, versionOf, type Spec } from './fixtures.ts';
import { LineageError, LineageIndex, trace, type TraceQuery, type TraceResult } from './index.ts';

function indexOf(specs: Spec[]) {
  const built = buildLeaves(specs);
  const index = new LineageIndex();
  for (const r of built.records) index.add(r);
  const h = (n: string) => built.hash.get(n)!;
  const names = (r: TraceResult) => r.nodes.map((n) => `${built.name.get(n.event)!}@${n.depth}`);
  const links = (r: TraceResult) => r.edges.map((e) => `${built.name.get(e.from)!}>${built.name.get(e.to)!}`);
  return { built, index, h, names, links };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof LineageError) return e.code;
    throw e;
  }
  return 'no error';
}

// A -> B, A -> C, B + C -> D (a diamond), D -> T (transfer to the police)
const DIAMOND: Spec[] = [
  { name: 'A', type: 'collect' },
  { name: 'B', type: 'derive', inputs: ['A'] },
  { name: 'C', type: 'derive', inputs: ['A'], purpose: 'city:OfficialStatistics' },
  { name: 'D', type: 'derive', inputs: ['B', 'C'] },
  { name: 'T', type: 'transfer', inputs: ['D'], recipient: 'police' },
];

describe('trace', () => {
  it('follows a diamond upstream to its source, each node once, with every link', () => {
    const t = indexOf(DIAMOND);
    const r = trace(t.index, { from: { event: t.h('T') }, direction: 'upstream', depth: 10 });
    expect(t.names(r)).toEqual(['T@0', 'D@1', 'B@2', 'C@2', 'A@3']);
    expect(t.links(r)).toEqual(['D>T', 'B>D', 'C>D', 'A>B', 'A>C']);
    expect(r.complete).toBe(true);
    expect(r.incomplete).toEqual([]);
    expect(r.asOf).toBe(5);
    expect(r.next).toBeUndefined();
    const t0 = r.nodes[0]!;
    expect(t0).toMatchObject({
      type: 'transfer',
      recipient: 'police',
      emitter: 'transport-agency',
      index: 4,
    });
    // A transfer carries the categories of the data it moves.
    expect(t0.categories).toEqual(['city:Counts']);
    expect(t0.ownCategories).toBe(false);
    expect(r.nodes[4]).toMatchObject({
      type: 'collect',
      source: 'transport-agency/cam-1',
      categories: ['city:Video'],
    });
  });

  it('follows a diamond downstream', () => {
    const t = indexOf(DIAMOND);
    const r = trace(t.index, { from: { event: t.h('A') }, direction: 'downstream', depth: 10 });
    expect(t.names(r)).toEqual(['A@0', 'B@1', 'C@1', 'D@2', 'T@3']);
    expect(t.links(r)).toEqual(['A>B', 'A>C', 'B>D', 'C>D', 'D>T']);
    expect(r.complete).toBe(true);
  });

  it('reports links between nodes of one level and does not call a reconverging path a depth cut', () => {
    // A -> B -> C and A -> C directly: C is at depth 1, and B > C is a link between two depth-1 nodes.
    const t = indexOf([
      { name: 'A', type: 'collect' },
      { name: 'B', type: 'derive', inputs: ['A'] },
      { name: 'C', type: 'derive', inputs: ['A', 'B'] },
    ]);
    const r = trace(t.index, { from: { event: t.h('A') }, direction: 'downstream', depth: 1 });
    expect(t.names(r)).toEqual(['A@0', 'B@1', 'C@1']);
    expect(t.links(r)).toEqual(['A>B', 'A>C', 'B>C']);
    expect(r.complete).toBe(true);
  });

  it('cuts at the depth limit and says so', () => {
    const t = indexOf(DIAMOND);
    const r = trace(t.index, { from: { event: t.h('A') }, direction: 'downstream', depth: 1 });
    expect(t.names(r)).toEqual(['A@0', 'B@1', 'C@1']);
    expect(r.complete).toBe(false);
    expect(r.incomplete).toEqual([{ reason: 'depth', count: 2, detail: '2 links lead beyond depth 1' }]);
    const zero = trace(t.index, { from: { event: t.h('T') }, direction: 'upstream', depth: 0 });
    expect(t.names(zero)).toEqual(['T@0']);
    expect(zero.incomplete.map((i) => i.reason)).toEqual(['depth']);
    const exact = trace(t.index, { from: { event: t.h('A') }, direction: 'downstream', depth: 3 });
    expect(exact.complete).toBe(true);
  });

  it('pages with a cursor: no node or link lost or repeated, only the last page complete', () => {
    const t = indexOf(DIAMOND);
    const q: TraceQuery = {
      from: { event: t.h('A') },
      direction: 'downstream',
      depth: 10,
      page: { limit: 2 },
    };
    const p1 = trace(t.index, q);
    expect(t.names(p1)).toEqual(['A@0', 'B@1']);
    expect(t.links(p1)).toEqual(['A>B']);
    expect(p1.complete).toBe(false);
    expect(p1.incomplete.map((i) => i.reason)).toEqual(['page']);
    expect(p1.next).toBeTypeOf('string');
    const p2 = trace(t.index, { ...q, page: { limit: 2, cursor: p1.next! } });
    expect(t.names(p2)).toEqual(['C@1', 'D@2']);
    expect(t.links(p2)).toEqual(['A>C', 'B>D', 'C>D']);
    expect(p2.next).toBeDefined();
    const p3 = trace(t.index, { ...q, page: { limit: 2, cursor: p2.next! } });
    expect(t.names(p3)).toEqual(['T@3']);
    expect(t.links(p3)).toEqual(['D>T']);
    expect(p3.complete).toBe(true);
    expect(p3.next).toBeUndefined();
  });

  it('refuses a cursor of another query or a made-up one', () => {
    const t = indexOf(DIAMOND);
    const p1 = trace(t.index, { from: { event: t.h('A') }, direction: 'downstream', page: { limit: 1 } });
    expect(
      codeOf(() =>
        trace(t.index, {
          from: { event: t.h('A') },
          direction: 'upstream',
          page: { limit: 1, cursor: p1.next! },
        }),
      ),
    ).toBe('CURSOR_MISMATCH');
    expect(
      codeOf(() =>
        trace(t.index, {
          from: { event: t.h('A') },
          direction: 'downstream',
          asOf: 3,
          page: { limit: 1, cursor: p1.next! },
        }),
      ),
    ).toBe('CURSOR_MISMATCH');
    expect(
      codeOf(() =>
        trace(t.index, {
          from: { event: t.h('A') },
          direction: 'downstream',
          page: { limit: 1, cursor: 'bm9wZQ' },
        }),
      ),
    ).toBe('CURSOR_INVALID');
  });

  it("keeps later pages at the first page's as-of size while the index grows", () => {
    const built = buildLeaves([...DIAMOND, { name: 'U', type: 'use', inputs: ['T'], emitter: 'police' }]);
    const index = new LineageIndex();
    for (const r of built.records.slice(0, 5)) index.add(r);
    const q: TraceQuery = {
      from: { event: built.hash.get('A')! },
      direction: 'downstream',
      page: { limit: 3 },
    };
    const p1 = trace(index, q);
    index.add(built.records[5]!);
    const p2 = trace(index, { ...q, page: { limit: 3, cursor: p1.next! } });
    expect(p2.asOf).toBe(5);
    expect(p2.nodes.map((n) => built.name.get(n.event))).toEqual(['D', 'T']);
    expect(p2.incomplete.map((i) => i.reason)).toEqual(['as-of']);
  });

  it('filters hide nodes but traverse through them, and say how many were hidden', () => {
    const t = indexOf(DIAMOND);
    const onlyTransfers = trace(t.index, {
      from: { event: t.h('A') },
      direction: 'downstream',
      filters: { types: ['transfer', 'collect'] },
    });
    expect(t.names(onlyTransfers)).toEqual(['A@0', 'T@3']);
    expect(t.links(onlyTransfers)).toEqual([]);
    expect(onlyTransfers.complete).toBe(false);
    expect(onlyTransfers.incomplete).toEqual([
      {
        reason: 'filter',
        count: 3,
        detail:
          '3 events in reach hidden by the purpose, organization or type filter (traversed, not returned)',
      },
    ]);
    // Organizations match the emitter or the recipient.
    const police = trace(t.index, {
      from: { event: t.h('A') },
      direction: 'downstream',
      filters: { organizations: ['police'] },
    });
    expect(t.names(police)).toEqual(['T@3']);
    const purpose = trace(t.index, {
      from: { event: t.h('A') },
      direction: 'downstream',
      filters: { purposes: ['city:OfficialStatistics'] },
    });
    expect(t.names(purpose)).toEqual(['C@1']);
    expect(purpose.incomplete[0]).toMatchObject({ reason: 'filter', count: 4 });
  });

  it('a time window hides events outside it with reason time', () => {
    const t = indexOf(DIAMOND); // times 00:00:00 .. 00:00:04
    const r = trace(t.index, {
      from: { event: t.h('A') },
      direction: 'downstream',
      filters: { from: '2026-10-01T00:00:01Z', until: '2026-10-01T00:00:03Z' },
    });
    expect(t.names(r)).toEqual(['B@1', 'C@1']);
    expect(r.incomplete).toEqual([
      {
        reason: 'time',
        count: 3,
        detail: '3 events in reach outside the time window (traversed, not returned)',
      },
    ]);
  });

  it('as of a tree size answers from the leaves below it, and says later entries extend it', () => {
    const t = indexOf(DIAMOND);
    const past = trace(t.index, { from: { event: t.h('A') }, direction: 'downstream', asOf: 3 });
    expect(t.names(past)).toEqual(['A@0', 'B@1', 'C@1']);
    expect(past.asOf).toBe(3);
    expect(past.incomplete).toEqual([
      {
        reason: 'as-of',
        count: 2,
        detail: '2 links to entries at or after tree size 3 are not part of this answer',
      },
    ]);
    // The same answer as an index that only ever saw those leaves (which calls it complete).
    const small = new LineageIndex();
    for (const r of t.built.records.slice(0, 3)) small.add(r);
    const then = trace(small, { from: { event: t.h('A') }, direction: 'downstream' });
    expect(then.nodes).toEqual(past.nodes);
    expect(then.edges).toEqual(past.edges);
    expect(then.complete).toBe(true);
    // An event at or after the size does not exist as of it.
    expect(codeOf(() => trace(t.index, { from: { event: t.h('D') }, direction: 'upstream', asOf: 3 }))).toBe(
      'NOT_FOUND',
    );
    expect(codeOf(() => trace(t.index, { from: { event: t.h('A') }, direction: 'upstream', asOf: 6 }))).toBe(
      'AS_OF_BEYOND_INDEX',
    );
  });

  it('starts from a dataset, one version of it, or a source', () => {
    const t = indexOf([
      { name: 'A1', type: 'collect', source: 'transport-agency/cam-1', dataset: 'transport-agency/video' },
      { name: 'A2', type: 'collect', source: 'transport-agency/cam-2', dataset: 'transport-agency/video' },
      { name: 'A3', type: 'collect', source: 'transport-agency/cam-1', dataset: 'transport-agency/video' },
      {
        name: 'D',
        type: 'derive',
        inputs: ['A1', 'A2'],
        dataset: 'transport-agency/counts',
        version: versionOf('D'),
      },
      {
        name: 'T',
        type: 'transfer',
        inputs: ['D'],
        dataset: 'transport-agency/counts',
        version: versionOf('D'),
      },
    ]);
    const cam1 = trace(t.index, { from: { source: 'transport-agency/cam-1' }, direction: 'downstream' });
    expect(t.names(cam1)).toEqual(['A1@0', 'A3@0', 'D@1', 'T@2']);
    const video = trace(t.index, {
      from: { dataset: 'transport-agency/video' },
      direction: 'downstream',
      depth: 0,
    });
    expect(t.names(video)).toEqual(['A1@0', 'A2@0', 'A3@0']);
    const version = trace(t.index, {
      from: { dataset: 'transport-agency/counts', version: versionOf('D') },
      direction: 'upstream',
    });
    expect(t.names(version)).toEqual(['D@0', 'T@0', 'A1@1', 'A2@1']);
    expect(t.links(version)).toEqual(['D>T', 'A1>D', 'A2>D']);
    expect(
      codeOf(() => trace(t.index, { from: { source: 'transport-agency/cam-9' }, direction: 'downstream' })),
    ).toBe('NOT_FOUND');
  });

  it('refuses malformed queries, naming the field and the rule', () => {
    const t = indexOf(DIAMOND);
    const issues = (q: unknown) => {
      try {
        trace(t.index, q as TraceQuery);
      } catch (e) {
        if (e instanceof LineageError && e.code === 'QUERY_INVALID') return e.issues.map((i) => i.path);
        throw e;
      }
      return [];
    };
    expect(issues({ from: { event: t.h('A') }, direction: 'sideways' })).toEqual(['direction']);
    expect(issues({ from: { event: t.h('A') }, direction: 'upstream', depth: -1 })).toEqual(['depth']);
    expect(
      issues({ from: { event: t.h('A'), source: 'transport-agency/x' }, direction: 'upstream' }),
    ).toEqual(['from']);
    expect(
      issues({ from: { source: 'transport-agency/x', version: versionOf('x') }, direction: 'upstream' }),
    ).toEqual(['from.version']);
    expect(issues({ from: { event: 'nope' }, direction: 'upstream' })).toEqual(['from.event']);
    expect(
      issues({
        from: { event: t.h('A') },
        direction: 'upstream',
        filters: { from: '2026-10-02T00:00:00Z', until: '2026-10-01T00:00:00Z' },
      }),
    ).toEqual(['filters.until']);
    expect(issues({ from: { event: t.h('A') }, direction: 'upstream', page: { limit: 0 } })).toEqual([
      'page.limit',
    ]);
    expect(issues({ from: { event: t.h('A') }, direction: 'upstream', extra: 1 })).toEqual(['(root)']);
  });
});

describe('LineageIndex', () => {
  it('names the latest movement of a dataset, and nothing for a dataset it never saw', () => {
    const specs: Spec[] = [
      { name: 'A', type: 'collect', dataset: 'agency/counts' },
      { name: 'B', type: 'derive', inputs: ['A'], dataset: 'agency/summary' },
      { name: 'C', type: 'collect', dataset: 'agency/counts' },
    ];
    const { index, h } = indexOf(specs);
    expect(index.latestEventOf('agency/counts')).toEqual({ eventHash: h('C'), index: 2 });
    expect(index.latestEventOf('agency/summary')).toEqual({ eventHash: h('B'), index: 1 });
    expect(index.latestEventOf('agency/unknown')).toBeUndefined();
  });

  it('counts governance leaves in its size but makes no node of them', () => {
    const t = indexOf([{ name: 'R', type: 'register' }, ...DIAMOND]);
    expect(t.index.size).toBe(6);
    expect(t.index.events).toBe(5);
    expect(t.index.edges).toBe(5);
    const r = trace(t.index, { from: { event: t.h('T') }, direction: 'upstream' });
    expect(r.nodes.map((n) => n.index)).toEqual([5, 4, 2, 3, 1]);
  });

  it('builds from a store in pages, the same as leaf by leaf, and catches up', async () => {
    const built = buildLeaves(DIAMOND);
    const partial = arraySource(built.records.slice(0, 3));
    const index = await LineageIndex.build(partial, { pageSize: 2 });
    expect(index.size).toBe(3);
    await index.catchUp(arraySource(built.records), { pageSize: 2 });
    expect(index.size).toBe(5);
    const whole = await LineageIndex.build(arraySource(built.records), { size: 5, checkLeaves: true });
    const q: TraceQuery = { from: { event: built.hash.get('T')! }, direction: 'upstream' };
    expect(trace(index, q)).toEqual(trace(whole, q));
  });

  it("refuses leaves out of order, and with checkLeaves a record whose hash is not its leaf's", () => {
    const built = buildLeaves(DIAMOND);
    const index = new LineageIndex({ checkLeaves: true });
    expect(codeOf(() => index.add(built.records[1]!))).toBe('OUT_OF_ORDER');
    expect(codeOf(() => index.add({ ...built.records[0]!, eventHash: built.records[1]!.eventHash }))).toBe(
      'LEAF_INVALID',
    );
    expect(codeOf(() => index.add({ ...built.records[0]!, leaf: new TextEncoder().encode('{') }))).toBe(
      'LEAF_INVALID',
    );
    expect(index.size).toBe(0);
    index.add(built.records[0]!);
    expect(index.size).toBe(1);
  });
});
