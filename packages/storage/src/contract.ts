// The storage contract suite. Every adapter runs it unchanged:
//   describeStorageContract('sqlite', async (hooks) => ({ store: new SqliteStore(...), ... }))
// It checks visibility bounded by the head, crash atomicity (interrupted between rows and
// head), writer fencing, leases, chain and hash lookups, checkpoints and derived rebuilds.
import { createHash } from 'node:crypto';
import { CompactRange, hashLeaf, newNodeBatch } from '@civic-ledger/merkle';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from './errors.ts';
import type { AppendBatch, LedgerStore, LineageLink, RegistryRecord } from './types.ts';

export interface ContractHooks {
  /** Runs after a batch's rows are written and before its head moves. */
  beforeHeadUpdate?: () => void;
}

export interface ContractSubject {
  store: LedgerStore;
  /** Closes and opens the same data again (omit for stores that do not persist). */
  reopen?: () => Promise<LedgerStore>;
  /** A second handle on the same data, as another process would have (omit if impossible). */
  openSecond?: () => Promise<LedgerStore>;
  cleanup?: () => Promise<void>;
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** Builds a batch of `n` synthetic leaves continuing `range` (which it advances). */
export function syntheticBatch(
  range: CompactRange,
  n: number,
  options: {
    chain?: string;
    tag?: string;
    registry?: (index: number) => RegistryRecord | undefined;
    /** Input event hashes of the leaf at an index (written into the leaf as event.inputs). */
    inputs?: (index: number) => readonly string[];
  } = {},
): AppendBatch {
  const start = range.size;
  const chain = options.chain ?? 'org-a/main';
  const nodes = newNodeBatch();
  const leaves = [];
  const registry: RegistryRecord[] = [];
  const lineage: LineageLink[] = [];
  for (let i = 0; i < n; i++) {
    const index = start + i;
    const inputs = options.inputs?.(index) ?? [];
    for (const input of inputs) lineage.push({ index, input });
    const event = inputs.length > 0 ? `,"event":{"inputs":${JSON.stringify(inputs)}}` : '';
    const leaf = new TextEncoder().encode(`{"index":${index},"tag":"${options.tag ?? ''}"${event}}`);
    range.append(hashLeaf(leaf), nodes);
    leaves.push({ index, leaf, eventHash: hex(`${options.tag ?? ''}${index}`), chain, seq: index + 1 });
    const r = options.registry?.(index);
    if (r) registry.push(r);
  }
  return { leaves, nodes, registry, lineage, rootHash: range.root() };
}

/** Two event hashes sharing their first 48 bits (the SQLite adapter's lookup key). */
const twins = ['a'.repeat(12) + '0'.repeat(52), 'a'.repeat(12) + '1'.repeat(52)] as const;

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StorageError) return e.code;
    throw e;
  }
  return undefined;
}

const OWNER = { owner: 'writer-a', ttlMs: 60_000 };

export function describeStorageContract(
  name: string,
  open: (hooks: ContractHooks) => Promise<ContractSubject>,
): void {
  describe(`storage contract: ${name}`, () => {
    const opened: ContractSubject[] = [];
    afterEach(async () => {
      for (const s of opened.splice(0)) {
        await s.store.close();
        await s.cleanup?.();
      }
    });
    async function subject(hooks: ContractHooks = {}): Promise<ContractSubject> {
      const s = await open(hooks);
      opened.push(s);
      return s;
    }

    it('starts empty with the empty-tree root', async () => {
      const { store } = await subject();
      const h = await store.head();
      expect(h.size).toBe(0);
      expect(Buffer.from(h.rootHash).toString('hex')).toBe(
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      );
      expect(await store.getLeaves(0, 10)).toEqual([]);
      expect(await store.getNodes([0, 1, 2])).toEqual([undefined, undefined, undefined]);
      expect(await store.latestCheckpoint()).toBeUndefined();
    });

    it('appends batches and reads them back by index, hash, chain position and node', async () => {
      const { store } = await subject();
      const lease = await store.acquireWriter(OWNER);
      const range = CompactRange.empty();
      const b1 = syntheticBatch(range, 5);
      const h1 = await store.append(lease, 0, b1);
      expect(h1.size).toBe(5);
      const b2 = syntheticBatch(range, 3, { chain: 'org-b/main' });
      await store.append(lease, 5, b2);
      const head = await store.head();
      expect(head.size).toBe(8);
      expect(head.rootHash).toEqual(range.root());
      const leaves = await store.getLeaves(0, 100);
      expect(leaves.map((l) => l.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(leaves[6]!.leaf).toEqual(b2.leaves[1]!.leaf);
      expect((await store.getLeaves(3, 6)).map((l) => l.index)).toEqual([3, 4, 5]);
      const byHash = await store.getLeavesByEventHash([
        b1.leaves[2]!.eventHash,
        hex('unknown'),
        'not-a-hash',
      ]);
      expect(byHash.map((l) => l.index)).toEqual([2]);
      expect(await store.getChainEntry('org-a/main', 3)).toEqual({
        seq: 3,
        eventHash: b1.leaves[2]!.eventHash,
        index: 2,
      });
      expect(await store.getChainEntry('org-a/main', 99)).toBeUndefined();
      expect((await store.getChainHead('org-a/main'))?.seq).toBe(5);
      expect((await store.getChainHead('org-b/main'))?.index).toBe(7);
      expect(await store.getChainHead('nobody/main')).toBeUndefined();
      const ids = [...b1.nodes.ids, ...b2.nodes.ids];
      const hashes = [...b1.nodes.hashes, ...b2.nodes.hashes];
      expect(await store.getNodes(ids)).toEqual(hashes);
    });

    it('refuses a batch that does not continue from the expected size', async () => {
      const { store } = await subject();
      const lease = await store.acquireWriter(OWNER);
      const range = CompactRange.empty();
      await store.append(lease, 0, syntheticBatch(range, 2));
      expect(await codeOf(store.append(lease, 0, syntheticBatch(CompactRange.empty(), 2)))).toBe(
        'SIZE_CONFLICT',
      );
      const skewed = syntheticBatch(range.clone(), 2);
      skewed.leaves[1]!.index = 7;
      expect(await codeOf(store.append(lease, 2, skewed))).toBe('BAD_BATCH');
      expect((await store.head()).size).toBe(2);
    });

    it('fences a writer once another has acquired the log (two-writer refusal)', async () => {
      const s = await subject();
      const a = await s.store.acquireWriter({ owner: 'writer-a', ttlMs: 1 });
      const range = CompactRange.empty();
      await s.store.append(a, 0, syntheticBatch(range, 1));
      const other = s.openSecond ? await s.openSecond() : s.store;
      const b = await other.acquireWriter({ owner: 'writer-b', ttlMs: 60_000, now: Date.now() + 10 });
      expect(b.epoch).toBeGreaterThan(a.epoch);
      const before = await s.store.head();
      expect(await codeOf(s.store.append(a, 1, syntheticBatch(range.clone(), 1)))).toBe('STALE_WRITER');
      expect(await codeOf(s.store.renewWriter(a, { owner: 'writer-a', ttlMs: 1000 }))).toBe('STALE_WRITER');
      expect(await s.store.head()).toEqual(before);
      await other.append(b, 1, syntheticBatch(range, 1));
      expect((await s.store.head()).size).toBe(2);
      if (other !== s.store) await other.close();
    });

    it('refuses to take over an unexpired lease of another owner, and takes over a lapsed one', async () => {
      const { store } = await subject();
      const now = Date.now();
      await store.acquireWriter({ owner: 'writer-a', ttlMs: 1000, now });
      expect(await codeOf(store.acquireWriter({ owner: 'writer-b', ttlMs: 1000, now: now + 500 }))).toBe(
        'LEASE_HELD',
      );
      const b = await store.acquireWriter({ owner: 'writer-b', ttlMs: 1000, now: now + 1001 });
      expect(b.owner).toBe('writer-b');
      const renewed = await store.renewWriter(b, { owner: 'writer-b', ttlMs: 5000, now: now + 1500 });
      expect(renewed.expiresAt).toBe(now + 6500);
      // A released lease can be taken at once.
      await store.releaseWriter(renewed);
      const c = await store.acquireWriter({ owner: 'writer-c', ttlMs: 1000, now: now + 1600 });
      expect(c.epoch).toBeGreaterThan(renewed.epoch);
      expect(await codeOf(store.renewWriter(renewed, { owner: 'writer-b', ttlMs: 1000 }))).toBe(
        'STALE_WRITER',
      );
    });

    it('crash atomicity: interrupted between rows and head, none of the batch is visible, and the next writer recovers', async () => {
      let fail = false;
      const s = await subject({
        beforeHeadUpdate: () => {
          if (fail) throw new Error('simulated crash between rows and head');
        },
      });
      const store = s.store;
      const lease = await store.acquireWriter(OWNER);
      const range = CompactRange.empty();
      const reg = (tag: string) => (index: number) =>
        index % 2 === 0
          ? { index, kind: 'organization' as const, id: `org-${tag}-${index}`, org: 'ledger', data: '{}' }
          : undefined;
      await store.append(lease, 0, syntheticBatch(range, 3, { registry: reg('ok') }));
      const committed = await store.head();
      const registryBefore = await store.getRegistry();

      fail = true;
      const lost = syntheticBatch(range.clone(), 4, {
        tag: 'lost',
        chain: 'org-a/main',
        registry: reg('lost'),
      });
      await expect(store.append(lease, 3, lost)).rejects.toThrow('simulated crash');
      fail = false;

      // Nothing of the interrupted batch is visible, through any read.
      expect(await store.head()).toEqual(committed);
      expect(await store.getLeaves(0, 100)).toHaveLength(3);
      expect(await store.getLeavesByEventHash(lost.leaves.map((l) => l.eventHash))).toEqual([]);
      expect(await store.getChainEntry('org-a/main', 4)).toBeUndefined();
      expect((await store.getChainHead('org-a/main'))?.seq).toBe(3);
      expect(await store.getNodes(lost.nodes.ids)).toEqual(lost.nodes.ids.map(() => undefined));
      expect(await store.getRegistry()).toEqual(registryBefore);

      // After a restart the next writer appends other content at the same indexes.
      const reopened = s.reopen ? await s.reopen() : store;
      if (reopened !== store) opened.push({ store: reopened });
      const next = await reopened.acquireWriter({
        owner: 'writer-b',
        ttlMs: 60_000,
        now: Date.now() + 120_000,
      });
      const fresh = syntheticBatch(range, 4, { tag: 'fresh', chain: 'org-a/main', registry: reg('fresh') });
      await reopened.append(next, 3, fresh);
      const leaves = await reopened.getLeaves(0, 100);
      expect(leaves.slice(3).map((l) => l.leaf)).toEqual(fresh.leaves.map((l) => l.leaf));
      expect(await reopened.getLeavesByEventHash(lost.leaves.map((l) => l.eventHash))).toEqual([]);
      expect((await reopened.getChainEntry('org-a/main', 4))?.eventHash).toBe(fresh.leaves[0]!.eventHash);
      expect(await reopened.getNodes(fresh.nodes.ids)).toEqual(fresh.nodes.hashes);
      expect((await reopened.getRegistry()).map((r) => r.id)).toEqual([
        ...registryBefore.map((r) => r.id),
        'org-fresh-4',
        'org-fresh-6',
      ]);
      expect((await reopened.head()).rootHash).toEqual(range.root());
    });

    it('keeps committed data across a restart', async () => {
      const s = await subject();
      if (!s.reopen) return;
      const lease = await s.store.acquireWriter(OWNER);
      const range = CompactRange.empty();
      const batch = syntheticBatch(range, 10);
      await s.store.append(lease, 0, batch);
      await s.store.putCheckpoint({ size: 10, note: 'note\n', createdAt: 1 });
      const again = await s.reopen();
      opened.push({ store: again });
      expect((await again.head()).size).toBe(10);
      expect((await again.head()).rootHash).toEqual(range.root());
      expect((await again.getLeaves(0, 10)).map((l) => l.leaf)).toEqual(batch.leaves.map((l) => l.leaf));
      expect((await again.latestCheckpoint())?.note).toBe('note\n');
    });

    it('stores checkpoints once per size and refuses a different one', async () => {
      const { store } = await subject();
      await store.putCheckpoint({ size: 5, note: 'a\n', createdAt: 1 });
      await store.putCheckpoint({ size: 5, note: 'a\n', createdAt: 2 });
      await store.putCheckpoint({ size: 9, note: 'b\n', createdAt: 3 });
      expect(await codeOf(store.putCheckpoint({ size: 5, note: 'evil\n', createdAt: 4 }))).toBe(
        'CHECKPOINT_CONFLICT',
      );
      expect((await store.getCheckpoint(5))?.note).toBe('a\n');
      expect((await store.latestCheckpoint())?.size).toBe(9);
      expect((await store.listCheckpoints(0, 100)).map((c) => c.size)).toEqual([5, 9]);
      expect(await store.getCheckpoint(6)).toBeUndefined();
    });

    it('drops and rewrites derived rows without touching leaves or the head', async () => {
      const { store } = await subject();
      const lease = await store.acquireWriter(OWNER);
      const range = CompactRange.empty();
      const batch = syntheticBatch(range, 6, {
        registry: (index) => ({ index, kind: 'dataset', id: `org-a/d${index}`, org: 'org-a', data: '{}' }),
      });
      await store.append(lease, 0, batch);
      const head = await store.head();
      await store.dropDerived(lease);
      expect(await store.getNodes(batch.nodes.ids)).toEqual(batch.nodes.ids.map(() => undefined));
      expect(await store.getRegistry()).toEqual([]);
      expect(await store.getChainEntry('org-a/main', 1)).toBeUndefined();
      expect((await store.getLeaves(0, 10)).map((l) => l.leaf)).toEqual(batch.leaves.map((l) => l.leaf));
      await store.writeDerived(lease, batch);
      expect(await store.head()).toEqual(head);
      expect(await store.getNodes(batch.nodes.ids)).toEqual(batch.nodes.hashes);
      expect(await store.getRegistry()).toEqual(batch.registry);
      expect((await store.getChainEntry('org-a/main', 2))?.index).toBe(1);
      expect((await store.getLeavesByEventHash([batch.leaves[4]!.eventHash]))[0]?.index).toBe(4);
    });

    it('finds the lineage children of event hashes, in index order, exactly (not by prefix)', async () => {
      const { store } = await subject();
      const lease = await store.acquireWriter(OWNER);
      const range = CompactRange.empty();
      const x = hex('x');
      // 0: none; 1: x; 2: twins[0]; 3: x and twins[1]; 4: x twice (listed once)
      const inputs: Record<number, string[]> = { 1: [x], 2: [twins[0]], 3: [x, twins[1]], 4: [x, x] };
      await store.append(lease, 0, syntheticBatch(range, 3, { inputs: (i) => inputs[i] ?? [] }));
      await store.append(lease, 3, syntheticBatch(range, 2, { inputs: (i) => inputs[i] ?? [] }));
      const idx = async (hashes: string[]) => (await store.getLeavesByInput(hashes)).map((l) => l.index);
      expect(await idx([x])).toEqual([1, 3, 4]);
      expect(await idx([twins[0]])).toEqual([2]);
      expect(await idx([twins[1]])).toEqual([3]);
      expect(await idx([twins[1], x, x])).toEqual([1, 3, 4]);
      expect(await idx([hex('nobody'), 'not-a-hash'])).toEqual([]);
      expect(await idx([])).toEqual([]);
      const [child] = await store.getLeavesByInput([twins[0]]);
      expect(child!.leaf).toEqual((await store.getLeaves(2, 3))[0]!.leaf);
    });

    it('lineage children are bounded by the head: an interrupted batch names none, a rebuild restores them', async () => {
      let fail = false;
      const s = await subject({
        beforeHeadUpdate: () => {
          if (fail) throw new Error('simulated crash between rows and head');
        },
      });
      const store = s.store;
      const lease = await store.acquireWriter(OWNER);
      const range = CompactRange.empty();
      const x = hex('x');
      await store.append(lease, 0, syntheticBatch(range, 2, { inputs: (i) => (i === 1 ? [x] : []) }));
      fail = true;
      const lost = syntheticBatch(range.clone(), 2, { tag: 'lost', inputs: () => [x] });
      await expect(store.append(lease, 2, lost)).rejects.toThrow('simulated crash');
      fail = false;
      expect((await store.getLeavesByInput([x])).map((l) => l.index)).toEqual([1]);

      const reopened = s.reopen ? await s.reopen() : store;
      if (reopened !== store) opened.push({ store: reopened });
      const next = await reopened.acquireWriter({
        owner: 'writer-b',
        ttlMs: 60_000,
        now: Date.now() + 120_000,
      });
      const y = hex('y');
      const fresh = syntheticBatch(range, 2, { tag: 'fresh', inputs: (i) => (i === 3 ? [y] : []) });
      await reopened.append(next, 2, fresh);
      expect((await reopened.getLeavesByInput([x])).map((l) => l.index)).toEqual([1]);
      expect((await reopened.getLeavesByInput([y])).map((l) => l.index)).toEqual([3]);

      // Derived: gone with dropDerived, back with writeDerived.
      const all = syntheticBatch(CompactRange.empty(), 4, {
        inputs: (i) => (i === 1 ? [x] : i === 3 ? [y] : []),
      });
      await reopened.dropDerived(next);
      expect(await reopened.getLeavesByInput([x, y])).toEqual([]);
      await reopened.writeDerived(next, {
        ...all,
        leaves: (await reopened.getLeaves(0, 4)).map((l, i) => ({ ...all.leaves[i]!, leaf: l.leaf })),
      });
      expect((await reopened.getLeavesByInput([x, y])).map((l) => l.index)).toEqual([1, 3]);
    });
  });
}
