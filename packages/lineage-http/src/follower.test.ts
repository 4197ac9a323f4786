// The follower fed by the ledger's append hook (as the standalone service wires it) ends
// where an index built from the stored leaves ends; a gap or a catch-up under way sends it
// to the store instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoCity } from '@civic-ledger/demo-city';
import type { AppendedEntry } from '@civic-ledger/ledger-core';
import { LineageIndex, trace } from '@civic-ledger/lineage';
import { SqliteStore } from '@civic-ledger/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { LineageFollower } from './index.ts';
import { openCityLedger } from './test-ledger.ts';

const city = generateDemoCity({
  seed: 'follower',
  size: 400,
  batchSize: 50,
  now: Date.parse('2026-11-15T00:00:00Z'),
});
let root: string | undefined;

afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

async function openLedger(onAppended: (entries: readonly AppendedEntry[]) => void) {
  root = mkdtempSync(join(tmpdir(), 'follower-'));
  const store = new SqliteStore({ path: join(root, 'ledger.db') });
  const ledger = await openCityLedger(city, store, { maxEntries: 1000, onAppended });
  return { store, ledger };
}

/** What a reader sees of an index: its counts, and every dataset's latest event with its upstream. */
function picture(index: LineageIndex, datasets: string[]) {
  return {
    size: index.size,
    events: index.events,
    edges: index.edges,
    latest: datasets.map((id) => {
      const latest = index.latestEventOf(id);
      if (!latest) return [id, undefined];
      const up = trace(index, { from: { event: latest.eventHash }, direction: 'upstream', depth: 30 });
      return [id, latest, up.nodes.map((n) => `${n.event}@${n.depth}`), up.edges.length];
    }),
  };
}

describe('LineageFollower fed by the append hook', () => {
  it('indexes committed events as they come and ends where a build from the leaves ends', async () => {
    const hook: { follower?: LineageFollower } = {};
    const { store, ledger } = await openLedger((entries) => hook.follower?.appended(entries));
    const follower = (hook.follower = await LineageFollower.open(store));
    let reads = 0;
    const getLeaves = store.getLeaves.bind(store);
    store.getLeaves = (from, to) => {
      reads++;
      return getLeaves(from, to);
    };
    const datasets = new Set<string>();
    for await (const batch of city.batches()) {
      for (const s of batch) {
        const id = (s.event as { dataset?: { id?: string } }).dataset?.id;
        if (id) datasets.add(id);
      }
      expect((await ledger.submit(batch)).every((r) => r.ok)).toBe(true);
    }
    expect(reads).toBe(0); // nothing read back: every event came from the hook
    const built = await LineageIndex.build(store);
    expect(built.edges).toBeGreaterThan(100);
    expect(datasets.size).toBeGreaterThan(10);
    expect(picture(follower.index, [...datasets])).toEqual(picture(built, [...datasets]));
    await ledger.close();
    await store.close();
  });

  it('reads from the store across a gap, and while a catch-up is under way', async () => {
    let hooked: readonly AppendedEntry[][] = [];
    const { store, ledger } = await openLedger((entries) => (hooked = [...hooked, [...entries]]));
    const follower = await LineageFollower.open(store);
    const batches: unknown[][] = [];
    for await (const batch of city.batches()) batches.push(batch);
    for (const b of batches.slice(0, 4)) await ledger.submit(b as never);
    // The hook's first batches were lost: the next one leaves a gap.
    follower.appended(hooked[3]!);
    await follower.catchUp();
    expect(follower.size).toBe(ledger.size);
    // A catch-up under way reads what the hook offers; the hook's events are not added twice.
    for (const b of batches.slice(4)) await ledger.submit(b as never);
    const run = follower.catchUp();
    follower.appended(hooked[4]!);
    await run;
    await follower.catchUp();
    expect(follower.size).toBe(ledger.size);
    const datasets = ['no-such-dataset'];
    expect(picture(follower.index, datasets)).toEqual(picture(await LineageIndex.build(store), datasets));
    expect(follower.index.edges).toBe((await LineageIndex.build(store)).edges);
    await ledger.close();
    await store.close();
  });
});
