// The embedded store: one SQLite file (node:sqlite), WAL and synchronous=FULL, so a commit
// that returned survives a crash or a power cut. SQLite has transactions, so a batch (rows
// and head) commits atomically; it still follows the contract's shape (rows bounded by the
// head, epoch compare-and-set) so that it behaves exactly like the MongoDB adapter.
//
// Lookups by event hash: a unique index on a random 32-byte key costs about 4x insert
// throughput here. Instead each leaf row carries `hkey`, the first 48 bits of its event
// hash as an INTEGER (8-byte keys, a non-unique index); a lookup reads the few rows with
// that key and compares the full hash. Chains are found through (chain, seq).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { emptyRoot, type NodeId } from '@civic-ledger/merkle';
import { checkBatch, hashKey, nodeWithin } from './batch.ts';
import { StorageError } from './errors.ts';
import type {
  AcquireOptions,
  AppendBatch,
  ChainEntry,
  CheckpointRecord,
  LeafRecord,
  LedgerHead,
  LedgerStore,
  RegistryRecord,
  WriterLease,
} from './types.ts';

export interface SqliteStoreOptions {
  /** Database file path, or ':memory:' (tests). */
  path: string;
  /** Test hook: runs after a batch's rows are written and before its head moves. */
  beforeHeadUpdate?: () => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL, root BLOB NOT NULL, epoch INTEGER NOT NULL,
  owner TEXT, expires INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS leaves (
  idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL, lhash BLOB,
  ehash TEXT NOT NULL, hkey INTEGER NOT NULL, chain TEXT NOT NULL, seq INTEGER NOT NULL
);
-- Interior nodes only; leaf hashes (level 0) live in leaves.lhash, saving a row per entry.
CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS registry (
  idx INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, org TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, created INTEGER NOT NULL);
`;

// Secondary indexes are derived data: dropped and rebuilt with the derived rows.
const INDEXES = `
CREATE INDEX IF NOT EXISTS leaves_hkey ON leaves(hkey);
CREATE INDEX IF NOT EXISTS leaves_chain ON leaves(chain, seq);
CREATE INDEX IF NOT EXISTS registry_id ON registry(id, idx);
`;

interface LeafRow {
  idx: number;
  leaf: Uint8Array;
  ehash: string;
  chain: string;
  seq: number;
}

function toLeaf(r: LeafRow): LeafRecord {
  return { index: r.idx, leaf: r.leaf, eventHash: r.ehash, chain: r.chain, seq: r.seq };
}

export class SqliteStore implements LedgerStore {
  readonly #db: DatabaseSync;
  readonly #hook: (() => void) | undefined;
  #closed = false;
  readonly #s: Record<string, StatementSync>;

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new DatabaseSync(options.path);
    this.#hook = options.beforeHeadUpdate;
    // WAL + FULL: a returned commit survives power loss. A 64 MiB page cache keeps the
    // lookup indexes (random 48-bit keys) in memory, so inserts do not thrash the disk.
    this.#db.exec(
      'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -65536;',
    );
    this.#db.exec(SCHEMA);
    this.#db.exec(INDEXES);
    this.#db
      .prepare('INSERT OR IGNORE INTO head (id, size, root, epoch) VALUES (1, 0, ?, 0)')
      .run(emptyRoot());
    const p = (sql: string) => this.#db.prepare(sql);
    this.#s = {
      head: p('SELECT size, root, epoch, owner, expires FROM head WHERE id = 1'),
      takeLease: p('UPDATE head SET epoch = epoch + 1, owner = ?, expires = ? WHERE id = 1 AND epoch = ?'),
      renewLease: p('UPDATE head SET expires = ? WHERE id = 1 AND epoch = ? AND owner = ?'),
      moveHead: p('UPDATE head SET size = ?, root = ? WHERE id = 1 AND size = ? AND epoch = ?'),
      insertLeaf: p(
        'INSERT OR REPLACE INTO leaves (idx, leaf, lhash, ehash, hkey, chain, seq) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      setLeafHash: p('UPDATE leaves SET lhash = ? WHERE idx = ?'),
      insertNode: p('INSERT OR REPLACE INTO nodes (id, hash) VALUES (?, ?)'),
      insertRegistry: p('INSERT INTO registry (idx, kind, id, org, data) VALUES (?, ?, ?, ?, ?)'),
      leaves: p('SELECT idx, leaf, ehash, chain, seq FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx'),
      byHkey: p('SELECT idx, leaf, ehash, chain, seq FROM leaves WHERE hkey = ? AND idx < ?'),
      chainEntry: p('SELECT idx, ehash, seq FROM leaves WHERE chain = ? AND seq = ? AND idx < ?'),
      chainHead: p(
        'SELECT idx, ehash, seq FROM leaves WHERE chain = ? AND idx < ? ORDER BY seq DESC LIMIT 1',
      ),
      registryAll: p('SELECT idx, kind, id, org, data FROM registry WHERE idx < ? ORDER BY idx'),
      registryOf: p('SELECT idx, kind, id, org, data FROM registry WHERE id = ? AND idx < ? ORDER BY idx'),
      putCheckpoint: p('INSERT OR IGNORE INTO checkpoints (size, note, created) VALUES (?, ?, ?)'),
      checkpoint: p('SELECT size, note, created FROM checkpoints WHERE size = ?'),
      latestCheckpoint: p('SELECT size, note, created FROM checkpoints ORDER BY size DESC LIMIT 1'),
      checkpoints: p(
        'SELECT size, note, created FROM checkpoints WHERE size >= ? AND size <= ? ORDER BY size',
      ),
    };
  }

  #open(): void {
    if (this.#closed) throw new StorageError('CLOSED', 'the store is closed');
  }

  #headRow(): { size: number; root: Uint8Array; epoch: number; owner: string | null; expires: number } {
    return this.#s['head']!.get() as never;
  }

  #tx<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  async head(): Promise<LedgerHead> {
    this.#open();
    const h = this.#headRow();
    return { size: h.size, rootHash: h.root, epoch: h.epoch };
  }

  async acquireWriter(options: AcquireOptions): Promise<WriterLease> {
    this.#open();
    const now = options.now ?? Date.now();
    return this.#tx(() => {
      const h = this.#headRow();
      if (
        h.owner !== null &&
        h.owner !== options.owner &&
        h.expires > now &&
        !(options.holderIsGone?.(h.owner) ?? false)
      ) {
        throw new StorageError(
          'LEASE_HELD',
          `writer lease held by ${h.owner} until ${new Date(h.expires).toISOString()}`,
        );
      }
      const expiresAt = now + options.ttlMs;
      const r = this.#s['takeLease']!.run(options.owner, expiresAt, h.epoch);
      if (r.changes !== 1)
        throw new StorageError('STALE_WRITER', 'another writer took the lease concurrently');
      // Recovery: rows beyond the head belong to no committed batch.
      this.#db.prepare('DELETE FROM leaves WHERE idx >= ?').run(h.size);
      this.#db.prepare('DELETE FROM registry WHERE idx >= ?').run(h.size);
      this.#db.prepare('DELETE FROM nodes WHERE id >= ?').run(2 * h.size);
      return { epoch: h.epoch + 1, owner: options.owner, expiresAt };
    });
  }

  async renewWriter(lease: WriterLease, options: AcquireOptions): Promise<WriterLease> {
    this.#open();
    const expiresAt = (options.now ?? Date.now()) + options.ttlMs;
    const r = this.#s['renewLease']!.run(expiresAt, lease.epoch, lease.owner);
    if (r.changes !== 1)
      throw new StorageError('STALE_WRITER', `lease epoch ${lease.epoch} is no longer current`);
    return { ...lease, expiresAt };
  }

  async releaseWriter(lease: WriterLease): Promise<void> {
    this.#open();
    this.#db
      .prepare('UPDATE head SET owner = NULL, expires = 0 WHERE id = 1 AND epoch = ? AND owner = ?')
      .run(lease.epoch, lease.owner);
  }

  async append(lease: WriterLease, expectedSize: number, batch: AppendBatch): Promise<LedgerHead> {
    this.#open();
    checkBatch(expectedSize, batch);
    const newSize = expectedSize + batch.leaves.length;
    return this.#tx(() => {
      const h = this.#headRow();
      if (h.epoch !== lease.epoch)
        throw new StorageError('STALE_WRITER', `writer epoch ${lease.epoch} was fenced by ${h.epoch}`);
      if (h.size !== expectedSize)
        throw new StorageError('SIZE_CONFLICT', `head is at ${h.size}, batch expects ${expectedSize}`);
      this.#writeRows(batch, true);
      this.#hook?.();
      const r = this.#s['moveHead']!.run(newSize, batch.rootHash, expectedSize, lease.epoch);
      if (r.changes !== 1) throw new StorageError('STALE_WRITER', 'head moved underneath the batch');
      return { size: newSize, rootHash: batch.rootHash, epoch: lease.epoch };
    });
  }

  #writeRows(batch: AppendBatch, withLeaves: boolean): void {
    const { ids, hashes } = batch.nodes;
    // Leaf hashes (even node ids) go into their leaf row.
    const leafHashes = new Map<number, Uint8Array>();
    for (let i = 0; i < ids.length; i++) if (ids[i]! % 2 === 0) leafHashes.set(ids[i]! / 2, hashes[i]!);
    if (withLeaves) {
      const rows: unknown[][] = [];
      for (const l of batch.leaves) {
        rows.push([
          l.index,
          l.leaf,
          leafHashes.get(l.index) ?? null,
          l.eventHash,
          hashKey(l.eventHash),
          l.chain,
          l.seq,
        ]);
        leafHashes.delete(l.index);
      }
      this.#insertMany('leaves (idx, leaf, lhash, ehash, hkey, chain, seq)', 7, rows);
    }
    const setLeafHash = this.#s['setLeafHash']!;
    for (const [index, hash] of leafHashes) setLeafHash.run(hash, index);
    const nodeRows: unknown[][] = [];
    for (let i = 0; i < ids.length; i++) if (ids[i]! % 2 === 1) nodeRows.push([ids[i]!, hashes[i]!]);
    this.#insertMany('nodes (id, hash)', 2, nodeRows);
    const reg = this.#s['insertRegistry']!;
    for (const r of batch.registry) reg.run(r.index, r.kind, r.id, r.org, r.data);
  }

  // Multi-row INSERTs: one statement call per ROWS_PER_INSERT rows instead of per row
  // (the per-call binding overhead dominates small rows).
  readonly #multi = new Map<string, StatementSync>();
  #insertMany(target: string, columns: number, rows: unknown[][]): void {
    const ROWS_PER_INSERT = 64;
    let i = 0;
    while (i < rows.length) {
      const n = Math.min(ROWS_PER_INSERT, rows.length - i);
      const key = `${target}#${n}`;
      let stmt = this.#multi.get(key);
      if (stmt === undefined) {
        const tuple = `(${Array.from({ length: columns }, () => '?').join(',')})`;
        stmt = this.#db.prepare(
          `INSERT OR REPLACE INTO ${target} VALUES ${Array.from({ length: n }, () => tuple).join(',')}`,
        );
        this.#multi.set(key, stmt);
      }
      const params: unknown[] = [];
      for (let k = i; k < i + n; k++) for (const v of rows[k]!) params.push(v);
      stmt.run(...(params as never[]));
      i += n;
    }
  }

  async getLeaves(from: number, to: number): Promise<LeafRecord[]> {
    this.#open();
    const size = this.#headRow().size;
    const rows = this.#s['leaves']!.all(Math.max(0, from), Math.min(to, size)) as unknown as LeafRow[];
    return rows.map(toLeaf);
  }

  async getLeavesByEventHash(hashes: readonly string[]): Promise<LeafRecord[]> {
    this.#open();
    const size = this.#headRow().size;
    const out: LeafRecord[] = [];
    const want = new Set(hashes);
    for (const h of want) {
      if (!/^[0-9a-f]{64}$/.test(h)) continue;
      for (const row of this.#s['byHkey']!.all(hashKey(h), size) as unknown as LeafRow[]) {
        if (row.ehash === h) out.push(toLeaf(row));
      }
    }
    return out;
  }

  async getChainEntry(chain: string, seq: number): Promise<ChainEntry | undefined> {
    this.#open();
    const r = this.#s['chainEntry']!.get(chain, seq, this.#headRow().size) as
      { idx: number; ehash: string; seq: number } | undefined;
    return r && { seq: r.seq, eventHash: r.ehash, index: r.idx };
  }

  async getChainHead(chain: string): Promise<ChainEntry | undefined> {
    this.#open();
    const r = this.#s['chainHead']!.get(chain, this.#headRow().size) as
      { idx: number; ehash: string; seq: number } | undefined;
    return r && { seq: r.seq, eventHash: r.ehash, index: r.idx };
  }

  async getNodes(ids: readonly NodeId[]): Promise<Array<Uint8Array | undefined>> {
    this.#open();
    return this.getNodesSync(ids);
  }

  /**
   * Synchronous node reads (a merkle SyncNodeReader). All the nodes of a proof are read
   * with at most two queries (interior nodes, leaf hashes), not one query per node.
   */
  getNodesSync(ids: readonly NodeId[]): Array<Uint8Array | undefined> {
    const size = this.#headRow().size;
    const interior: number[] = [];
    const leaves: number[] = [];
    for (const id of ids) {
      if (!nodeWithin(id, size)) continue;
      if (id % 2 === 0) leaves.push(id / 2);
      else interior.push(id);
    }
    const found = new Map<number, Uint8Array>();
    for (const r of this.#selectIn('SELECT id, hash FROM nodes WHERE id IN', interior) as {
      id: number;
      hash: Uint8Array;
    }[]) {
      found.set(r.id, r.hash);
    }
    for (const r of this.#selectIn('SELECT idx, lhash FROM leaves WHERE idx IN', leaves) as {
      idx: number;
      lhash: Uint8Array | null;
    }[]) {
      if (r.lhash) found.set(r.idx * 2, r.lhash);
    }
    return ids.map((id) => (nodeWithin(id, size) ? found.get(id) : undefined));
  }

  readonly #inStatements = new Map<string, StatementSync>();
  #selectIn(prefix: string, values: number[]): unknown[] {
    if (values.length === 0) return [];
    const key = `${prefix}#${values.length}`;
    let stmt = this.#inStatements.get(key);
    if (stmt === undefined) {
      stmt = this.#db.prepare(`${prefix} (${values.map(() => '?').join(',')})`);
      this.#inStatements.set(key, stmt);
    }
    return stmt.all(...values);
  }

  async getRegistry(id?: string): Promise<RegistryRecord[]> {
    this.#open();
    const size = this.#headRow().size;
    const rows = (id === undefined
      ? this.#s['registryAll']!.all(size)
      : this.#s['registryOf']!.all(id, size)) as unknown as {
      idx: number;
      kind: RegistryRecord['kind'];
      id: string;
      org: string;
      data: string;
    }[];
    return rows.map((r) => ({ index: r.idx, kind: r.kind, id: r.id, org: r.org, data: r.data }));
  }

  async putCheckpoint(cp: CheckpointRecord): Promise<void> {
    this.#open();
    this.#s['putCheckpoint']!.run(cp.size, cp.note, cp.createdAt);
    const stored = this.#s['checkpoint']!.get(cp.size) as { note: string };
    if (stored.note !== cp.note) {
      throw new StorageError('CHECKPOINT_CONFLICT', `a different checkpoint is stored for size ${cp.size}`);
    }
  }

  async getCheckpoint(size: number): Promise<CheckpointRecord | undefined> {
    this.#open();
    const r = this.#s['checkpoint']!.get(size) as { size: number; note: string; created: number } | undefined;
    return r && { size: r.size, note: r.note, createdAt: r.created };
  }

  async latestCheckpoint(): Promise<CheckpointRecord | undefined> {
    this.#open();
    const r = this.#s['latestCheckpoint']!.get() as
      { size: number; note: string; created: number } | undefined;
    return r && { size: r.size, note: r.note, createdAt: r.created };
  }

  async listCheckpoints(from: number, to: number): Promise<CheckpointRecord[]> {
    this.#open();
    const rows = this.#s['checkpoints']!.all(from, to) as { size: number; note: string; created: number }[];
    return rows.map((r) => ({ size: r.size, note: r.note, createdAt: r.created }));
  }

  async dropDerived(lease: WriterLease): Promise<void> {
    this.#open();
    this.#tx(() => {
      if (this.#headRow().epoch !== lease.epoch) throw new StorageError('STALE_WRITER', 'fenced');
      this.#db.exec('DELETE FROM nodes; DELETE FROM registry; UPDATE leaves SET lhash = NULL;');
      this.#db.exec(
        'DROP INDEX IF EXISTS leaves_hkey; DROP INDEX IF EXISTS leaves_chain; DROP INDEX IF EXISTS registry_id;',
      );
      // The lookup columns of leaves are derived too: blank them so a rebuild must recompute them.
      this.#db.exec("UPDATE leaves SET ehash = '', hkey = 0, chain = '', seq = 0;");
    });
  }

  async writeDerived(lease: WriterLease, batch: AppendBatch): Promise<void> {
    this.#open();
    this.#tx(() => {
      if (this.#headRow().epoch !== lease.epoch) throw new StorageError('STALE_WRITER', 'fenced');
      const upd = this.#db.prepare('UPDATE leaves SET ehash = ?, hkey = ?, chain = ?, seq = ? WHERE idx = ?');
      for (const l of batch.leaves) upd.run(l.eventHash, hashKey(l.eventHash), l.chain, l.seq, l.index);
      this.#writeRows(batch, false);
      this.#db.exec(INDEXES);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
