// SQLite-specific behaviour beyond the contract suite: the in-memory lookups (by event
// hash and chain position) loaded from the append-only `lookups` rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CompactRange } from '@civic-ledger/merkle';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticBatch } from './contract.ts';
import { SqliteStore, type SqliteStoreOptions } from './sqlite.ts';
import type { AppendBatch, LeafRecord, LedgerStore, WriterLease } from './types.ts';

const OWNER = { owner: 'writer-a', ttlMs: 60_000 };
const dirs: string[] = [];
const stores: LedgerStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cl-sqlite-lookups-'));
  dirs.push(dir);
  return join(dir, 'ledger.db');
}

function open(path: string, options: Omit<SqliteStoreOptions, 'path'> = {}): SqliteStore {
  const s = new SqliteStore({ path, ...options });
  stores.push(s);
  return s;
}

/** Appends `sizes` batches over chains c0..c(chains-1) (seq = position in its chain). */
async function appendBatches(
  store: LedgerStore,
  lease: WriterLease,
  range: CompactRange,
  sizes: number[],
  options: { tag?: string; chains?: number } = {},
): Promise<LeafRecord[]> {
  const all: LeafRecord[] = [];
  for (const n of sizes) {
    const batch = syntheticBatch(range, n, options.tag === undefined ? {} : { tag: options.tag });
    for (const l of batch.leaves) {
      const c = l.index % (options.chains ?? 3);
      l.chain = `org-a/c${c}`;
      l.seq = Math.floor(l.index / (options.chains ?? 3)) + 1;
    }
    await store.append(lease, range.size - n, batch);
    all.push(...batch.leaves);
  }
  return all;
}

/** A writer (holding the lease) and a second instance, a reader, on one new file. */
async function writerAndReader(): Promise<{
  writer: SqliteStore;
  reader: SqliteStore;
  lease: WriterLease;
  range: CompactRange;
}> {
  const path = tempPath();
  const writer = open(path);
  const reader = open(path);
  const lease = await writer.acquireWriter(OWNER);
  return { writer, reader, lease, range: CompactRange.empty() };
}

async function expectAllFound(store: LedgerStore, leaves: LeafRecord[]): Promise<void> {
  const got = await store.getLeavesByEventHash(leaves.map((l) => l.eventHash));
  expect(got.map((l) => l.index).sort((a, b) => a - b)).toEqual(leaves.map((l) => l.index));
  for (const l of got) expect(l.eventHash).toBe(leaves[l.index - leaves[0]!.index]!.eventHash);
  for (const l of leaves.filter((_, i) => i % 7 === 0)) {
    expect(await store.getChainEntry(l.chain, l.seq)).toEqual({
      seq: l.seq,
      eventHash: l.eventHash,
      index: l.index,
    });
  }
}

function lookupRows(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM lookups').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('SqliteStore lookups', () => {
  it('finds entries by hash and chain position after a reopen', async () => {
    const path = tempPath();
    const a = open(path);
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const leaves = await appendBatches(a, lease, range, [700, 1, 1, 300, 2000]);
    await a.close();
    const b = open(path);
    expect(b.lookupMemory()).toEqual({ entries: 0, bytes: 0 }); // loaded by the first lookup
    await expectAllFound(b, leaves);
    const memory = b.lookupMemory();
    expect(memory.entries).toBe(3002);
    // Sized for the log at load: keys 6 + slots <= 10.7 + chains 4 (+ small-table minimums).
    expect(memory.bytes / memory.entries).toBeLessThan(24);
    const lastOfC1 = leaves.filter((l) => l.chain === 'org-a/c1').at(-1)!;
    expect((await b.getChainHead('org-a/c1'))?.index).toBe(lastOfC1.index);
    expect(
      await b.getLeavesByEventHash([
        syntheticBatch(CompactRange.empty(), 1, { tag: 'x' }).leaves[0]!.eventHash,
      ]),
    ).toEqual([]);
  });

  it('a second instance on the same file sees what the first appends after it loaded', async () => {
    const { writer, reader, lease, range } = await writerAndReader();
    const first = await appendBatches(writer, lease, range, [50]);
    await expectAllFound(reader, first); // loads the reader's lookups
    const later = await appendBatches(writer, lease, range, [1, 40, 3]);
    await expectAllFound(reader, later);
    const last = later.at(-1)!;
    expect(await reader.getChainHead(last.chain)).toEqual({
      seq: last.seq,
      eventHash: last.eventHash,
      index: 93,
    });
    // And the other way round: the reader takes over as the writer.
    const lease2 = await reader.acquireWriter({
      owner: 'writer-b',
      ttlMs: 60_000,
      now: Date.now() + 120_000,
    });
    const third = await appendBatches(reader, lease2, range, [5]);
    await expectAllFound(writer, third);
  });

  it('compares the full hash when hash prefixes collide', async () => {
    const path = tempPath();
    const a = open(path, { lookupKeyBits: 3 }); // 8 keys for 300 entries
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const leaves = await appendBatches(a, lease, range, [100, 200]);
    for (const l of leaves.filter((_, i) => i % 13 === 0)) {
      expect((await a.getLeavesByEventHash([l.eventHash])).map((r) => r.index)).toEqual([l.index]);
    }
    const absent = syntheticBatch(CompactRange.empty(), 20, { tag: 'absent' }).leaves.map((l) => l.eventHash);
    expect(await a.getLeavesByEventHash(absent)).toEqual([]);
    const reader = open(path, { lookupKeyBits: 1 });
    await expectAllFound(reader, leaves);
  });

  it('keeps small batches in few lookup rows', async () => {
    const path = tempPath();
    const a = open(path);
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const leaves = await appendBatches(
      a,
      lease,
      range,
      Array.from({ length: 300 }, () => 1),
    );
    leaves.push(...(await appendBatches(a, lease, range, [2, 600, 1])));
    // A batch joins the last row while that has fewer than 512 entries: the 300 single
    // events, the 2 and the 600 share a row; the last event starts the next.
    expect(lookupRows(path)).toBe(2);
    await expectAllFound(open(path), leaves);
  });

  it('rebuild: derived lookups are dropped, rewritten, and seen by an instance loaded before', async () => {
    const path = tempPath();
    const a = open(path);
    const other = open(path);
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const leaves = await appendBatches(a, lease, range, [30, 30]);
    await expectAllFound(other, leaves);
    await a.dropDerived(lease);
    expect(await a.getLeavesByEventHash([leaves[3]!.eventHash])).toEqual([]);
    expect(await a.getChainHead('org-a/c0')).toBeUndefined();
    // An instance loaded before the drop names candidates, but their rows no longer match.
    expect(await other.getLeavesByEventHash([leaves[3]!.eventHash])).toEqual([]);
    expect(await other.getChainEntry('org-a/c0', 1)).toBeUndefined();
    // Rewritten in chunks other than the original batches, as rebuildDerived does.
    for (const [from, to] of [
      [0, 25],
      [25, 26],
      [26, 60],
    ] as const) {
      const part: AppendBatch = {
        leaves: leaves.slice(from, to),
        nodes: { ids: [], hashes: [] },
        registry: [],
        lineage: [],
        rootHash: range.root(),
      };
      await a.writeDerived(lease, part);
    }
    await expectAllFound(a, leaves);
    await expectAllFound(other, leaves);
    const more = await appendBatches(a, lease, range, [10]);
    await expectAllFound(other, more);
  });

  it('never shows lookup entries beyond the head, and a new writer replaces them', async () => {
    const path = tempPath();
    const a = open(path);
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const leaves = await appendBatches(a, lease, range, [10]);
    // What a writer without transactions could leave behind: the last lookups row extended
    // past the head, and a row beyond it.
    const lost = syntheticBatch(range.clone(), 6, { tag: 'lost' }).leaves;
    const raw = new DatabaseSync(path);
    const row = raw.prepare('SELECT keys, pos FROM lookups WHERE start = 0').get() as {
      keys: Uint8Array;
      pos: Uint8Array;
    };
    const keys = (ls: LeafRecord[]) =>
      Buffer.concat(ls.map((l) => Buffer.from(l.eventHash.slice(0, 12), 'hex')));
    const pos = (ls: LeafRecord[]) =>
      Buffer.concat(
        ls.map(() => {
          const b = Buffer.alloc(10);
          b.writeDoubleBE(99, 2);
          return b;
        }),
      );
    raw
      .prepare('UPDATE lookups SET keys = ?, pos = ? WHERE start = 0')
      .run(
        Buffer.concat([row.keys, keys(lost.slice(0, 3))]),
        Buffer.concat([row.pos, pos(lost.slice(0, 3))]),
      );
    raw
      .prepare('INSERT INTO lookups VALUES (13, ?, \'["org-a/c0"]\', ?)')
      .run(keys(lost.slice(3)), pos(lost.slice(3)));
    raw.close();
    const reader = open(path);
    expect(await reader.getLeavesByEventHash(lost.map((l) => l.eventHash))).toEqual([]);
    await expectAllFound(reader, leaves);
    const b = open(path);
    const lease2 = await b.acquireWriter({ owner: 'writer-b', ttlMs: 60_000, now: Date.now() + 120_000 });
    const fresh = await appendBatches(b, lease2, range, [8], { tag: 'fresh' });
    await expectAllFound(reader, [...leaves, ...fresh]);
    expect(await reader.getLeavesByEventHash(lost.map((l) => l.eventHash))).toEqual([]);
    expect(lookupRows(path)).toBe(1);
  });

  it('refuses a malformed lookups row with CORRUPT, and loads again once it is repaired', async () => {
    const path = tempPath();
    const a = open(path);
    const lease = await a.acquireWriter(OWNER);
    const leaves = await appendBatches(a, lease, CompactRange.empty(), [20]);
    const raw = new DatabaseSync(path);
    const good = raw.prepare('SELECT pos FROM lookups WHERE start = 0').get() as { pos: Uint8Array };
    raw.prepare('UPDATE lookups SET pos = substr(pos, 1, 15)').run();
    const b = open(path);
    await expect(b.getLeavesByEventHash([leaves[0]!.eventHash])).rejects.toMatchObject({ code: 'CORRUPT' });
    raw.prepare('UPDATE lookups SET pos = ?').run(good.pos);
    raw.close();
    await expectAllFound(b, leaves);
  });

  it('moves a file of the earlier layout (hkey column, B-tree indexes, nodes table) on open', async () => {
    const path = tempPath();
    // Write with the current code, then turn the file into the earlier layout.
    const a = open(path);
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const leaves = await appendBatches(a, lease, range, [40, 1]);
    const ids = Array.from({ length: 2 * 41 - 1 }, (_, id) => id);
    const nodes = await a.getNodes(ids);
    await a.releaseWriter(lease);
    await a.close();
    const raw = new DatabaseSync(path);
    raw.exec(`DROP TABLE lookups;
      CREATE TABLE nodes (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
      ALTER TABLE leaves DROP COLUMN inodes;
      ALTER TABLE leaves ADD COLUMN hkey INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX leaves_hkey ON leaves(hkey); CREATE INDEX leaves_chain ON leaves(chain, seq);`);
    const putNode = raw.prepare('INSERT INTO nodes VALUES (?, ?)');
    ids.forEach((id) => {
      if (id % 2 === 1 && nodes[id]) putNode.run(id, nodes[id]);
    });
    raw.close();
    const b = open(path);
    await expectAllFound(b, leaves);
    expect(await b.getNodes(ids)).toEqual(nodes);
    expect(nodes.filter((n) => n !== undefined).length).toBeGreaterThan(41 + 30);
    const check = new DatabaseSync(path, { readOnly: true });
    const columns = (check.prepare('PRAGMA table_info(leaves)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    const indexes = (
      check.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]
    ).map((r) => r.name);
    const tables = (
      check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((r) => r.name);
    check.close();
    expect(tables).not.toContain('nodes');
    expect(columns).not.toContain('hkey');
    expect(indexes).not.toContain('leaves_hkey');
    expect(indexes).not.toContain('leaves_chain');
    const lease2 = await b.acquireWriter(OWNER);
    const more = await appendBatches(b, lease2, range, [5]);
    await expectAllFound(open(path), [...leaves, ...more]);
  });

  it.each([
    ['with no downstream rows', 'DROP TABLE downstream'],
    [
      'with the earlier lineage table keyed by input hash',
      `DROP TABLE downstream;
       CREATE TABLE lineage (ikey INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (ikey, idx)) WITHOUT ROWID;
       INSERT INTO lineage VALUES (1, 1);`,
    ],
  ])('derives the downstream rows of a file written %s, once, on open', async (_, sql) => {
    const path = tempPath();
    const a = open(path);
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const x = 'c'.repeat(64);
    const batch = syntheticBatch(range, 6, { inputs: (i) => (i % 2 === 1 ? [x] : []) });
    await a.append(lease, 0, batch);
    await a.releaseWriter(lease);
    await a.close();
    const raw = new DatabaseSync(path);
    raw.exec(sql);
    raw.close();
    const b = open(path);
    expect((await b.getLeavesByInput([x])).map((l) => l.index)).toEqual([1, 3, 5]);
    const check = new DatabaseSync(path, { readOnly: true });
    const tables = (
      check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    check.close();
    expect(tables).toContain('downstream');
    expect(tables).not.toContain('lineage');
  });
});

describe('SqliteStore downstream lineage', () => {
  const inputsOf = (i: number) => [`${(i % 5).toString(16)}`.repeat(64)];

  it('keeps the links in a few append-only rows, and finds every child after a reopen', async () => {
    const path = tempPath();
    const a = open(path);
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    for (const n of [1, 1, 1, 300, 1, 2, 700, 1])
      await a.append(lease, range.size, syntheticBatch(range, n, { inputs: inputsOf }));
    const expected = (k: number) =>
      Array.from({ length: range.size }, (_, i) => i).filter((i) => i % 5 === k);
    for (const store of [a, open(path)]) {
      for (let k = 0; k < 5; k++)
        expect((await store.getLeavesByInput([inputsOf(k)[0]!])).map((l) => l.index)).toEqual(expected(k));
    }
    const raw = new DatabaseSync(path, { readOnly: true });
    const rows = raw.prepare('SELECT start, length(links) AS bytes FROM downstream ORDER BY start').all();
    raw.close();
    // A batch joins the last row while that row holds fewer than 512 links (306 when the
    // batch of 700 came); the last event finds 1006 there and starts a row of its own.
    expect(rows).toEqual([
      { start: 0, bytes: 12 * 1006 },
      { start: 1006, bytes: 12 },
    ]);
  });

  it('a second instance on the same file sees the children the first appends after it loaded', async () => {
    const { writer: a, reader, lease, range } = await writerAndReader();
    const x = inputsOf(0)[0]!;
    await a.append(lease, 0, syntheticBatch(range, 10, { inputs: inputsOf }));
    expect((await reader.getLeavesByInput([x])).map((l) => l.index)).toEqual([0, 5]);
    await a.append(lease, 10, syntheticBatch(range, 1, { inputs: inputsOf }));
    await a.append(lease, 11, syntheticBatch(range, 10, { inputs: inputsOf }));
    expect((await reader.getLeavesByInput([x])).map((l) => l.index)).toEqual([0, 5, 10, 15, 20]);
    expect((await a.getLeavesByInput([x])).map((l) => l.index)).toEqual([0, 5, 10, 15, 20]);
  });

  it('stores a batch whose links come in any order in ledger index order', async () => {
    const path = tempPath();
    const a = open(path);
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const batch = syntheticBatch(range, 12, { inputs: inputsOf });
    batch.lineage.reverse();
    await a.append(lease, 0, batch);
    expect((await open(path).getLeavesByInput([inputsOf(1)[0]!])).map((l) => l.index)).toEqual([1, 6, 11]);
    const raw = new DatabaseSync(path, { readOnly: true });
    const { links } = raw.prepare('SELECT links FROM downstream').get() as { links: Uint8Array };
    raw.close();
    const order = Array.from({ length: links.length / 12 }, (_, i) =>
      Buffer.from(links).readUIntBE(12 * i + 6, 6),
    );
    expect(order).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('compares the full hash when input key prefixes collide', async () => {
    const path = tempPath();
    const a = open(path, { lookupKeyBits: 4 });
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    // With 4-bit keys, inputs 0... and 0f... collide; only the leaves naming the hash asked for answer.
    const twin = (i: number) => [i % 2 === 0 ? '0'.repeat(64) : `0${'f'.repeat(63)}`];
    await a.append(lease, 0, syntheticBatch(range, 8, { inputs: twin }));
    expect((await a.getLeavesByInput(['0'.repeat(64)])).map((l) => l.index)).toEqual([0, 2, 4, 6]);
    expect((await a.getLeavesByInput([`0${'f'.repeat(63)}`])).map((l) => l.index)).toEqual([1, 3, 5, 7]);
  });

  it('never shows links beyond the head, and a new writer drops them', async () => {
    const path = tempPath();
    const a = open(path);
    const lease = await a.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const x = inputsOf(0)[0]!;
    await a.append(lease, 0, syntheticBatch(range, 10, { inputs: inputsOf }));
    // What a writer without transactions could leave behind: the last row extended past the
    // head, and a row beyond it (links naming x at 10 and 15).
    const link = (index: number) => {
      const b = Buffer.alloc(12);
      b.write(x.slice(0, 12), 0, 6, 'hex');
      b.writeUIntBE(index, 6, 6);
      return b;
    };
    const raw = new DatabaseSync(path);
    const row = raw.prepare('SELECT links FROM downstream WHERE start = 0').get() as { links: Uint8Array };
    raw.prepare('UPDATE downstream SET links = ? WHERE start = 0').run(Buffer.concat([row.links, link(10)]));
    raw.prepare('INSERT INTO downstream VALUES (15, ?)').run(link(15));
    raw.close();
    const reader = open(path);
    expect((await reader.getLeavesByInput([x])).map((l) => l.index)).toEqual([0, 5]);
    const b = open(path);
    const lease2 = await b.acquireWriter({ owner: 'writer-b', ttlMs: 60_000, now: Date.now() + 120_000 });
    const check = new DatabaseSync(path, { readOnly: true });
    expect(check.prepare('SELECT start, length(links) AS bytes FROM downstream').all()).toEqual([
      { start: 0, bytes: 12 * 10 },
    ]);
    check.close();
    await b.append(lease2, 10, syntheticBatch(range, 10, { inputs: inputsOf }));
    expect((await reader.getLeavesByInput([x])).map((l) => l.index)).toEqual([0, 5, 10, 15]);
  });
});
