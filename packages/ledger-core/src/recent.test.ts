import { MemoryStore } from '@civic-ledger/storage';
import { formatSigningKey, generateSigningKey } from '@civic-ledger/crypto';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.ts';
import { RecentEntries } from './recent.ts';
import { bootstrapEvents, TestEmitter } from './testing.ts';

const hex = (tag: string, i: number) => `${tag}${i.toString(16).padStart(8, '0')}`.padEnd(64, '0');
const receipt = (i: number, admitted = '2026-11-29T10:00:00.000Z') => ({
  index: i,
  eventHash: hex('e', i),
  leafHash: hex('f', i),
  admitted,
});

describe('RecentEntries', () => {
  it('answers by hash and by chain position, and forgets the oldest beyond its capacity', () => {
    const r = new RecentEntries(2);
    r.add(receipt(0), 'a/main', 1);
    r.add(receipt(1), 'a/main', 2);
    r.add(receipt(2), 'b/main', 1);
    expect(r.size).toBe(2);
    expect(r.receipt(hex('e', 0))).toBeUndefined();
    expect(r.at('a/main', 1)).toBeUndefined();
    expect(r.receipt(hex('e', 1))).toEqual(receipt(1));
    expect(r.at('b/main', 1)).toBe(hex('e', 2));
    expect(r.receipt('not a hash')).toBeUndefined();
  });

  it('answers as a plain map of the last `capacity` entries would, over random histories', () => {
    // Few distinct hashes sharing their first bytes (the table's home) and a small table:
    // collisions, re-added hashes and removals in the middle of probe runs all happen.
    const op = fc.record({
      id: fc.integer({ min: 0, max: 40 }),
      chain: fc.constantFrom('a/main', 'b/main', 'c/x'),
      seq: fc.integer({ min: 1, max: 12 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(op, { maxLength: 120 }), (capacity, ops) => {
        const r = new RecentEntries(capacity);
        const added: { id: number; chain: string; seq: number; n: number }[] = [];
        ops.forEach((o, n) => {
          // The home is the first 4 bytes: ids share them in groups of 8.
          const eventHash = `${(o.id >> 3).toString(16).padStart(8, '0')}${o.id.toString(16).padStart(56, '0')}`;
          r.add({ index: n, eventHash, leafHash: hex('f', n), admitted: `t${n}` }, o.chain, o.seq);
          added.push({ ...o, n });
          const live = added.slice(-capacity);
          const byHash = new Map<string, number>();
          const byChain = new Map<string, number>();
          for (const a of live) {
            byHash.set(
              `${(a.id >> 3).toString(16).padStart(8, '0')}${a.id.toString(16).padStart(56, '0')}`,
              a.n,
            );
            byChain.set(`${a.chain}#${a.seq}`, a.n);
          }
          expect(r.size).toBe(byHash.size);
          for (let id = 0; id <= 40; id++) {
            const h = `${(id >> 3).toString(16).padStart(8, '0')}${id.toString(16).padStart(56, '0')}`;
            const n = byHash.get(h);
            expect(r.receipt(h)).toEqual(
              n === undefined
                ? undefined
                : { index: n, eventHash: h, leafHash: hex('f', n), admitted: `t${n}` },
            );
            expect(r.has(h)).toBe(n !== undefined);
          }
          for (const chain of ['a/main', 'b/main', 'c/x'])
            for (let seq = 1; seq <= 12; seq++) {
              const n = byChain.get(`${chain}#${seq}`);
              const a = n === undefined ? undefined : added[n]!;
              expect(r.at(chain, seq)).toBe(
                a === undefined
                  ? undefined
                  : `${(a.id >> 3).toString(16).padStart(8, '0')}${a.id.toString(16).padStart(56, '0')}`,
              );
            }
        });
      }),
      { numRuns: 200 },
    );
  });
});

/** A store that counts the lookups the recent entries should spare. */
class CountingStore extends MemoryStore {
  byHash = 0;
  byPosition = 0;
  override async getLeavesByEventHash(hashes: readonly string[]) {
    this.byHash++;
    return super.getLeavesByEventHash(hashes);
  }
  override async getChainEntry(chain: string, seq: number) {
    this.byPosition++;
    return super.getChainEntry(chain, seq);
  }
}

const dataset = (n: number) => ({
  id: 'transport-agency/counts',
  version: `sha256:${String(n % 10).repeat(64)}`,
});
const common = { purpose: 'city:TrafficManagement', declaration: 'd'.repeat(64) };
const collect = (n: number) =>
  ({
    type: 'collect',
    source: 'transport-agency/cam',
    categories: ['city:VehicleCount'],
    personalData: 'none',
    dataset: dataset(n),
    inputs: [],
    ...common,
  }) as const;
const use = (n: number, input: string) =>
  ({
    type: 'use',
    action: 'city:SignalTiming',
    dataset: dataset(n),
    inputs: [input],
    ...common,
  }) as const;

describe('the ledger with recent entries', () => {
  it('answers a redelivered duplicate and an input naming a recent event without a store lookup', async () => {
    const store = new CountingStore();
    const operator = new TestEmitter('ledger');
    const agency = new TestEmitter('transport-agency');
    const ledger = await Ledger.open({
      store,
      origin: 'test.example/log',
      logSigner: signerFromKeyText(formatSigningKey(generateSigningKey('test.example/log'))),
      operatorKey: operator.verifierKey,
      signatureThreads: 0,
    });
    try {
      const boot = bootstrapEvents(operator, [agency], {}, [
        { kind: 'source', id: 'transport-agency/cam' },
        { kind: 'dataset', id: 'transport-agency/counts' },
      ]);
      for (const r of await ledger.submit(boot)) expect(r.ok).toBe(true);
      const first = agency.next(collect(1));
      const [a] = await ledger.submit([first]);
      expect(a?.ok).toBe(true);
      store.byHash = 0;
      store.byPosition = 0;
      const [again] = await ledger.submit([first]);
      expect(again).toMatchObject({ ok: true, duplicate: true });
      const [moved] = await ledger.submit([agency.next(use(2, first.hash))]);
      expect(moved?.ok, JSON.stringify(moved)).toBe(true);
      expect({ byHash: store.byHash, byPosition: store.byPosition }).toEqual({ byHash: 0, byPosition: 0 });
    } finally {
      await ledger.close();
    }
  });
});
