// The read-only reader sees a SqliteStore's file as the store itself serves it: the same leaf
// rows with their derived columns, the head's size (never a row beyond it, not even one a
// crashed writer left), the checkpoints. If the store's layout changes, this fails here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CompactRange } from '@civic-ledger/merkle';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticBatch } from './contract.ts';
import { SqliteStore } from './sqlite.ts';
import { SqliteLeafReader } from './sqlite-reader.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SqliteLeafReader', () => {
  it('reads the rows, head and checkpoints SqliteStore wrote, and nothing beyond the head', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-sqlite-reader-'));
    dirs.push(dir);
    const path = join(dir, 'ledger.db');
    const store = new SqliteStore({ path });
    const lease = await store.acquireWriter({ owner: 'writer-a', ttlMs: 60_000 });
    const range = CompactRange.empty();
    await store.append(lease, 0, syntheticBatch(range, 7, { chain: 'agency/main' }));
    await store.append(lease, 7, syntheticBatch(range, 5, { chain: 'agency/main' }));
    await store.putCheckpoint({ size: 7, note: 'note at 7\n', createdAt: 1 });
    await store.putCheckpoint({ size: 12, note: 'note at 12\n', createdAt: 2 });
    const served = await store.getLeaves(0, 12);
    await store.close();
    // A row a crashed writer left beyond the head: not part of the log.
    const raw = new DatabaseSync(path);
    raw
      .prepare(
        'INSERT INTO leaves (idx, leaf, ehash, chain, seq) SELECT 12, leaf, ehash, chain, 99 FROM leaves WHERE idx = 0',
      )
      .run();
    raw.close();

    const reader = new SqliteLeafReader(path);
    try {
      expect(reader.size()).toBe(12);
      expect(reader.checkpoints()).toEqual([
        { size: 7, note: 'note at 7\n' },
        { size: 12, note: 'note at 12\n' },
      ]);
      const rows = reader.leaves(0, 100);
      expect(rows.map((r) => ({ ...r, leaf: Buffer.from(r.leaf).toString('hex') }))).toEqual(
        served.map((r) => ({
          index: r.index,
          leaf: Buffer.from(r.leaf).toString('hex'),
          eventHash: r.eventHash,
          chain: r.chain,
          seq: r.seq,
        })),
      );
      expect(reader.rows(3, 5).map((r) => r[0])).toEqual([3, 4]);
    } finally {
      reader.close();
    }
  });
});
