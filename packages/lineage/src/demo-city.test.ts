// The demo city through a real Ledger on a MemoryStore, then indexed from the store.
import { generateKeyPairSync, sign } from 'node:crypto';
import { DATASET, generateDemoCity } from '@civic-ledger/demo-city';
import { decodeLeaf } from '@civic-ledger/leaf';
import { Ledger } from '@civic-ledger/ledger-core';
import { MemoryStore } from '@civic-ledger/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { LineageIndex, flows, footprint, trace } from './index.ts';

const city = generateDemoCity({ seed: 'lineage', size: 2000 });
const store = new MemoryStore();
// Checkpoint signatures play no part here: a throwaway Ed25519 key from node:crypto.
const logKey = generateKeyPairSync('ed25519').privateKey;
const logSigner = {
  name: 'lineage-test',
  keyId: 1,
  sign: (m: Uint8Array) => new Uint8Array(sign(null, m, logKey)),
};
let index: LineageIndex;
/** Inputs by event hash and consumers by event hash, straight from the decoded leaves. */
const inputsOf = new Map<string, string[]>();
const consumersOf = new Map<string, string[]>();
const eventOf = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  const ledger = await Ledger.open({
    store,
    origin: city.origin,
    logSigner,
    operatorKey: city.operatorKey,
    signatureThreads: 0,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    now: () => Date.parse(city.end) + 60_000,
  });
  try {
    for await (const batch of city.batches()) {
      const results = await ledger.submit(batch);
      expect(results.every((r) => r.ok)).toBe(true);
    }
  } finally {
    await ledger.close();
  }
  index = await LineageIndex.build(store, { pageSize: 500 });
  for (const r of await store.getLeaves(0, 2000)) {
    const { event, eventHash } = decodeLeaf(r.leaf);
    eventOf.set(eventHash, event);
    const inputs = Array.isArray(event['inputs']) ? (event['inputs'] as string[]) : [];
    inputsOf.set(eventHash, inputs);
    for (const h of inputs) consumersOf.set(h, [...(consumersOf.get(h) ?? []), eventHash]);
  }
}, 60_000);

function reach(from: string, next: Map<string, string[]>): Set<string> {
  const seen = new Set([from]);
  const stack = [from];
  while (stack.length > 0) {
    for (const m of next.get(stack.pop()!) ?? []) {
      if (!seen.has(m)) {
        stack.push(m);
        seen.add(m);
      }
    }
  }
  return seen;
}

describe('the demo city, indexed from a real ledger store', () => {
  it('indexes every leaf', () => {
    expect(index.size).toBe(2000);
    expect(index.events).toBe([...eventOf.values()].filter((e) => 'inputs' in e).length);
  });

  it('traces the latest daily mobility index upstream to its sources, completely', () => {
    const all = trace(index, {
      from: { dataset: DATASET.index },
      direction: 'upstream',
      depth: 0,
      page: { limit: 10_000 },
    });
    const latest = all.nodes.filter((n) => n.type === 'derive').at(-1)!;
    expect(latest).toBeDefined();
    const r = trace(index, {
      from: { event: latest.event },
      direction: 'upstream',
      depth: 1000,
      page: { limit: 10_000 },
    });
    expect(r.complete).toBe(true);
    expect(r.incomplete).toEqual([]);
    expect(new Set(r.nodes.map((n) => n.event))).toEqual(reach(latest.event, inputsOf));
    const sources = new Set(r.nodes.filter((n) => n.type === 'collect').map((n) => n.source));
    const known = new Set(city.sources.map((s) => s.id));
    expect(sources.size).toBeGreaterThan(1);
    for (const s of sources) expect(known.has(s!)).toBe(true);
    // Every link the answer names is one an event declared.
    for (const e of r.edges) expect(inputsOf.get(e.to)).toContain(e.from);
    // A shallow trace of the same says it was cut.
    const cut = trace(index, { from: { event: latest.event }, direction: 'upstream', depth: 2 });
    expect(cut.complete).toBe(false);
    expect(cut.incomplete.map((i) => i.reason)).toEqual(['depth']);
  });

  it('traces a camera downstream to the transfers of its data, completely', () => {
    const camera = city.sources.find((s) => s.family === 'cameras')!;
    const r = trace(index, {
      from: { source: camera.id },
      direction: 'downstream',
      depth: 1000,
      page: { limit: 10_000 },
    });
    expect(r.complete).toBe(true);
    const starts = r.nodes.filter((n) => n.depth === 0);
    expect(starts.every((n) => n.type === 'collect' && n.source === camera.id)).toBe(true);
    const expected = new Set<string>();
    for (const s of starts) for (const h of reach(s.event, consumersOf)) expected.add(h);
    expect(new Set(r.nodes.map((n) => n.event))).toEqual(expected);
    expect(r.nodes.some((n) => n.type === 'transfer')).toBe(true);

    const f = footprint(index, camera.id);
    expect(f.complete).toBe(true);
    expect(f.events).toBe(expected.size);
    const recipients = r.nodes.filter((n) => n.type === 'transfer').map((n) => n.recipient);
    expect(f.organizations.filter((o) => o.received.transfers > 0).map((o) => o.org)).toEqual(
      [...new Set(recipients)].sort(),
    );
  });

  it('answers as of a checkpoint exactly as an index of the leaves up to it', async () => {
    const past = await LineageIndex.build(store, { size: 1000 });
    const camera = city.sources.find((s) => s.family === 'cameras')!;
    const q = {
      from: { source: camera.id },
      direction: 'downstream',
      depth: 50,
      page: { limit: 10_000 },
    } as const;
    const now = trace(index, { ...q, asOf: 1000 });
    const then = trace(past, q);
    expect(now.asOf).toBe(1000);
    expect(now.nodes).toEqual(then.nodes);
    expect(now.edges).toEqual(then.edges);
    expect(now.nodes.every((n) => n.index < 1000)).toBe(true);
  });

  it('gives organization-to-organization flows over the month', () => {
    const r = flows(index, { from: city.start, until: city.end });
    const transfers = [...eventOf.values()].filter((e) => e['type'] === 'transfer');
    expect(r.flows.reduce((n, f) => n + f.transfers, 0)).toBe(transfers.length);
    expect(r.complete).toBe(true);
    for (const f of r.flows) expect(f.categories.length).toBeGreaterThan(0);
  });
});
