import { MemoryStore } from '@civic-ledger/storage';
import { formatSigningKey, generateSigningKey } from '@civic-ledger/crypto';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.ts';
import { RecentEntries } from './recent.ts';
import { bootstrapEvents, TestEmitter } from './testing.ts';

const receipt = (i: number) => ({ index: i, eventHash: `h${i}`, leafHash: `l${i}`, admitted: 't' });

describe('RecentEntries', () => {
  it('answers by hash and by chain position, and forgets the oldest beyond its capacity', () => {
    const r = new RecentEntries(2);
    r.add(receipt(0), 'a/main', 1);
    r.add(receipt(1), 'a/main', 2);
    r.add(receipt(2), 'b/main', 1);
    expect(r.size).toBe(2);
    expect(r.receipt('h0')).toBeUndefined();
    expect(r.at('a/main', 1)).toBeUndefined();
    expect(r.receipt('h1')?.index).toBe(1);
    expect(r.at('b/main', 1)).toBe('h2');
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
