// The engine over the generated demo city. Its own flows are designed to be compliant and
// are: no finding at all on 12,000 events. With the demo's violation hooks (what the quick
// start seeds), every violation written is found, with the check its kind breaks, and
// nothing else is.
import { generateDemoCity, violationHooks, type ViolationKind } from '@civic-ledger/demo-city';
import type { Event } from '@civic-ledger/schemas';
import { describe, expect, it } from 'vitest';
import { ComplianceState, findingsOf } from './index.ts';

const city = generateDemoCity({
  seed: 'compliance',
  size: 12_000,
  sign: false,
  now: Date.parse('2027-01-01T00:00:00Z'),
});
const events: { event: Event; hash: string }[] = [];
for (const batch of city.batchesSync())
  for (const s of batch) events.push({ event: s.event as unknown as Event, hash: s.hash });
const state = new ComplianceState();
events.forEach((x, i) => state.add(x.event, i, x.hash));
const results = events.map((x) => ({ ...x, outcomes: state.evaluate(x.hash) }));

/** The check each kind of demo violation must fail. */
const BROKEN: Record<ViolationKind, string> = {
  'undeclared-purpose': 'purpose-declared',
  'video-to-police': 'purpose-declared',
  'wifi-to-advertiser': 'recipient-allowed',
  'onward-without-policy': 'recipient-allowed',
};

describe('the demo city', () => {
  it("finds nothing to report in the city's own flows", () => {
    const reported = results.flatMap((r) =>
      r.outcomes
        .filter((o) => o.outcome !== 'compliant')
        .map((o) => `${r.event.type} ${o.check} ${o.outcome}: ${o.explanation}`),
    );
    expect(reported.slice(0, 5)).toEqual([]);
  });

  it('finds every violation the demo hooks write, with the check its kind breaks, and nothing else', () => {
    const written = new Map<string, ViolationKind>();
    const mixed = generateDemoCity({
      seed: 'compliance-violations',
      size: 6_000,
      sign: false,
      now: Date.parse('2027-01-01T00:00:00Z'),
      hooks: violationHooks({ onViolation: (v) => written.set(v.hash, v.kind) }),
    });
    const s = new ComplianceState();
    let i = 0;
    const flagged = new Map<string, string[]>();
    for (const batch of mixed.batchesSync()) {
      for (const sub of batch) {
        s.add(sub.event as unknown as Event, i++, sub.hash);
        const findings = findingsOf(s.evaluate(sub.hash));
        if (findings.length > 0)
          flagged.set(
            sub.hash,
            findings.map((f) => `${f.check} ${f.outcome}`),
          );
      }
    }
    expect(new Set(written.values()).size).toBe(4);
    for (const [hash, kind] of written) {
      expect(flagged.get(hash) ?? [], kind).toContain(`${BROKEN[kind]} violation`);
    }
    const others = [...flagged.keys()].filter((h) => !written.has(h));
    expect(others).toEqual([]);
  });

  it('finds every collection, anonymisation, publication, police use and deletion compliant', () => {
    const kinds = new Map<string, number>();
    for (const r of results) {
      const e = r.event;
      const kind =
        e.type === 'derive' && e.processing.includes('anonymise')
          ? 'anonymise'
          : e.type === 'use' && e.emitter === 'police'
            ? 'police use'
            : e.type;
      if (!['collect', 'anonymise', 'publish', 'delete', 'police use'].includes(kind)) continue;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      expect(r.outcomes.filter((o) => o.outcome !== 'compliant')).toEqual([]);
      if (kind === 'anonymise')
        expect(r.outcomes.find((o) => o.check === 'anonymisation')?.outcome).toBe('compliant');
    }
    for (const k of ['collect', 'anonymise', 'publish', 'delete', 'police use'])
      expect(kinds.get(k)).toBeGreaterThan(0);
  });

  it('knows every term of its declarations', () => {
    const declares = results.filter((r) => r.event.type === 'declare');
    expect(declares).toHaveLength(12);
    for (const r of declares) expect(r.outcomes.filter((o) => o.outcome !== 'compliant')).toEqual([]);
  });

  it('has nothing overdue at the end of its window, and its last raw captures once their retention has passed', () => {
    expect(state.overdue(city.end)).toEqual([]);
    const end = Date.parse(city.end);
    const later = state.overdue(end + 60 * 86_400_000);
    expect(later.length).toBeGreaterThan(0);
    const time = new Map(events.map((x) => [x.hash, Date.parse(x.event.time)]));
    for (const o of later) expect(time.get(o.about)!).toBeGreaterThan(end - 8 * 86_400_000);
  });
});
