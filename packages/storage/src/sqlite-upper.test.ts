// SqliteStore's upper tree levels in memory (sqlite-upper.ts): every proof it serves equals
// the proof over a plain in-memory node store, at every size, however the nodes reached
// memory (this instance's appends, a reopen, another instance's appends, a rebuild, a file
// written before the `upper` table existed), and nothing beyond the head is ever served.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  CompactRange,
  consistencyProof,
  consistencyProofSync,
  inclusionProof,
  inclusionProofSync,
  MemoryNodeStore,
  type NodeReader,
} from '@civic-ledger/merkle';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticBatch } from './contract.ts';
import { SqliteStore } from './sqlite.ts';
import type { WriterLease } from './types.ts';

const OWNER = { owner: 'writer-a', ttlMs: 60_000 };
const dirs: string[] = [];
const stores: SqliteStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cl-sqlite-upper-'));
  dirs.push(dir);
  return join(dir, 'ledger.db');
}

function open(path: string, upperLevel?: number): SqliteStore {
  const s = new SqliteStore({ path, ...(upperLevel === undefined ? {} : { upperLevel }) });
  stores.push(s);
  return s;
}

/** Appends batches of these sizes to the store and the reference node store. */
async function grow(
  store: SqliteStore,
  lease: WriterLease,
  range: CompactRange,
  reference: MemoryNodeStore,
  sizes: number[],
): Promise<void> {
  for (const n of sizes) {
    const batch = syntheticBatch(range, n);
    reference.putNodes(batch.nodes);
    await store.append(lease, range.size - n, batch);
  }
}

/** Every inclusion proof and a spread of consistency proofs at `size` equal the reference's. */
async function expectSameProofs(store: SqliteStore, reference: MemoryNodeStore, size: number): Promise<void> {
  for (let i = 0; i < size; i += size > 24 ? 3 : 1) {
    expect(await inclusionProof(store as NodeReader, i, size)).toEqual(
      inclusionProofSync(reference, i, size),
    );
  }
  for (let s1 = 1; s1 <= size; s1 += Math.max(1, Math.floor(size / 23))) {
    expect(await consistencyProof(store as NodeReader, s1, size)).toEqual(
      consistencyProofSync(reference, s1, size),
    );
  }
}

describe('SqliteStore upper tree levels in memory', () => {
  it(
    'serves the same proofs as uncached nodes at every size, appending and after a reopen',
    { timeout: 20_000 },
    async () => {
      const path = tempPath();
      const store = open(path, 2);
      const lease = await store.acquireWriter(OWNER);
      const range = CompactRange.empty();
      const reference = new MemoryNodeStore();
      // Proofs read before and between appends: memory is loaded early, then extended by appends.
      for (const n of [1, 1, 2, 3, 5, 8, 13, 1, 7, 16, 4, 9]) {
        await grow(store, lease, range, reference, [n]);
        for (const size of new Set([1, range.size - n + 1, Math.ceil(range.size / 2), range.size])) {
          await expectSameProofs(store, reference, size);
        }
      }
      const size = range.size;
      const reopened = open(path, 5); // the file keeps the level it was made with
      for (let s = 1; s <= size; s++) await expectSameProofs(reopened, reference, s);
      // A node of the upper levels is answered from memory, a lower one from its leaf row.
      expect(reopened.getNodesSync([3, 7, 15])).toEqual(reference.getNodesSync([3, 7, 15]));
    },
  );

  it('a second instance sees what the first appends after it loaded; nothing beyond the head', async () => {
    const path = tempPath();
    const writer = open(path, 2);
    const lease = await writer.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const reference = new MemoryNodeStore();
    await grow(writer, lease, range, reference, [10]);
    const reader = open(path);
    await expectSameProofs(reader, reference, 10);
    await grow(writer, lease, range, reference, [6, 17]);
    await expectSameProofs(reader, reference, 33);
    // Not wholly below the head: absent (level 5, index 1 covers leaves 32..63).
    expect(reader.getNodesSync([95])).toEqual([undefined]);
    // Another writer takes over and appends: both instances catch up.
    const lease2 = await open(path).acquireWriter({
      owner: 'writer-b',
      ttlMs: 60_000,
      holderIsGone: () => true,
    });
    const other = open(path);
    await grow(other, lease2, range, reference, [31]);
    await expectSameProofs(reader, reference, 64);
    await expectSameProofs(open(path), reference, 64);
  });

  it('a rebuild drops and rewrites the upper rows; proofs stay the same', async () => {
    const path = tempPath();
    const store = open(path, 3);
    const lease = await store.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const reference = new MemoryNodeStore();
    await grow(store, lease, range, reference, [20, 30, 14]);
    await expectSameProofs(store, reference, 64);
    await store.dropDerived(lease);
    // Replay the leaves' derived rows, as rebuildDerived does, in two batches.
    const leaves = await store.getLeaves(0, 64);
    const replay = CompactRange.empty();
    for (const part of [leaves.slice(0, 40), leaves.slice(40)]) {
      const batch = syntheticBatch(replay, part.length);
      await store.writeDerived(lease, { ...batch, leaves: part });
      if (replay.size === 40) await expectSameProofs(store, reference, 40); // read between batches
    }
    await expectSameProofs(store, reference, 64);
    await expectSameProofs(open(path), reference, 64);
  });

  it('copies the upper nodes of a file written before the upper table existed, once, on open', async () => {
    const path = tempPath();
    const store = open(path, 2);
    const lease = await store.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const reference = new MemoryNodeStore();
    await grow(store, lease, range, reference, [25, 25]);
    await store.close();
    const db = new DatabaseSync(path);
    db.exec('DROP TABLE upper');
    db.close();
    const migrated = open(path, 4);
    await expectSameProofs(migrated, reference, 50);
    const db2 = new DatabaseSync(path, { readOnly: true });
    const rows = db2.prepare('SELECT idx, length(nodes) AS n FROM upper ORDER BY idx').all() as {
      idx: number;
      n: number;
    }[];
    db2.close();
    // Level 4 recorded (row -1), then one row per leaf completing a level-4 node: 15 and 31.
    expect(rows).toEqual([
      { idx: -1, n: 1 },
      { idx: 15, n: 32 },
      { idx: 31, n: 64 },
      { idx: 47, n: 32 },
    ]);
  });
});
