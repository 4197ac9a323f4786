import { validateEvent, type Event } from '@civic-ledger/schemas';
import { describe, expect, it } from 'vitest';
import { clip, counts, DAY, digestOf, footfall, HOUR, P, rule, T0, testCity, wifi } from './fixtures.ts';
import { ComplianceError, ComplianceState, findingsOf, toFinding, type Outcome } from './index.ts';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ComplianceError) return e.code;
    throw e;
  }
  throw new Error('expected a ComplianceError');
}

const envelope = {
  v: 1,
  emitter: 'compliance',
  stream: 'findings',
  seq: 1,
  prev: '0'.repeat(64),
  time: '2026-03-05T00:00:00Z',
  key: 'compliance/k1',
};

describe('add and evaluate', () => {
  it('refuses events out of ledger order and the same event twice', () => {
    const { c } = testCity();
    const last = c.events.at(-1)!;
    expect(code(() => c.state.add(last.event, last.index, 'f'.repeat(64)))).toBe('OUT_OF_ORDER');
    expect(code(() => c.state.add(last.event, last.index + 1, last.hash))).toBe('DUPLICATE_EVENT');
    expect(c.state.lastIndex).toBe(last.index);
    expect(c.state.size).toBe(c.events.length);
  });

  it('answers UNKNOWN_EVENT for a hash never added and nothing for events that are not judged', () => {
    const { c } = testCity();
    expect(code(() => c.state.evaluate('a'.repeat(64)))).toBe('UNKNOWN_EVENT');
    const register = c.events.find((x) => x.event.type === 'register')!;
    expect(c.state.evaluate(register.hash)).toEqual([]);
  });

  it('gives at most one outcome per check, each naming the event, a path from it and one short sentence', () => {
    const { c, d } = testCity();
    const t = c.move('statistics-office', 'transfer', {
      datasetId: 'statistics-office/wifi-raw',
      inputs: [wifi(c, d.wifi)],
      purpose: 'city:Advertising',
      declaration: d.wifi,
      recipient: 'adtech',
    });
    const outcomes = c.state.evaluate(t);
    expect(new Set(outcomes.map((o) => o.check)).size).toBe(outcomes.length);
    for (const o of outcomes) {
      expect(o.about).toBe(t);
      expect(o.path[0]).toBe(t);
      expect(o.explanation).toMatch(/^[^\n]{10,280}$/);
    }
  });

  it('is deterministic: the same events give the same outcomes', () => {
    const run = () => {
      const { c, d } = testCity();
      const f = footfall(c, [wifi(c, d.wifi), wifi(c, d.wifi)], d.footfall);
      return c.events.map((x) => c.state.evaluate(x.hash)).concat([c.state.evaluate(f)]);
    };
    expect(run()).toEqual(run());
  });

  it('judges a movement by the declarations in force at its position, however late it is evaluated', () => {
    const { c, d } = testCity();
    const k = clip(c, d.cameras);
    const before = c.state.evaluate(k);
    c.declare({
      subject: 'transport-agency/cameras',
      purposes: [P.statistics],
      personalData: 'identified',
      retention: { duration: 'P1D' },
    });
    expect(c.state.evaluate(k)).toEqual(before);
  });
});

describe('lineage paths', () => {
  it('names the event whose declaration decided, across a long lineage, and stays within 64 hashes', () => {
    const { c, d } = testCity();
    const plates = c.declare({
      subject: 'transport-agency/plates',
      purposes: [P.traffic],
      categories: ['dpv:VehicleLicence', 'city:VideoStill'],
      personalData: 'identified',
      processing: ['filter'],
      prohibitions: ['city:SaleToThirdParties', 'city:PersonTracking'],
      retention: { duration: 'P7D' },
    });
    const origin = clip(c, d.cameras);
    c.advance(HOUR); // the derived copies' own retention ends later than the clip's
    let h = origin;
    for (let i = 0; i < 80; i++) {
      h = c.move('transport-agency', 'derive', {
        datasetId: 'transport-agency/plates',
        inputs: [h],
        purpose: 'city:TrafficManagement',
        declaration: plates,
        processing: ['filter'],
        categories: ['dpv:VehicleLicence', 'city:VideoStill'],
        personalData: 'identified',
      });
    }
    const t = c.move('transport-agency', 'transfer', {
      datasetId: 'transport-agency/plates',
      inputs: [h],
      purpose: 'city:TrafficManagement',
      declaration: plates,
      recipient: 'vendor-a',
    });
    const o = c.state.evaluate(t).find((x) => x.check === 'recipient-allowed')!;
    expect(o.outcome).toBe('violation');
    expect(o.path).toHaveLength(64);
    expect(o.path[0]).toBe(t);
    expect(o.path[63]).toBe(origin);
    expect(new Set(o.path).size).toBe(64);
    // The retention that decides is the clip's (7 days from its collection), 81 steps up.
    const retention = c.state.evaluate(t).find((x) => x.check === 'retention')!;
    expect(retention.path.at(-1)).toBe(origin);
    expect(retention.declaration).toBe(d.cameras);
  });

  it('computes each policy once: a chain of thousands of derivations stays fast', () => {
    const { c, d } = testCity();
    let h = footfall(c, [wifi(c, d.wifi)], d.footfall);
    const started = performance.now();
    for (let i = 0; i < 3000; i++) {
      h = c.move('statistics-office', 'derive', {
        datasetId: 'statistics-office/footfall',
        inputs: [h],
        purpose: 'city:OfficialStatistics',
        declaration: d.footfall,
        processing: ['aggregate'],
        categories: ['city:FootfallCount'],
        personalData: 'anonymised',
      });
      c.state.evaluate(h);
    }
    expect(performance.now() - started).toBeLessThan(5000);
    expect(c.state.evaluate(h).filter((o) => o.outcome !== 'compliant')).toEqual([]);
  });
});

describe('overdue', () => {
  it('lists data past its retention with no delete, and forgets it once deleted', () => {
    const { c, d } = testCity();
    const w = wifi(c, d.wifi);
    expect(c.state.overdue(T0 + DAY)).toEqual([]);
    const due = c.state.overdue(new Date(T0 + 3 * DAY).toISOString());
    expect(due).toHaveLength(1);
    expect(due[0]).toMatchObject({
      about: w,
      check: 'retention',
      outcome: 'overdue',
      declaration: d.wifi,
      path: [w],
    });
    expect(due[0]!.explanation).toContain('P2D');
    c.move('statistics-office', 'delete', {
      datasetId: 'statistics-office/wifi-raw',
      inputs: [w],
      purpose: 'city:OfficialStatistics',
      declaration: d.wifi,
      method: 'erase',
    });
    expect(c.state.overdue(T0 + 3 * DAY)).toEqual([]);
  });

  it("tracks a recipient's copy separately from the sender's", () => {
    const { c } = testCity();
    const v2 = c.declare({
      subject: 'transport-agency/cameras',
      purposes: [P.traffic, P.enforcement],
      categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
      personalData: 'identified',
      processing: ['filter'],
      recipients: [rule({ org: 'police', purposes: ['city:RoadSafetyEnforcement'] })],
      retention: { duration: 'P7D', deletion: 'erase' },
    });
    const k = clip(c, v2);
    const t = c.move('transport-agency', 'transfer', {
      datasetId: 'transport-agency/video',
      inputs: [k],
      purpose: 'city:RoadSafetyEnforcement',
      declaration: v2,
      recipient: 'police',
    });
    c.move('transport-agency', 'delete', {
      datasetId: 'transport-agency/video',
      inputs: [k],
      purpose: 'city:TrafficManagement',
      declaration: v2,
      method: 'erase',
    });
    const due = c.state.overdue(T0 + 8 * DAY);
    expect(due.map((o) => o.about)).toEqual([t]);
    expect(due[0]!.path).toEqual([t, k]);
    expect(due[0]!.explanation).toContain('held by police');
  });

  it('refuses a time that is not one', () => {
    const { c } = testCity();
    expect(code(() => c.state.overdue('yesterday'))).toBe('QUERY_INVALID');
  });
});

describe('findings', () => {
  it('turns a violation into the fields of a valid finding event, and refuses a compliant outcome', () => {
    const { c, d } = testCity();
    const k = clip(c, d.cameras);
    const t = c.move('transport-agency', 'transfer', {
      datasetId: 'transport-agency/video',
      inputs: [k],
      purpose: 'city:RoadSafetyEnforcement',
      declaration: d.cameras,
      recipient: 'police',
    });
    const outcomes = c.state.evaluate(t);
    const findings = findingsOf(outcomes);
    expect(findings.length).toBe(outcomes.filter((o) => o.outcome !== 'compliant').length);
    expect(findings.map((f) => f.check)).toContain('recipient-allowed');
    for (const f of findings) {
      const { event } = validateEvent({ ...envelope, ...f });
      expect(event.type).toBe('finding');
    }
    const compliant = outcomes.find((o) => o.outcome === 'compliant')!;
    expect(code(() => toFinding(compliant))).toBe('NOT_A_FINDING');
  });

  it('cuts an over-long explanation and path to what the schema accepts', () => {
    const long: Outcome = {
      about: 'a'.repeat(64),
      check: 'retention',
      outcome: 'overdue',
      path: Array.from({ length: 100 }, (_, i) => i.toString(16).padStart(64, '0')),
      explanation: 'x'.repeat(400),
    };
    const f = toFinding(long);
    expect(f.path).toHaveLength(64);
    expect(f.explanation).toHaveLength(280);
    expect(validateEvent({ ...envelope, ...f }).event.type).toBe('finding');
  });

  it('an overdue finding is evidence only while the data was overdue and not deleted', () => {
    const { c, d } = testCity();
    const w = wifi(c, d.wifi);
    c.advance(3 * DAY);
    const f = c.emit('compliance', toFinding(c.state.overdue(c.clock)[0]!), 'findings');
    expect(c.state.evaluate(f)).toMatchObject([{ check: 'evidence', outcome: 'compliant' }]);
    const early = c.state.overdue(c.clock)[0]!;
    c.advance(-2 * DAY);
    const wrong = c.emit('compliance', toFinding(early), 'findings');
    expect(c.state.evaluate(wrong)).toMatchObject([{ check: 'evidence', outcome: 'violation' }]);
    expect(w).toBe(early.about);
  });
});

describe('key compromise', () => {
  it('puts every event signed with a stolen key since the compromise up for review, once, and checks review findings', () => {
    const { c, d } = testCity();
    const before = clip(c, d.cameras);
    c.advance(2 * HOUR);
    const since = c.clock;
    const during1 = clip(c, d.cameras);
    c.advance(HOUR);
    const during2 = counts(c, during1, d.counts);
    c.advance(HOUR);
    const revoke = c.emit('transport-agency', {
      type: 'key',
      action: 'revoke',
      subjectOrg: 'transport-agency',
      subjectKey: 'transport-agency/k1',
      compromisedSince: new Date(since).toISOString(),
      reason: 'stolen',
    });
    const reviews = c.state.evaluate(revoke);
    expect(reviews.map((o) => o.about)).toEqual([during1, during2]);
    for (const o of reviews) {
      expect(o).toMatchObject({ check: 'key-compromise', outcome: 'undetermined', path: [o.about, revoke] });
      expect(o.explanation).toContain('transport-agency/k1');
    }
    expect(reviews.map((o) => o.about)).not.toContain(before);
    // The events' own evaluation does not change afterwards.
    expect(c.state.evaluate(during1).some((o) => o.check === 'key-compromise')).toBe(false);
    // A recorded review finding is evidence; one about an event no compromise covers is not.
    const f = c.emit('compliance', toFinding(reviews[0]!), 'findings');
    expect(c.state.evaluate(f)).toMatchObject([{ check: 'evidence', outcome: 'compliant' }]);
    const bogus = c.emit(
      'compliance',
      toFinding({ ...reviews[0]!, about: before, path: [before] }),
      'findings',
    );
    expect(c.state.evaluate(bogus)).toMatchObject([{ check: 'evidence', outcome: 'violation' }]);
  });

  it('reviews nothing for a plain revocation (rotation, no compromise)', () => {
    const { c, d } = testCity();
    clip(c, d.cameras);
    const revoke = c.emit('transport-agency', {
      type: 'key',
      action: 'revoke',
      subjectOrg: 'transport-agency',
      subjectKey: 'transport-agency/k1',
    });
    expect(c.state.evaluate(revoke)).toEqual([]);
  });
});

describe('decide', () => {
  it('allows what the declarations allow, for the data the organization holds', () => {
    const { c, d } = testCity();
    const f = footfall(c, [wifi(c, d.wifi)], d.footfall);
    const size = c.state.size;
    const r = c.state.decide({
      org: 'statistics-office',
      dataset: 'statistics-office/footfall',
      purpose: 'city:UrbanPlanning',
    });
    expect(r.decision).toBe('allow');
    expect(r.holding).toBe(f);
    expect(r.declaration).toBe(d.footfall);
    expect(r.reasons.every((o) => o.about === f && o.outcome === 'compliant')).toBe(true);
    expect(c.state.size).toBe(size);
  });

  it('denies a sale of device identifiers with the same reasons an evaluation would give', () => {
    const { c, d } = testCity();
    const w = wifi(c, d.wifi);
    const r = c.state.decide({
      org: 'statistics-office',
      dataset: 'statistics-office/wifi-raw',
      purpose: 'city:Advertising',
      recipient: 'adtech',
    });
    expect(r.decision).toBe('deny');
    expect(r.reasons[0]!.outcome).toBe('violation');
    const failed = r.reasons.filter((o) => o.outcome === 'violation').map((o) => o.check);
    expect(failed).toEqual(
      expect.arrayContaining(['purpose-declared', 'recipient-allowed', 'processing-permitted']),
    );
    for (const o of r.reasons) expect(o.path[0]).toBe(w);
  });

  it('denies use after the retention, and use of data the organization does not hold', () => {
    const { c, d } = testCity();
    wifi(c, d.wifi);
    const later = c.state.decide({
      org: 'statistics-office',
      dataset: 'statistics-office/wifi-raw',
      purpose: 'city:OfficialStatistics',
      at: T0 + 5 * DAY,
    });
    expect(later.decision).toBe('deny');
    expect(later.reasons[0]!.check).toBe('retention');
    const now = c.state.decide({
      org: 'statistics-office',
      dataset: 'statistics-office/wifi-raw',
      purpose: 'city:OfficialStatistics',
    });
    expect(now.decision).toBe('allow');
    const stranger = c.state.decide({
      org: 'police',
      dataset: 'statistics-office/wifi-raw',
      purpose: 'city:OfficialStatistics',
    });
    expect(stranger).toMatchObject({
      decision: 'deny',
      holding: undefined,
      reasons: [{ check: 'recipient-allowed', outcome: 'violation' }],
    });
  });

  it('answers undetermined for an unknown purpose, never allow', () => {
    const { c, d } = testCity();
    footfall(c, [wifi(c, d.wifi)], d.footfall);
    const r = c.state.decide({
      org: 'statistics-office',
      dataset: 'statistics-office/footfall',
      purpose: 'x-statistics-office:Mystery',
    });
    expect(r.decision).toBe('undetermined');
    expect(r.reasons.map((o) => o.check)).toContain('unknown-term');
  });

  it('tells what a transfer still needs, and consumes no recipient quota', () => {
    const { c } = testCity();
    const v2 = c.declare({
      subject: 'transport-agency/counts',
      purposes: [P.traffic, P.statistics],
      recipients: [
        rule({
          role: 'agency',
          purposes: ['city:OfficialStatistics'],
          agreementRequired: true,
          maxRecipients: 1,
        }),
      ],
      retention: { duration: 'P2Y' },
    });
    const cam = c.declare({
      subject: 'transport-agency/cameras',
      purposes: [P.traffic],
      categories: ['city:VideoFootage', 'dpv:VehicleLicence'],
      personalData: 'identified',
      processing: ['anonymise'],
      retention: { duration: 'P7D' },
    });
    counts(c, clip(c, cam), v2);
    const ask = {
      org: 'transport-agency',
      dataset: 'transport-agency/counts',
      purpose: 'city:OfficialStatistics',
      recipient: 'statistics-office',
    };
    const without = c.state.decide(ask);
    expect(without.decision).toBe('deny');
    expect(without.reasons[0]!.explanation).toContain('agreement');
    // Asking writes nothing: a second recipient is still within the rule's one-recipient limit.
    for (const recipient of ['statistics-office', 'university']) {
      expect(c.state.decide({ ...ask, recipient, agreement: digestOf('agreement') }).decision).toBe('allow');
    }
  });

  it('refuses a malformed query, naming the field', () => {
    const { c } = testCity();
    try {
      c.state.decide({
        org: 'Not An Org',
        dataset: 'transport-agency/counts',
        purpose: 'city:UrbanPlanning',
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ComplianceError);
      expect((e as ComplianceError).code).toBe('QUERY_INVALID');
      expect((e as ComplianceError).issues[0]!.path).toBe('/org');
    }
  });
});

describe('custom purposes', () => {
  it('extends the vocabulary from the declaration on, and a refused one is a finding, not a crash', () => {
    const state = new ComplianceState();
    const { c } = testCity();
    for (const x of c.events) state.add(x.event, x.index, x.hash);
    expect(state.vocabulary.has('x-police:Patrol')).toBe(false);
    const ok = c.declare({
      subject: 'police/patrols',
      purposes: [{ id: 'x-police:Patrol', description: 'Patrols.', legalBasis: 'dpv:PublicTask' }],
      customPurposes: [{ id: 'x-police:Patrol', label: 'Patrol planning', parents: ['city:PublicSafety'] }],
    });
    const bad = c.declare({
      subject: 'police/other',
      purposes: [{ id: 'city:PublicSafety', description: 'Safety.', legalBasis: 'dpv:PublicTask' }],
      customPurposes: [
        { id: 'x-police:A', label: 'A', parents: ['x-police:B'] },
        { id: 'x-police:B', label: 'B', parents: ['x-police:A'] },
      ],
    });
    for (const x of c.events.slice(-2)) state.add(x.event as Event, x.index, x.hash);
    expect(state.vocabulary.isWithin('x-police:Patrol', 'dpv:PublicBenefit')).toBe(true);
    expect(state.evaluate(ok).find((o) => o.check === 'custom-purpose')?.outcome).toBe('compliant');
    const refused = state.evaluate(bad).find((o) => o.check === 'custom-purpose')!;
    expect(refused.outcome).toBe('violation');
    expect(refused.explanation).toContain('PURPOSE_CYCLE');
    expect(state.vocabulary.has('x-police:A')).toBe(false);
  });
});
