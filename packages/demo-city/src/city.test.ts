import { findChainBreak } from '@civic-ledger/chain';
import { fromBase64, parseVerifierKey } from '@civic-ledger/crypto';
import { hashEvent, signEvent, verifyEventSignature } from '@civic-ledger/events';
import {
  validateEvent,
  type DeclareEvent,
  type Event,
  type EventInput,
  type MovementEvent,
  isMovement,
  timeToMillis,
} from '@civic-ledger/schemas';
import { describe, expect, it } from 'vitest';
import {
  FAMILIES,
  generateDemoCity,
  demoCityBatches,
  PLACEHOLDER_SIGNATURE,
  type DemoCityOptions,
  type DemoSubmission,
  type DemoCitySummary,
} from './index.ts';

function all(options: DemoCityOptions): { subs: DemoSubmission[]; summary: DemoCitySummary } {
  const subs: DemoSubmission[] = [];
  const g = demoCityBatches(options);
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return { subs, summary: r.value };
    subs.push(...r.value);
  }
}

const bytes = (subs: readonly DemoSubmission[]) => subs.map((s) => JSON.stringify(s)).join('\n');
const events = (subs: readonly DemoSubmission[]) => subs.map((s) => s.event as unknown as Event);

// Shared fixtures (generated once per file).
const city2000 = all({ seed: 'test', size: 2000, sign: false });
const END = Date.parse('2026-11-01T00:00:00Z');

/** Longest input path ending at each event (1 for an event without inputs). */
function depths(subs: readonly DemoSubmission[]): Map<string, number> {
  const depth = new Map<string, number>();
  for (const s of subs) {
    const e = s.event as unknown as Event;
    let d = 0;
    if (isMovement(e)) for (const h of e.inputs) d = Math.max(d, depth.get(h) ?? Number.NaN);
    depth.set(s.hash, d + 1);
  }
  return depth;
}

describe('determinism', () => {
  it('gives byte-identical signed events for the same seed and size, and others for another seed', () => {
    const a = all({ seed: 7, size: 400 });
    const b = all({ seed: 7, size: 400 });
    const c = all({ seed: 8, size: 400 });
    expect(bytes(a.subs)).toBe(bytes(b.subs));
    expect(a.subs.map((s) => s.hash)).toEqual(b.subs.map((s) => s.hash));
    expect(bytes(c.subs)).not.toBe(bytes(a.subs));
    // The seed reaches keys too.
    expect(a.subs[0]!.event['publicKey']).not.toBe(c.subs[0]!.event['publicKey']);
    // A number and its string are the same seed.
    expect(bytes(all({ seed: '7', size: 400 }).subs)).toBe(bytes(a.subs));
  });

  it('writes the same events with and without signatures, batch size aside', () => {
    const signed = all({ seed: 'test', size: 2000, batchSize: 77 });
    expect(signed.subs.map((s) => s.hash)).toEqual(city2000.subs.map((s) => s.hash));
    expect(city2000.subs.every((s) => s.signature === PLACEHOLDER_SIGNATURE)).toBe(true);
    expect(fromBase64(PLACEHOLDER_SIGNATURE)).toEqual(new Uint8Array(64));
  });

  it('signs exactly as signEvent does, and validate: true changes nothing', () => {
    const city = generateDemoCity({ seed: 'sig', size: 300 });
    const fast = all({ seed: 'sig', size: 300 }).subs;
    const checked = all({ seed: 'sig', size: 300, validate: true }).subs;
    expect(bytes(checked)).toBe(bytes(fast));
    for (const s of fast.slice(0, 120)) {
      const key = city.keys.get(s.event['emitter'] as string)!;
      const ref = signEvent(s.event as unknown as EventInput, key);
      expect(s.signature).toBe(ref.wire.signature);
      expect(s.hash).toBe(ref.hash);
    }
  });
});

describe('a generated city', () => {
  it('has exactly `size` events for any size', () => {
    for (const size of [100, 101, 137, 999, 1234, 5003]) {
      const { subs, summary } = all({ seed: size, size, sign: false });
      expect(subs).toHaveLength(size);
      expect(summary.cityEvents).toBe(size);
      expect(summary.hookEvents).toBe(0);
    }
    expect(() => all({ seed: 1, size: 99 })).toThrow(RangeError);
  });

  it('passes validateEvent for every event, at a ledger clock just after the month', () => {
    for (const s of city2000.subs) {
      const v = validateEvent(s.event, { now: END });
      expect(hashEvent(v.event as EventInput).hash).toBe(s.hash);
    }
    const small = all({ seed: 'small', size: 100, sign: false });
    for (const s of small.subs) validateEvent(s.event, { now: END });
  });

  it('starts with the operator genesis, then organizations and their keys', () => {
    const [genesis, ...rest] = events(city2000.subs);
    expect(genesis).toMatchObject({
      type: 'key',
      emitter: 'ledger',
      subjectOrg: 'ledger',
      seq: 1,
      key: 'ledger/k1',
    });
    const orgs = rest.slice(0, 8);
    expect(
      orgs.map((e) => e.type === 'register' && e.subject.kind === 'organization' && e.subject.id),
    ).toEqual([
      'transport-agency',
      'police',
      'environment-agency',
      'statistics-office',
      'vendor-a',
      'vendor-b',
      'oversight-board',
      'compliance',
    ]);
    const roles = orgs.map(
      (e) => e.type === 'register' && e.subject.kind === 'organization' && e.subject.role,
    );
    expect(roles).toContain('compliance');
    expect(roles).toContain('oversight');
    const keys = rest.slice(8, 16);
    expect(keys.every((e) => e.type === 'key' && e.emitter === 'ledger' && e.action === 'add')).toBe(true);
    const sources = rest.filter((e) => e.type === 'register' && e.subject.kind === 'source');
    expect(sources.length).toBeGreaterThanOrEqual(24);
    const technologies = new Set(
      sources.map((e) => e.type === 'register' && e.subject.kind === 'source' && e.subject.technology),
    );
    expect(technologies).toEqual(
      new Set(['city:TrafficCamera', 'city:WifiCounter', 'city:AirQualityStation', 'city:ParkingSensor']),
    );
  });

  it('has well-formed chains for every (emitter, stream)', () => {
    const chains = new Map<string, { seq: number; prev: string; hash: string }[]>();
    for (const s of city2000.subs) {
      const e = s.event as unknown as Event;
      const key = `${e.emitter}/${e.stream}`;
      let c = chains.get(key);
      if (!c) chains.set(key, (c = []));
      c.push({ seq: e.seq, prev: e.prev, hash: s.hash });
    }
    expect(chains.size).toBeGreaterThan(15);
    for (const links of chains.values()) expect(findChainBreak(links)).toBeUndefined();
  });

  it('names only earlier events as inputs, and declarations that are earlier declare events', () => {
    const seen = new Map<string, Event>();
    for (const s of city2000.subs) {
      const e = s.event as unknown as Event;
      if (isMovement(e)) {
        for (const h of e.inputs) expect(seen.has(h)).toBe(true);
        expect(seen.get(e.declaration)?.type).toBe('declare');
      }
      if (e.type === 'attest') expect('event' in e.about && seen.has(e.about.event)).toBe(true);
      seen.set(s.hash, e);
    }
  });

  it('has lineage at least 20 steps deep', () => {
    const d = depths(city2000.subs);
    const max = Math.max(...d.values());
    expect(Number.isNaN(max)).toBe(false);
    expect(max).toBeGreaterThanOrEqual(20);
  });

  it('has fan-in from several organizations and fan-out to several recipients and uses', () => {
    const byHash = new Map(city2000.subs.map((s) => [s.hash, s.event as unknown as Event]));
    const derives = events(city2000.subs).filter((e) => e.type === 'derive');
    const fanIn = derives.filter((e) => new Set(e.inputs.map((h) => byHash.get(h)!.emitter)).size >= 2);
    expect(fanIn.length).toBeGreaterThan(0);
    expect(Math.max(...derives.map((e) => e.inputs.length))).toBeGreaterThanOrEqual(4);
    const recipients = new Map<string, Set<string>>();
    const uses = new Map<string, number>();
    for (const e of events(city2000.subs)) {
      if (e.type === 'transfer') {
        const r = recipients.get(e.inputs[0]!) ?? new Set();
        recipients.set(e.inputs[0]!, r.add(e.recipient));
      }
      if (e.type === 'use') uses.set(e.inputs[0]!, (uses.get(e.inputs[0]!) ?? 0) + 1);
    }
    expect(Math.max(...[...recipients.values()].map((r) => r.size))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...uses.values())).toBeGreaterThanOrEqual(3);
    const types = new Set(events(city2000.subs).map((e) => e.type));
    for (const t of ['collect', 'transfer', 'derive', 'use', 'publish', 'delete', 'declare', 'attest']) {
      expect(types).toContain(t);
    }
  });

  it('advances time through the month, never past the clock', () => {
    const times = events(city2000.subs).map((e) => timeToMillis(e.time));
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(times[0]).toBe(Date.parse('2026-10-01T00:00:00Z'));
    expect(times.at(-1)!).toBeGreaterThan(Date.parse('2026-10-31T00:00:00Z'));
    expect(times.at(-1)!).toBeLessThan(END);
    // A clock inside the month compresses the window to end at it.
    const now = Date.parse('2026-10-10T12:00:00Z');
    const early = all({ seed: 'early', size: 1500, sign: false, now });
    const last = timeToMillis((early.subs.at(-1)!.event as unknown as Event).time);
    expect(last).toBeLessThanOrEqual(now);
    expect(last).toBeGreaterThan(Date.parse('2026-10-10T00:00:00Z'));
    expect(() => all({ seed: 1, size: 100, now: Date.parse('2026-09-01T00:00:00Z') })).toThrow(RangeError);
  });

  it('deletes within retention and never uses data after deleting it', () => {
    const byHash = new Map(city2000.subs.map((s) => [s.hash, s.event as unknown as Event]));
    const deleted = new Set<string>();
    let deletes = 0;
    for (const e of events(city2000.subs)) {
      if (!isMovement(e)) continue;
      for (const h of e.inputs) expect(deleted.has(h)).toBe(false);
      if (e.type === 'delete') {
        deletes += 1;
        const input = byHash.get(e.inputs[0]!)!;
        const family = Object.values(FAMILIES).find(
          (f) =>
            byHash.get(e.declaration)!.type === 'declare' &&
            f.subject === (byHash.get(e.declaration) as DeclareEvent).declaration.subject,
        )!;
        const age = timeToMillis(e.time) - timeToMillis(input.time);
        expect(age).toBeGreaterThan(0);
        expect(age).toBeLessThanOrEqual(family.retentionDays * 86_400_000);
        for (const h of e.inputs) deleted.add(h);
      }
    }
    expect(deletes).toBeGreaterThan(100);
  });

  it('claims only declared purposes and sends data only to declared recipients', () => {
    const byHash = new Map(city2000.subs.map((s) => [s.hash, s.event as unknown as Event]));
    for (const e of events(city2000.subs)) {
      if (!isMovement(e)) continue;
      const m = e as MovementEvent;
      const d = (byHash.get(m.declaration) as DeclareEvent).declaration;
      const allowed = new Set([
        ...d.purposes.map((p) => p.id),
        ...(d.recipients ?? []).flatMap((r) => r.purposes),
      ]);
      expect(allowed.has(m.purpose)).toBe(true);
      if (m.type === 'transfer') {
        const rule = d.recipients?.find((r) => r.org === m.recipient);
        expect(rule?.purposes).toContain(m.purpose);
        if (rule?.agreementRequired) expect(m.agreement).toMatch(/^sha256:/);
        if (rule?.nextPolicyRequired) expect(byHash.get(m.nextPolicy!)?.type).toBe('declare');
      }
      if (m.type === 'collect') expect(m.categories).toEqual(d.categories);
    }
  });
});

describe('a dense day (the shape of a million-event month)', () => {
  it('stays valid with full fan-in, several daily parts and a wide index', () => {
    // 20,000 events in one day: about as many per day as 1,000,000 over a month has.
    const { subs } = all({ seed: 'dense', size: 20_000, days: 1, sign: false });
    const seen = new Set<string>();
    const heads = new Map<string, { seq: number; hash: string }>();
    for (const s of subs) {
      const e = validateEvent(s.event, { now: END }).event;
      const chain = `${e.emitter}/${e.stream}`;
      const head = heads.get(chain) ?? { seq: 0, hash: '0'.repeat(64) };
      expect([e.seq, e.prev]).toEqual([head.seq + 1, head.hash]);
      heads.set(chain, { seq: e.seq, hash: s.hash });
      if (isMovement(e)) for (const h of e.inputs) expect(seen.has(h)).toBe(true);
      seen.add(s.hash);
    }
    const derives = events(subs).filter((e) => e.type === 'derive');
    const dailyTraffic = derives.filter((e) => e.dataset.id === 'transport-agency/traffic-stats/daily');
    expect(dailyTraffic.length).toBeGreaterThan(1);
    expect(Math.max(...derives.map((e) => e.inputs.length))).toBe(24);
    const index = derives.find((e) => e.dataset.id === 'statistics-office/mobility-index/daily')!;
    expect(index.inputs.length).toBeGreaterThan(10);
  });
});

describe('API', () => {
  it('streams batches no larger than batchSize and is re-iterable with the same bytes', async () => {
    const city = generateDemoCity({ seed: 'api', size: 700, sign: false, batchSize: 64 });
    const first: DemoSubmission[] = [];
    for await (const batch of city) {
      expect(batch.length).toBeLessThanOrEqual(64);
      first.push(...batch);
    }
    const second: DemoSubmission[] = [];
    for (const batch of city.batchesSync()) second.push(...batch);
    expect(first).toHaveLength(700);
    expect(bytes(second)).toBe(bytes(first));
    // Metadata matches the log.
    expect(city.operatorKey).toBe(first[0]!.event['publicKey']);
    expect(Object.values(city.declarations)).toEqual(
      first.filter((s) => s.event['type'] === 'declare').map((s) => s.hash),
    );
    expect(city.orgs.map((o) => o.id)).toContain('compliance');
    expect(city.sources.length).toBeGreaterThanOrEqual(24);
    expect(city.datasets.length).toBeGreaterThanOrEqual(15);
    expect(city.preambleSize).toBe(
      first.findIndex(
        (s) => s.event['type'] !== 'register' && s.event['type'] !== 'key' && s.event['type'] !== 'declare',
      ),
    );
    // Keys are signing keys named <org>/k1 whose verifier text is registered.
    for (const o of city.orgs) {
      const k = city.keys.get(o.id)!;
      expect(k.name).toBe(`${o.id}/k1`);
      expect(parseVerifierKey(city.verifierKeys[o.id]!).keyIdHex).toBe(k.keyIdHex);
    }
  });

  it('signs with the registered keys', () => {
    const city = generateDemoCity({ seed: 'keys', size: 150 });
    for (const batch of city.batchesSync()) {
      for (const s of batch) {
        const key = parseVerifierKey(city.verifierKeys[s.event['emitter'] as string]!);
        expect(verifyEventSignature(s.hash, fromBase64(s.signature), key)).toBe(true);
      }
    }
  });
});

describe('hooks', () => {
  it('see every phase and event, and events on their own streams leave the city unchanged', () => {
    const phases: string[] = [];
    let seen = 0;
    const injected: string[] = [];
    const { subs, summary } = all({
      seed: 'test',
      size: 2000,
      sign: false,
      hooks: {
        phase: (phase, ctx) => {
          phases.push(phase);
          if (phase === 'day-end' && ctx.day % 10 === 0) {
            // A stand-in for a violation injector: police hand an extract to a vendor.
            const held = ctx.pools.get('plates')!.at(-1);
            if (held) {
              const r = ctx.rng('injector');
              const sub = ctx.emit('police', 'exports', {
                type: 'transfer',
                dataset: held.dataset,
                inputs: [held.hash],
                purpose: 'city:Marketing',
                declaration: ctx.declarations['plate-extract'],
                recipient: 'vendor-a',
                records: r.range(1, 9),
              });
              injected.push(sub.hash);
            }
          }
        },
        event: () => {
          seen += 1;
        },
      },
    });
    expect(seen).toBe(2000);
    expect(phases.filter((p) => p === 'preamble')).toHaveLength(1);
    expect(phases.filter((p) => p === 'day-start')).toHaveLength(31);
    expect(phases.filter((p) => p === 'hour-end')).toHaveLength(31 * 24);
    expect(phases.at(-1)).toBe('end');
    expect(injected.length).toBeGreaterThan(0);
    expect(summary.hookEvents).toBe(injected.length);
    const city = subs.filter((s) => !injected.includes(s.hash));
    expect(bytes(city)).toBe(bytes(city2000.subs));
  });

  it('can replace declarations (movements then point at the new ones)', () => {
    const { subs, summary } = all({
      seed: 'test',
      size: 2000,
      sign: false,
      hooks: {
        declaration: (family, base) =>
          family.id === 'cameras' ? { ...base, retention: { ...base.retention, duration: 'P6D' } } : base,
      },
    });
    expect(summary.declarations.cameras).not.toBe(city2000.summary.declarations.cameras);
    expect(summary.declarations.wifi).toBe(city2000.summary.declarations.wifi);
    // Same structure: same types in the same order.
    expect(subs.map((s) => s.event['type'])).toEqual(city2000.subs.map((s) => s.event['type']));
  });
});
