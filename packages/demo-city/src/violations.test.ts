// The misuse hooks: a real ledger accepts every violation (the ledger records, it does not
// judge), each breaks its family's declaration in the way its kind says, and the city's own
// events keep their content.
import { formatSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { describe, expect, it } from 'vitest';
import {
  FAMILIES,
  ORG,
  generateDemoCity,
  violationHooks,
  type DemoSubmission,
  type ViolationKind,
} from './index.ts';

type Body = Record<string, unknown> & {
  type: string;
  purpose?: string;
  recipient?: string;
  declaration?: string;
};

function collect(options: Parameters<typeof violationHooks>[0] = {}) {
  const seen: Array<{ kind: ViolationKind; hash: string; org: string }> = [];
  const city = generateDemoCity({
    seed: 'violations',
    size: 3000,
    sign: false,
    hooks: violationHooks({ ...options, onViolation: (v) => seen.push(v) }),
  });
  const all: DemoSubmission[] = [];
  for (const batch of city.batchesSync()) all.push(...batch);
  return { city, seen, all };
}

describe('demo city violations', () => {
  it('writes every kind at a realistic share, each breaking its declaration as described', () => {
    const { city, seen, all } = collect();
    const byHash = new Map(all.map((s) => [s.hash, s.event as Body]));
    const kinds = new Set(seen.map((v) => v.kind));
    expect([...kinds].sort()).toEqual(
      ['onward-without-policy', 'undeclared-purpose', 'video-to-police', 'wifi-to-advertiser'].sort(),
    );
    // A share, not a flood: between 0.5 % and 5 % of the city's movements.
    expect(seen.length / all.length).toBeGreaterThan(0.005);
    expect(seen.length / all.length).toBeLessThan(0.05);
    const declared = (family: keyof typeof FAMILIES) => FAMILIES[family];
    for (const v of seen) {
      const e = byHash.get(v.hash)!;
      expect(e['stream']).toBe('adhoc');
      expect(e.inputs).toBeInstanceOf(Array);
      for (const input of e['inputs'] as string[]) expect(byHash.has(input)).toBe(true);
      if (v.kind === 'undeclared-purpose') {
        const family = Object.values(FAMILIES).find((f) => city.declarations[f.id] === e.declaration);
        expect(family?.purposes.some((p) => p.id === e.purpose) ?? false).toBe(false);
        expect(e.purpose).toBe('city:Advertising');
      }
      if (v.kind === 'video-to-police') {
        expect(e.recipient).toBe(ORG.police);
        expect(declared('cameras').purposes.some((p) => p.id === e.purpose)).toBe(false);
      }
      if (v.kind === 'wifi-to-advertiser') {
        expect(byHash.get((e['inputs'] as string[])[0]!)!.type).toBe('collect');
        expect(declared('wifi').recipients.some((r) => r.org === ORG.vendorA)).toBe(false);
      }
      if (v.kind === 'onward-without-policy') {
        expect(e.emitter).toBe(ORG.vendorA);
        expect(e.recipient).toBe(ORG.vendorB);
        expect(e['nextPolicy']).toBeUndefined();
      }
    }
  });

  it('leaves the city itself as it was: the same events, content for content', () => {
    const plain = generateDemoCity({ seed: 'violations', size: 3000, sign: false });
    const own: Body[] = [];
    for (const batch of plain.batchesSync()) for (const s of batch) own.push(s.event as Body);
    const { all } = collect();
    const mixed = all.map((s) => s.event as Body).filter((e) => e['stream'] !== 'adhoc');
    expect(mixed.length).toBe(own.length);
    expect(mixed.map((e) => e.type)).toEqual(own.map((e) => e.type));
  });

  it('a real ledger accepts the city with its violations, signatures checked', async () => {
    const city = generateDemoCity({
      seed: 'violations-ledger',
      size: 1500,
      hooks: violationHooks({ perHour: 0.3 }),
    });
    const store = new MemoryStore();
    const ledger = await Ledger.open({
      store,
      origin: city.origin,
      logSigner: signerFromKeyText(formatSigningKey(city.logKey)),
      operatorKey: city.operatorKey,
      signatureThreads: 0,
      checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
      now: () => Date.parse(city.end) + 60_000,
    });
    try {
      const refused: string[] = [];
      for await (const batch of city.batches()) {
        for (const r of await ledger.submit(batch))
          if (!r.ok) refused.push(`${r.error.code} ${r.error.message}`);
      }
      expect(refused).toEqual([]);
      expect(ledger.size).toBeGreaterThan(1500);
    } finally {
      await ledger.close();
    }
  }, 60_000);
});
