// trace() against a naive recursive traversal on random DAGs: same nodes at the same
// (shortest) depths, same links, pages that add up to the whole, and the same reasons.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildLeaves, type Spec } from './fixtures.ts';
import { LineageIndex, trace, type IncompleteReason, type TraceQuery } from './index.ts';

const ORGS = ['transport-agency', 'police', 'vendor-a'];
const PURPOSES = ['city:TrafficManagement', 'city:OfficialStatistics'];
const OTHER = ['transfer', 'derive', 'use', 'publish', 'delete'] as const;

const dag = fc.integer({ min: 1, max: 22 }).chain((n) =>
  fc.tuple(
    ...Array.from({ length: n }, (_, i) =>
      fc.record({
        inputs:
          i === 0
            ? fc.constant<number[]>([])
            : fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { maxLength: 3 }),
        type: fc.constantFrom(...OTHER),
        emitter: fc.integer({ min: 0, max: 2 }),
        purpose: fc.integer({ min: 0, max: 1 }),
      }),
    ),
  ),
);

describe('trace, property', () => {
  it('matches a naive traversal on random DAGs', () => {
    fc.assert(
      fc.property(
        dag,
        fc.nat(),
        fc.boolean(),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.constantFrom(...OTHER), { nil: undefined }),
        fc.nat(),
        (nodes, startPick, up, depth, limit, hideType, asOfPick) => {
          const specs: Spec[] = nodes.map((s, i) => ({
            name: `n${i}`,
            type: s.inputs.length === 0 ? 'collect' : s.type,
            inputs: s.inputs.map((j) => `n${j}`),
            emitter: ORGS[s.emitter]!,
            purpose: PURPOSES[s.purpose]!,
          }));
          const built = buildLeaves(specs);
          const index = new LineageIndex();
          for (const r of built.records) index.add(r);
          const n = specs.length;
          const start = startPick % n;
          const asOf = start + 1 + (asOfPick % (n - start));
          const types =
            hideType === undefined ? undefined : ['collect', ...OTHER].filter((t) => t !== hideType);
          const shown = (i: number) => hideType === undefined || specs[i]!.type !== hideType;

          // Naive: neighbours in the full log, shortest distances by recursion, below asOf.
          const nb = (i: number) =>
            up ? nodes[i]!.inputs : nodes.flatMap((s, j) => (s.inputs.includes(i) ? [j] : []));
          const best = new Map<number, number>();
          const visit = (i: number, d: number): void => {
            if ((best.get(i) ?? Infinity) <= d) return;
            best.set(i, d);
            if (d < depth) for (const m of nb(i)) if (m < asOf) visit(m, d + 1);
          };
          visit(start, 0);
          const expectedNodes = [...best]
            .filter(([i]) => shown(i))
            .sort((a, b) => a[1] - b[1] || a[0] - b[0])
            .map(([i, d]) => `n${i}@${d}`);
          const inAnswer = (i: number) => best.has(i) && shown(i);
          const expectedEdges = nodes
            .flatMap((s, j) => s.inputs.filter((i) => inAnswer(i) && inAnswer(j)).map((i) => `n${i}>n${j}`))
            .sort();
          const reasons = new Set<IncompleteReason>();
          for (const [i, d] of best) {
            if (!shown(i)) reasons.add('filter');
            for (const m of nb(i)) {
              if (m >= asOf) reasons.add('as-of');
              else if (d === depth && !best.has(m)) reasons.add('depth');
            }
          }

          // All pages.
          const q: TraceQuery = {
            from: { event: built.hash.get(`n${start}`)! },
            direction: up ? 'upstream' : 'downstream',
            depth,
            asOf,
            filters:
              types === undefined
                ? {}
                : { types: types as NonNullable<TraceQuery['filters']>['types'] & string[] },
            page: { limit },
          };
          const gotNodes: string[] = [];
          const gotEdges: string[] = [];
          let last;
          for (let cursor: string | undefined, pages = 0; ; pages++) {
            expect(pages).toBeLessThan(100);
            const r = trace(index, { ...q, page: cursor === undefined ? { limit } : { limit, cursor } });
            gotNodes.push(...r.nodes.map((x) => `${built.name.get(x.event)!}@${x.depth}`));
            gotEdges.push(...r.edges.map((e) => `${built.name.get(e.from)!}>${built.name.get(e.to)!}`));
            expect(r.nodes.length).toBeLessThanOrEqual(limit);
            if (r.next === undefined) {
              last = r;
              break;
            }
            expect(r.complete).toBe(false);
            expect(r.incomplete.map((i) => i.reason)).toContain('page');
            cursor = r.next;
          }
          expect(gotNodes).toEqual(expectedNodes);
          expect([...gotEdges].sort()).toEqual(expectedEdges);
          expect(new Set(last.incomplete.map((i) => i.reason))).toEqual(reasons);
          expect(last.complete).toBe(reasons.size === 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
