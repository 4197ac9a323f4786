// The embedded store: one SQLite file (node:sqlite), WAL and synchronous=FULL, so a commit
// that returned survives a crash or a power cut. SQLite has transactions, so a batch (rows
// and head) commits atomically; it still follows the contract's shape (rows bounded by the
// head, epoch compare-and-set) so that it behaves exactly like the MongoDB adapter.
//
// Lookups by event hash and by chain position keep no B-tree on disk: an index keyed by a
// random hash dirties most of its pages on every commit (WAL writes each twice), and one
// keyed by (chain, seq) dirties a page per chain in the batch (measured: the first took
// inserts to ~1/3, the second cost 15-20 % more with 4 chains, about half with 100-200
// chains). Instead each batch appends one `lookups`
// row, keyed by its first ledger index: the first 6 bytes of each event hash, and each
// entry's chain and seq. In memory, a HashIndex (48-bit hash prefix -> ledger indexes) and
// a ChainIndex (chain -> ledger indexes by seq) are loaded from those rows on first use and
// caught up from them (rows at or past what they hold, below the head) before every
// lookup, so another process's appends are seen. A lookup names candidate rows; each is
// read by primary key and checked against its stored event hash, chain and seq.
// Downstream lineage (which leaves name a hash among their inputs) is kept the same way:
// append-only `downstream` rows, a multimap in memory (sqlite-downstream.ts).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { isHex64 } from '@civic-ledger/crypto/portable';
import { emptyRoot, nodeCoverage, nodeLevel, type NodeId } from '@civic-ledger/merkle';
import { checkBatch } from './batch.ts';
import { ChainIndex } from './chain-index.ts';
import { StorageError } from './errors.ts';
import { HashIndex, keyParts } from './hash-index.ts';
import { DownstreamIndex, linkIndex, LINK_BYTES, packLinks } from './sqlite-downstream.ts';
import { trailingOnes, UPPER_LEVEL, UpperNodes } from './sqlite-upper.ts';
import { WriterThread } from './sqlite-writer.ts';
import type {
  AcquireOptions,
  AppendBatch,
  ChainEntry,
  CheckpointRecord,
  LeafRecord,
  LedgerHead,
  LedgerStore,
  LineageLink,
  RegistryRecord,
  WriterLease,
} from './types.ts';

export interface SqliteStoreOptions {
  /** Database file path, or ':memory:' (tests). */
  path: string;
  /** Test hook: runs after a batch's rows are written and before its head moves. */
  beforeHeadUpdate?: () => void;
  /**
   * Test hook: bits of the 48-bit hash prefix the in-memory lookup compares (default 48).
   * Fewer bits force prefix collisions; what is stored does not change.
   */
  lookupKeyBits?: number;
  /**
   * Test hook: the lowest tree level kept in the `upper` table and in memory (default
   * UPPER_LEVEL, 8). A file keeps the level it was created with (recorded in the table).
   */
  upperLevel?: number;
  /**
   * Appends on a thread of their own (sqlite-writer.ts): the commit, fsync included, runs
   * while this thread goes on. Reads stay on this thread. Not for ':memory:'.
   */
  writerThread?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL, root BLOB NOT NULL, epoch INTEGER NOT NULL,
  owner TEXT, expires INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS leaves (
  idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL, lhash BLOB, inodes BLOB,
  ehash TEXT NOT NULL, chain TEXT NOT NULL, seq INTEGER NOT NULL
);
-- Derived, append-only: the lookup entries of ledger indexes start, start + 1, ...
-- keys: 6 bytes each (event hash prefix); chains: JSON array of the chain names used;
-- pos: 10 bytes each (uint16 position in chains, float64 seq), all big-endian.
CREATE TABLE IF NOT EXISTS lookups (
  start INTEGER PRIMARY KEY, keys BLOB NOT NULL, chains TEXT NOT NULL, pos BLOB NOT NULL
);
-- Tree nodes live in the leaf rows, no table of their own (a row per node cost ~15 % of
-- append time): lhash is the leaf hash (level 0); inodes the hashes of the perfect
-- subtrees that leaf completes, levels 1..t (t = trailing one bits of idx), 32 bytes each;
-- 32 zero bytes mark one not written.
-- Derived: a copy of the nodes of the upper levels (sqlite-upper.ts), one row per leaf that
-- completes one: its inodes from the lowest of those levels up. Held in memory for proofs.
-- Row -1 holds that level (one byte), fixed when the table is made.
CREATE TABLE IF NOT EXISTS upper (idx INTEGER PRIMARY KEY, nodes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS registry (
  idx INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, org TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, created INTEGER NOT NULL);
`;

// Derived, append-only: downstream lineage (sqlite-downstream.ts). links: 12 bytes per link
// of the leaves from start on, in ledger index order: the 48-bit key of an input's event
// hash (a prefix, as in lookups: readers confirm the full hash in the leaf), then the
// ledger index of the leaf naming it, both big-endian. Made with its rows in one
// transaction (#openDownstream), so no process sees it before they are all there.
const DOWNSTREAM = 'CREATE TABLE downstream (start INTEGER PRIMARY KEY, links BLOB NOT NULL)';

// Secondary indexes are derived data: dropped and rebuilt with the derived rows.
const INDEXES = `
CREATE INDEX IF NOT EXISTS registry_id ON registry(id, idx);
`;

const HASH_BYTES = 32;
const KEY_BYTES = 6;
const POS_BYTES = 10;
/** A batch smaller than this many entries joins the last `lookups` row. */
const MERGE_BELOW = 512;
/** Entries per `lookups` row at most (so that a row names < 65536 chains). */
const MAX_ROW = 60_000;

interface LeafRow {
  idx: number;
  leaf: Uint8Array;
  ehash: string;
  chain: string;
  seq: number;
}

interface LookupRow {
  start: number;
  keys: Uint8Array;
  chains: string;
  pos: Uint8Array;
}

/**
 * A batch's nodes by the leaf row they go in: leaf hashes by index, and interior nodes
 * into the `inodes` of the leaf that completes them (the last leaf they cover).
 */
function groupNodes(nodes: AppendBatch['nodes']): {
  lhashes: Map<number, Uint8Array>;
  inodes: Map<number, Buffer>;
} {
  const lhashes = new Map<number, Uint8Array>();
  const inodes = new Map<number, Buffer>();
  for (let i = 0; i < nodes.ids.length; i++) {
    const id = nodes.ids[i]!;
    if (id % 2 === 0) {
      lhashes.set(id / 2, nodes.hashes[i]!);
      continue;
    }
    const owner = nodeCoverage(id)[1] - 1;
    let b = inodes.get(owner);
    if (b === undefined) {
      // From Buffer's shared pool (a zeroed slice): a separate ArrayBuffer per row costs
      // more to allocate and collect than the copy SQLite makes of it.
      b = Buffer.allocUnsafe(trailingOnes(owner) * HASH_BYTES).fill(0);
      inodes.set(owner, b);
    }
    b.set(nodes.hashes[i]!, (nodeLevel(id) - 1) * HASH_BYTES);
  }
  return { lhashes, inodes };
}

function isZero(b: Uint8Array, offset: number): boolean {
  for (let i = offset; i < offset + HASH_BYTES; i++) if (b[i] !== 0) return false;
  return true;
}

/** The inputs a stored leaf's event names (none for governance events). */
function leafInputs(leaf: Uint8Array): string[] {
  const inputs = (JSON.parse(new TextDecoder().decode(leaf)) as { event?: { inputs?: unknown } }).event
    ?.inputs;
  return Array.isArray(inputs) ? inputs.filter((h): h is string => typeof h === 'string') : [];
}

function toLeaf(r: LeafRow): LeafRecord {
  return { index: r.idx, leaf: r.leaf, eventHash: r.ehash, chain: r.chain, seq: r.seq };
}

/** The `lookups` columns of consecutive entries, continuing `prior` (a row being extended). */
function packLookups(
  entries: readonly { eventHash: string; chain: string; seq: number }[],
  prior?: LookupRow,
): { keys: Buffer; chains: string; pos: Buffer } {
  const names: string[] = prior ? (JSON.parse(prior.chains) as string[]) : [];
  const ids = new Map(names.map((n, i) => [n, i]));
  const keys = Buffer.alloc(entries.length * KEY_BYTES);
  const pos = Buffer.alloc(entries.length * POS_BYTES);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    keys.write(e.eventHash.slice(0, 2 * KEY_BYTES), i * KEY_BYTES, 'hex');
    let c = ids.get(e.chain);
    if (c === undefined) {
      c = names.length;
      names.push(e.chain);
      ids.set(e.chain, c);
    }
    pos.writeUInt16BE(c, i * POS_BYTES);
    pos.writeDoubleBE(e.seq, i * POS_BYTES + 2);
  }
  return {
    keys: prior ? Buffer.concat([prior.keys, keys]) : keys,
    chains: JSON.stringify(names),
    pos: prior ? Buffer.concat([prior.pos, pos]) : pos,
  };
}

/** The in-memory lookups; both hold exactly the ledger indexes below `hashes.size`. */
interface Lookups {
  hashes: HashIndex;
  chains: ChainIndex;
}

export class SqliteStore implements LedgerStore {
  readonly #db: DatabaseSync;
  readonly #hook: (() => void) | undefined;
  readonly #keyBits: number | undefined;
  #closed = false;
  readonly #s: Record<string, StatementSync>;
  /** Loaded on first use; only ever holds committed entries (below some head). */
  #mem: Lookups | undefined;
  /** The upper levels of the tree, loaded on the first node read; only committed nodes. */
  #upper: UpperNodes | undefined;
  /** Downstream links, loaded on the first lookup by input; only committed links. */
  #down: DownstreamIndex | undefined;
  /** The lowest level of `upper` in this file. */
  readonly #upperLevel: number;
  /** Started on the first append when the options ask for one. */
  #writer: WriterThread | undefined;
  readonly #writerOptions: SqliteStoreOptions | undefined;

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new DatabaseSync(options.path);
    this.#hook = options.beforeHeadUpdate;
    this.#keyBits = options.lookupKeyBits;
    if (options.writerThread) {
      if (options.path === ':memory:') throw new Error('writerThread needs a database file, not :memory:');
      this.#writerOptions = options;
    }
    // 16 KiB pages (new files only; SQLite ignores it once the file has tables): rows of
    // ~800 bytes waste less of a page and a commit writes fewer, larger WAL frames (~25 %
    // more appends/s than 4 KiB here). With no random index left, appends touch only the
    // tails of the tables, so a 32 MiB page cache is plenty (proof reads hit the OS cache).
    // WAL + FULL: a returned commit survives power loss.
    // Reads through a memory map of the file (up to 1 GiB): a proof's rows are found by
    // B-tree descents scattered over the file, which cost a read() and a copy per page
    // missing from the page cache, and none mapped (measured: ~2-3x faster proof reads).
    // Writes still go through the WAL.
    this.#db.exec(
      'PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -32768; PRAGMA mmap_size = 1073741824;',
    );
    const hadLeaves = this.#hasTable('leaves');
    this.#db.exec(SCHEMA);
    this.#migrate();
    if (!this.#hasTable('downstream')) this.#openDownstream();
    const level = (
      this.#db.prepare('SELECT nodes FROM upper WHERE idx = -1').get() as { nodes: Uint8Array } | undefined
    )?.nodes[0];
    this.#upperLevel = level ?? options.upperLevel ?? UPPER_LEVEL;
    if (level === undefined) this.#backfillUpper(hadLeaves);
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
      setLeafHash: p('UPDATE leaves SET lhash = ? WHERE idx = ?'),
      putUpper: p('INSERT OR REPLACE INTO upper (idx, nodes) VALUES (?, ?)'),
      upperFrom: p('SELECT idx, nodes FROM upper WHERE idx >= ? AND idx < ? ORDER BY idx'),
      ...this.#nodeStatements(),
      insertRegistry: p('INSERT INTO registry (idx, kind, id, org, data) VALUES (?, ?, ?, ?, ?)'),
      leaves: p('SELECT idx, leaf, ehash, chain, seq FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx'),
      position: p('SELECT ehash, chain, seq FROM leaves WHERE idx = ?'),
      lastLookups: p('SELECT start, length(keys) AS bytes FROM lookups ORDER BY start DESC LIMIT 1'),
      lookupsAt: p('SELECT start, keys, chains, pos FROM lookups WHERE start = ?'),
      putLookups: p('INSERT OR REPLACE INTO lookups (start, keys, chains, pos) VALUES (?, ?, ?, ?)'),
      // The row holding index ?1 (or the first after it) and every later one below the head.
      lookupsFrom: p(
        `SELECT start, keys, chains, pos FROM lookups
         WHERE start >= coalesce((SELECT max(start) FROM lookups WHERE start <= ?1), 0) AND start < ?2
         ORDER BY start`,
      ),
      lastDownstream: p('SELECT start, links FROM downstream ORDER BY start DESC LIMIT 1'),
      putDownstream: p('INSERT OR REPLACE INTO downstream (start, links) VALUES (?, ?)'),
      // The row holding links of index ?1 (or the first after it) and every later one below the head.
      downstreamFrom: p(
        `SELECT links FROM downstream
         WHERE start >= coalesce((SELECT max(start) FROM downstream WHERE start <= ?1), 0) AND start < ?2
         ORDER BY start`,
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

  // Files of the earlier layout kept a leaves.hkey column with B-tree indexes on hkey and
  // (chain, seq), and interior nodes in a `nodes` table: write their `lookups` rows and move
  // the nodes into the leaf rows, once, then drop the indexes, the column and the table.
  #migrate(): void {
    const layout = () => {
      const columns = (this.#db.prepare('PRAGMA table_info(leaves)').all() as { name: string }[]).map(
        (c) => c.name,
      );
      const nodes = this.#db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'nodes'")
        .get();
      return {
        hkey: columns.includes('hkey'),
        inodes: columns.includes('inodes'),
        nodes: nodes !== undefined,
      };
    };
    const first = layout();
    if (!first.hkey && first.inodes && !first.nodes) return;
    this.#tx(() => {
      const now = layout(); // another process may have migrated it meanwhile
      if (now.hkey) this.#migrateLookups();
      if (!now.inodes) this.#db.exec('ALTER TABLE leaves ADD COLUMN inodes BLOB');
      if (now.nodes) {
        const ids: NodeId[] = [];
        const hashes: Uint8Array[] = [];
        for (const r of this.#db.prepare('SELECT id, hash FROM nodes').all() as unknown as {
          id: number;
          hash: Uint8Array;
        }[]) {
          ids.push(r.id);
          hashes.push(r.hash);
        }
        this.#updateNodes(groupNodes({ ids, hashes }).inodes, this.#nodeStatements());
        this.#db.exec('DROP TABLE nodes');
      }
      if (now.hkey)
        this.#db.exec(
          'DROP INDEX IF EXISTS leaves_hkey; DROP INDEX IF EXISTS leaves_chain; ALTER TABLE leaves DROP COLUMN hkey;',
        );
    });
  }

  #hasTable(name: string): boolean {
    return (
      this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
      undefined
    );
  }

  // The `downstream` table, made in one transaction with the rows derived from the leaves
  // of a file written before it existed (with no lineage rows, or with the earlier
  // `lineage` table keyed by input hash, dropped here). Another process opening the file
  // meanwhile waits for the transaction, then finds the table whole. The statements are
  // prepared here: #s is not set up yet.
  #openDownstream(): void {
    this.#tx(() => {
      if (this.#hasTable('downstream')) return; // another process made it meanwhile
      this.#db.exec(DOWNSTREAM);
      this.#db.exec('DROP TABLE IF EXISTS lineage');
      const size =
        (this.#db.prepare('SELECT size FROM head WHERE id = 1').get() as { size: number } | undefined)
          ?.size ?? 0;
      const read = this.#db.prepare('SELECT idx, leaf FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx');
      const put = this.#db.prepare('INSERT OR REPLACE INTO downstream (start, links) VALUES (?, ?)');
      for (let start = 0; start < size; start += MAX_ROW) {
        const rows = read.all(start, Math.min(size, start + MAX_ROW)) as unknown as {
          idx: number;
          leaf: Uint8Array;
        }[];
        const links: LineageLink[] = [];
        for (const r of rows) for (const input of leafInputs(r.leaf)) links.push({ input, index: r.idx });
        if (links.length > 0) put.run(links[0]!.index, packLinks(links));
      }
    });
  }

  // A new `upper` table: record its level, and in a file written before it existed copy
  // those nodes from the leaf rows, once.
  #backfillUpper(hadLeaves: boolean): void {
    const level = this.#upperLevel;
    this.#tx(() => {
      this.#db.prepare('INSERT INTO upper (idx, nodes) VALUES (-1, ?)').run(Uint8Array.of(level));
      if (!hadLeaves) return;
      const size =
        (this.#db.prepare('SELECT size FROM head WHERE id = 1').get() as { size: number } | undefined)
          ?.size ?? 0;
      const read = this.#db.prepare('SELECT inodes FROM leaves WHERE idx = ?');
      const put = this.#db.prepare('INSERT OR REPLACE INTO upper (idx, nodes) VALUES (?, ?)');
      for (let idx = 2 ** level - 1; idx < size; idx += 2 ** level) {
        const r = read.get(idx) as { inodes: Uint8Array | null } | undefined;
        const from = (level - 1) * HASH_BYTES;
        if (r?.inodes && r.inodes.length > from) put.run(idx, r.inodes.subarray(from));
      }
    });
  }

  #migrateLookups(): void {
    const head = this.#db.prepare('SELECT size FROM head WHERE id = 1').get() as { size: number } | undefined;
    const size = head?.size ?? 0;
    const put = this.#db.prepare('INSERT INTO lookups (start, keys, chains, pos) VALUES (?, ?, ?, ?)');
    const read = this.#db.prepare(
      'SELECT idx, ehash AS eventHash, chain, seq FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx',
    );
    for (let start = 0; start < size; start += MAX_ROW) {
      const rows = read.all(start, Math.min(size, start + MAX_ROW)) as unknown as (LeafRecord & {
        idx: number;
      })[];
      rows.forEach((r, i) => {
        if (r.idx !== start + i)
          throw new StorageError('CORRUPT', `leaf ${start + i} is missing below the head`);
      });
      if (rows.length !== Math.min(MAX_ROW, size - start))
        throw new StorageError('CORRUPT', `leaves are missing below the head at ${start + rows.length}`);
      const packed = packLookups(rows);
      put.run(start, packed.keys, packed.chains, packed.pos);
    }
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
      this.#db.prepare('DELETE FROM downstream WHERE start >= ?').run(h.size);
      this.#truncateDownstream(h.size);
      this.#db.prepare('DELETE FROM lookups WHERE start >= ?').run(h.size);
      this.#db.prepare('DELETE FROM upper WHERE idx >= ?').run(h.size);
      this.#db
        .prepare(
          `UPDATE lookups SET keys = substr(keys, 1, (?1 - start) * ${KEY_BYTES}),
             pos = substr(pos, 1, (?1 - start) * ${POS_BYTES})
           WHERE start = (SELECT max(start) FROM lookups) AND start + length(keys) / ${KEY_BYTES} > ?1`,
        )
        .run(h.size);
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
    if (this.#writerOptions !== undefined) {
      const head = await (this.#writer ??= new WriterThread(this.#writerOptions)).append(
        lease,
        expectedSize,
        batch,
      );
      // The upper nodes are read back from their rows on the next node read.
      this.#committed(expectedSize, newSize, batch, undefined);
      return head;
    }
    const committed = this.#tx(() => {
      const h = this.#headRow();
      if (h.epoch !== lease.epoch)
        throw new StorageError('STALE_WRITER', `writer epoch ${lease.epoch} was fenced by ${h.epoch}`);
      if (h.size !== expectedSize)
        throw new StorageError('SIZE_CONFLICT', `head is at ${h.size}, batch expects ${expectedSize}`);
      const upper = this.#writeRows(batch, true);
      this.#writeLookups(batch.leaves);
      this.#hook?.();
      const r = this.#s['moveHead']!.run(newSize, batch.rootHash, expectedSize, lease.epoch);
      if (r.changes !== 1) throw new StorageError('STALE_WRITER', 'head moved underneath the batch');
      return { head: { size: newSize, rootHash: batch.rootHash, epoch: lease.epoch }, upper };
    });
    this.#committed(expectedSize, newSize, batch, committed.upper);
    return committed.head;
  }

  /** After a commit: the in-memory indexes that are loaded and current take the batch. */
  #committed(
    expectedSize: number,
    newSize: number,
    batch: AppendBatch,
    upper: Map<number, Uint8Array> | undefined,
  ): void {
    // The upper nodes too, if this thread wrote them (otherwise the next node read catches
    // up from the rows).
    if (upper !== undefined && this.#upper !== undefined && this.#upper.loadedTo === expectedSize) {
      for (const [owner, nodes] of upper) this.#upper.putRow(owner, nodes);
      this.#upper.loadedTo = newSize;
    }
    if (this.#down !== undefined && this.#down.loadedTo === expectedSize)
      this.#down.add(batch.lineage, newSize);
    // Committed: extend the in-memory lookups if they are loaded and current (otherwise
    // the next lookup catches up from the rows).
    const mem = this.#mem;
    if (mem !== undefined && mem.hashes.size === expectedSize) {
      for (const l of batch.leaves) {
        const [hi, lo] = keyParts(l.eventHash);
        mem.hashes.push(hi, lo);
        mem.chains.add(l.chain, l.seq, l.index);
      }
      mem.hashes.flush();
    }
  }

  /** Writes a batch's rows; returns the `upper` rows it wrote (leaf index, nodes). */
  #writeRows(batch: AppendBatch, withLeaves: boolean): Map<number, Uint8Array> {
    const { lhashes, inodes } = groupNodes(batch.nodes);
    const upper = new Map<number, Uint8Array>();
    const putUpper = this.#s['putUpper']!;
    const level = this.#upperLevel;
    const keepUpper = (index: number, all: Uint8Array) => {
      if (trailingOnes(index) < level) return;
      const nodes = all.subarray((level - 1) * HASH_BYTES);
      putUpper.run(index, nodes);
      upper.set(index, nodes);
    };
    if (withLeaves) {
      const values: unknown[] = [];
      for (const l of batch.leaves) {
        values.push(
          l.index,
          l.leaf,
          lhashes.get(l.index) ?? null,
          inodes.get(l.index) ?? null,
          l.eventHash,
          l.chain,
          l.seq,
        );
        const own = inodes.get(l.index);
        if (own !== undefined) keepUpper(l.index, own);
        lhashes.delete(l.index);
        inodes.delete(l.index);
      }
      this.#insertMany('leaves (idx, leaf, lhash, inodes, ehash, chain, seq)', 7, values);
    }
    // Nodes of rows written earlier (rebuild).
    const setLeafHash = this.#s['setLeafHash']!;
    for (const [index, hash] of lhashes) setLeafHash.run(hash, index);
    this.#updateNodes(inodes, { inodesAt: this.#s['inodesAt']!, setInodes: this.#s['setInodes']! });
    for (const [index, merged] of inodes) keepUpper(index, merged);
    const reg = this.#s['insertRegistry']!;
    for (const r of batch.registry) reg.run(r.index, r.kind, r.id, r.org, r.data);
    this.#writeDownstream(batch.lineage);
    return upper;
  }

  /**
   * Writes the `downstream` links of a batch (ledger index order, after every link written
   * before): a new row, or the last one extended while it holds few (single events).
   */
  #writeDownstream(links: readonly LineageLink[]): void {
    if (links.length === 0) return;
    // The contract does not order a batch's links; a row keeps them in index order.
    let sorted = true;
    for (let i = 1; i < links.length && sorted; i++) sorted = links[i - 1]!.index <= links[i]!.index;
    const packed = packLinks(sorted ? links : [...links].sort((a, b) => a.index - b.index));
    const last = this.#s['lastDownstream']!.get() as { start: number; links: Uint8Array } | undefined;
    if (last !== undefined && last.links.length < MERGE_BELOW * LINK_BYTES)
      this.#s['putDownstream']!.run(last.start, Buffer.concat([last.links, packed]));
    else this.#s['putDownstream']!.run(linkIndex(packed, 0), packed);
  }

  /** Recovery: drops the links of the last `downstream` row at or beyond the head. */
  #truncateDownstream(size: number): void {
    const last = this.#s['lastDownstream']!.get() as { start: number; links: Uint8Array } | undefined;
    if (last === undefined) return;
    let n = last.links.length / LINK_BYTES;
    while (n > 0 && linkIndex(last.links, n - 1) >= size) n--;
    if (n < last.links.length / LINK_BYTES)
      this.#db
        .prepare('UPDATE downstream SET links = ? WHERE start = ?')
        .run(last.links.subarray(0, n * LINK_BYTES), last.start);
  }

  /** The in-memory downstream links of every leaf below `size` (loaded on first use). */
  #downstream(size: number): DownstreamIndex {
    let down = this.#down;
    if (down === undefined) {
      down = new DownstreamIndex(this.#keyBits === undefined ? {} : { keyBits: this.#keyBits });
      this.#down = down;
    }
    if (down.loadedTo < size) {
      const rows = this.#s['downstreamFrom']!.all(down.loadedTo, size) as { links: Uint8Array }[];
      down.load(
        rows.map((r) => r.links),
        size,
      );
    }
    return down;
  }

  #nodeStatements(): { inodesAt: StatementSync; setInodes: StatementSync } {
    return {
      inodesAt: this.#db.prepare('SELECT inodes FROM leaves WHERE idx = ?'),
      setInodes: this.#db.prepare('UPDATE leaves SET inodes = ? WHERE idx = ?'),
    };
  }

  /** Writes interior nodes into rows written earlier, keeping the ones they hold. */
  #updateNodes(inodes: Map<number, Buffer>, s: { inodesAt: StatementSync; setInodes: StatementSync }): void {
    for (const [index, fresh] of inodes) {
      const old = (s.inodesAt.get(index) as { inodes: Uint8Array | null } | undefined)?.inodes;
      if (old) {
        for (let o = 0; o + HASH_BYTES <= Math.min(old.length, fresh.length); o += HASH_BYTES) {
          if (isZero(fresh, o)) fresh.set(old.subarray(o, o + HASH_BYTES), o);
        }
      }
      s.setInodes.run(fresh, index);
    }
  }

  /** Writes the `lookups` rows of leaves: one per run of consecutive indexes. */
  #writeLookups(leaves: readonly LeafRecord[]): void {
    let i = 0;
    while (i < leaves.length) {
      let j = i + 1;
      while (j < leaves.length && j - i < MAX_ROW && leaves[j]!.index === leaves[j - 1]!.index + 1) j++;
      const start = leaves[i]!.index;
      // Small batches (single events) extend the last row, so that loading reads few rows.
      const last = this.#s['lastLookups']!.get() as { start: number; bytes: number } | undefined;
      const lastSize = last === undefined ? 0 : last.bytes / KEY_BYTES;
      const prior =
        last !== undefined && lastSize < MERGE_BELOW && last.start + lastSize === start
          ? (this.#s['lookupsAt']!.get(last.start) as unknown as LookupRow)
          : undefined;
      const packed = packLookups(leaves.slice(i, j), prior);
      this.#s['putLookups']!.run(prior?.start ?? start, packed.keys, packed.chains, packed.pos);
      i = j;
    }
  }

  /**
   * The in-memory lookups holding every entry below `size`: loaded on first use, then
   * extended from `lookups` rows at or past what they hold (another process's appends, a
   * rebuild). Stops at a gap (derived rows being rewritten) with what it has.
   */
  #catchUp(size: number): Lookups {
    let mem = this.#mem;
    if (mem === undefined) {
      mem = {
        hashes: new HashIndex({
          expected: size,
          ...(this.#keyBits === undefined ? {} : { keyBits: this.#keyBits }),
        }),
        chains: new ChainIndex(),
      };
      this.#mem = mem;
    }
    if (mem.hashes.size >= size) return mem;
    try {
      this.#load(mem, size);
    } catch (e) {
      this.#mem = undefined; // half a row loaded: start again next time
      throw e;
    }
    return mem;
  }

  #load({ hashes, chains }: Lookups, size: number): void {
    for (const r of this.#s['lookupsFrom']!.all(hashes.size, size) as unknown as LookupRow[]) {
      if (r.start > hashes.size) break;
      const names = JSON.parse(r.chains) as string[];
      const { keys, pos } = r;
      if (keys.length % KEY_BYTES !== 0 || pos.length !== (keys.length / KEY_BYTES) * POS_BYTES)
        throw new StorageError('CORRUPT', `lookups row ${r.start} is malformed`);
      const end = Math.min(size, r.start + keys.length / KEY_BYTES);
      const view = new DataView(pos.buffer, pos.byteOffset, pos.byteLength);
      for (let i = hashes.size; i < end; i++) {
        const k = (i - r.start) * KEY_BYTES;
        const p = (i - r.start) * POS_BYTES;
        hashes.push(
          (keys[k]! << 8) | keys[k + 1]!,
          ((keys[k + 2]! << 24) | (keys[k + 3]! << 16) | (keys[k + 4]! << 8) | keys[k + 5]!) >>> 0,
        );
        const chain = names[view.getUint16(p)];
        if (chain === undefined)
          throw new StorageError('CORRUPT', `lookups row ${r.start} names no chain for ${i}`);
        chains.add(chain, view.getFloat64(p + 2), i);
      }
    }
    hashes.flush();
  }

  // Multi-row INSERTs: one statement call per ROWS_PER_INSERT rows instead of per row
  // (the per-call binding overhead dominates small rows). `values`: row after row.
  readonly #multi = new Map<string, StatementSync>();
  #insertMany(target: string, columns: number, values: unknown[]): void {
    const ROWS_PER_INSERT = 64;
    const rows = values.length / columns;
    for (let i = 0; i < rows; i += ROWS_PER_INSERT) {
      const n = Math.min(ROWS_PER_INSERT, rows - i);
      const key = `${target}#${n}`;
      let stmt = this.#multi.get(key);
      if (stmt === undefined) {
        const tuple = `(${Array.from({ length: columns }, () => '?').join(',')})`;
        stmt = this.#db.prepare(
          `INSERT OR REPLACE INTO ${target} VALUES ${Array.from({ length: n }, () => tuple).join(',')}`,
        );
        this.#multi.set(key, stmt);
      }
      stmt.run(...(values.slice(i * columns, (i + n) * columns) as never[]));
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
    const index = this.#catchUp(size).hashes;
    const want = new Set<string>();
    const candidates: number[] = [];
    for (const h of hashes) {
      if (want.has(h) || !isHex64(h)) continue;
      want.add(h);
      const [hi, lo] = keyParts(h);
      index.find(hi, lo, candidates);
    }
    // Hashes sharing a prefix name the same candidates: read each row once.
    const rows = this.#selectIn('SELECT idx, leaf, ehash, chain, seq FROM leaves WHERE idx IN', [
      ...new Set(candidates),
    ]) as LeafRow[];
    // The key is a prefix: keep the rows whose full hash is wanted.
    return rows.filter((r) => r.idx < size && want.has(r.ehash)).map(toLeaf);
  }

  async getLeavesByInput(hashes: readonly string[]): Promise<LeafRecord[]> {
    this.#open();
    const size = this.#headRow().size;
    const want = new Set(hashes.filter((h) => isHex64(h)));
    const down = this.#downstream(size);
    const candidates = new Set<number>();
    for (const h of want) down.find(h, candidates);
    const rows = this.#selectIn('SELECT idx, leaf, ehash, chain, seq FROM leaves WHERE idx IN', [
      ...candidates,
    ]) as LeafRow[];
    // The key is a prefix: keep the leaves that do name a wanted hash.
    return rows
      .filter((r) => r.idx < size && leafInputs(r.leaf).some((h) => want.has(h)))
      .sort((a, b) => a.idx - b.idx)
      .map(toLeaf);
  }

  /** The entry at a candidate index, if its row does hold that chain (and seq). */
  #chainEntryAt(
    index: number | undefined,
    size: number,
    chain: string,
    seq?: number,
  ): ChainEntry | undefined {
    if (index === undefined || index >= size) return undefined;
    const r = this.#s['position']!.get(index) as { ehash: string; chain: string; seq: number } | undefined;
    if (r === undefined || r.chain !== chain || (seq !== undefined && r.seq !== seq)) return undefined;
    return { seq: r.seq, eventHash: r.ehash, index };
  }

  async getChainEntry(chain: string, seq: number): Promise<ChainEntry | undefined> {
    this.#open();
    const size = this.#headRow().size;
    return this.#chainEntryAt(this.#catchUp(size).chains.entry(chain, seq), size, chain, seq);
  }

  async getChainHead(chain: string): Promise<ChainEntry | undefined> {
    this.#open();
    const size = this.#headRow().size;
    return this.#chainEntryAt(this.#catchUp(size).chains.head(chain), size, chain);
  }

  /**
   * The in-memory lookups: entries loaded (0 until the first lookup) and the bytes of their
   * typed arrays (see the README for the bytes per entry).
   */
  lookupMemory(): { entries: number; bytes: number } {
    const mem = this.#mem;
    return mem === undefined
      ? { entries: 0, bytes: 0 }
      : { entries: mem.hashes.size, bytes: mem.hashes.bytes + mem.chains.bytes };
  }

  async getNodes(ids: readonly NodeId[]): Promise<Array<Uint8Array | undefined>> {
    this.#open();
    return this.getNodesSync(ids);
  }

  /**
   * Synchronous node reads (a merkle SyncNodeReader). Nodes of the upper levels come from
   * memory (sqlite-upper.ts); the others with one query: the rows of the leaves that
   * complete them.
   */
  getNodesSync(ids: readonly NodeId[]): Array<Uint8Array | undefined> {
    const size = this.#headRow().size;
    const upper = this.#upperAt(size);
    const out = new Array<Uint8Array | undefined>(ids.length);
    const pending: number[] = [];
    const owners = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const [begin, end] = nodeCoverage(id);
      if (end > size) continue; // not wholly below the head: absent
      const level = nodeLevel(id);
      if (level >= upper.level) {
        const h = upper.get(level, begin / (end - begin));
        if (h !== undefined) {
          out[i] = h;
          continue;
        }
      }
      pending.push(i);
      owners.add(end - 1);
    }
    if (pending.length === 0) return out;
    const rows = new Map<number, { lhash: Uint8Array | null; inodes: Uint8Array | null }>();
    for (const r of this.#selectIn('SELECT idx, lhash, inodes FROM leaves WHERE idx IN', [...owners]) as {
      idx: number;
      lhash: Uint8Array | null;
      inodes: Uint8Array | null;
    }[]) {
      rows.set(r.idx, r);
    }
    for (const i of pending) {
      const id = ids[i]!;
      const r = rows.get(nodeCoverage(id)[1] - 1);
      if (id % 2 === 0) {
        out[i] = r?.lhash ?? undefined;
        continue;
      }
      const o = (nodeLevel(id) - 1) * HASH_BYTES;
      out[i] =
        !r?.inodes || r.inodes.length < o + HASH_BYTES || isZero(r.inodes, o)
          ? undefined
          : r.inodes.slice(o, o + HASH_BYTES);
    }
    return out;
  }

  /** The upper nodes, loaded or caught up from the `upper` rows below `size`. */
  #upperAt(size: number): UpperNodes {
    let upper = this.#upper;
    if (upper === undefined) this.#upper = upper = new UpperNodes(this.#upperLevel);
    if (upper.loadedTo < size) {
      for (const r of this.#s['upperFrom']!.iterate(upper.loadedTo, size) as Iterable<{
        idx: number;
        nodes: Uint8Array;
      }>) {
        upper.putRow(r.idx, r.nodes);
      }
      upper.loadedTo = size;
    }
    return upper;
  }

  // `prefix (?, ?, ...)` with up to 512 values per statement, padded to a power of two (by
  // repeating a value) so that a few prepared statements serve every length.
  readonly #inStatements = new Map<string, StatementSync>();
  #selectIn(prefix: string, values: number[]): unknown[] {
    const out: unknown[] = [];
    for (let i = 0; i < values.length; i += 512) {
      const part = values.slice(i, i + 512);
      const n = 2 ** Math.ceil(Math.log2(part.length));
      while (part.length < n) part.push(part[0]!);
      const key = `${prefix}#${n}`;
      let stmt = this.#inStatements.get(key);
      if (stmt === undefined) {
        stmt = this.#db.prepare(`${prefix} (${part.map(() => '?').join(',')})`);
        this.#inStatements.set(key, stmt);
      }
      for (const r of stmt.all(...part)) out.push(r);
    }
    return out;
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
      this.#db.exec(
        'DELETE FROM registry; DELETE FROM lookups; DELETE FROM downstream; DELETE FROM upper WHERE idx >= 0; UPDATE leaves SET lhash = NULL, inodes = NULL;',
      );
      this.#db.exec('DROP INDEX IF EXISTS registry_id;');
      // The lookup columns of leaves are derived too: blank them so a rebuild must recompute them.
      this.#db.exec("UPDATE leaves SET ehash = '', chain = '', seq = 0;");
    });
    // The in-memory lookups and upper nodes are derived too: reloaded from the rows
    // writeDerived writes.
    this.#mem = undefined;
    this.#upper = undefined;
    this.#down = undefined;
  }

  async writeDerived(lease: WriterLease, batch: AppendBatch): Promise<void> {
    this.#open();
    this.#tx(() => {
      if (this.#headRow().epoch !== lease.epoch) throw new StorageError('STALE_WRITER', 'fenced');
      const upd = this.#db.prepare('UPDATE leaves SET ehash = ?, chain = ?, seq = ? WHERE idx = ?');
      for (const l of batch.leaves) upd.run(l.eventHash, l.chain, l.seq, l.index);
      this.#writeRows(batch, false);
      this.#writeLookups(batch.leaves);
      this.#db.exec(INDEXES);
    });
    // Read again from the rows once they are all written (a read between two batches of a
    // rebuild would otherwise have marked later ones as loaded).
    this.#upper = undefined;
    this.#down = undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writer?.close();
    this.#db.close();
  }
}
