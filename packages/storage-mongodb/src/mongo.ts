// The ledger's storage contract on MongoDB 7 (and FerretDB 1.24, the local test server), with
// no multi-document transactions:
//
//  - A batch inserts its leaf documents first (insertMany, unordered; each document carries
//    its tree nodes and registry records, so a batch is one round trip of rows), then moves
//    the single head document. Reads are bounded by the head, so rows a crashed or fenced
//    writer left at or past it are invisible; the next writer deletes them when it acquires
//    the lease, and an append that still meets one (a unique-key conflict) deletes it then.
//  - The head moves by compare-and-set on its version, behind a claim: every change first
//    inserts a claim document whose _id is the head's next version (a unique-key insert,
//    atomic on both servers), and only the claim's winner updates the head, filtered on the
//    version, size and epoch it read. MongoDB alone would not need the claim (its updates are
//    atomic); FerretDB 1.24 evaluates an update's filter and writes the document in separate
//    steps, so two writers' updates with the same filter can both "succeed" (measured here).
//  - Every write uses the configured write concern (default w: 'majority', j: true), every
//    read 'majority' read concern, so nothing a reader sees can be rolled back.
import { emptyRoot, type NodeId } from '@civic-ledger/merkle';
import {
  StorageError,
  nodeWithin,
  type AcquireOptions,
  type AppendBatch,
  type ChainEntry,
  type CheckpointRecord,
  type LeafRecord,
  type LedgerHead,
  type LedgerStore,
  type RegistryRecord,
  type WriterLease,
} from '@civic-ledger/storage';
import {
  MongoBulkWriteError,
  type Binary,
  MongoClient,
  MongoServerError,
  ReadConcern,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Filter,
  type MongoClientOptions,
  type ReadConcernLevel,
  type WriteConcernSettings,
} from 'mongodb';
import { MongoStoreError } from './errors.ts';
import {
  binary,
  bytesOf,
  checkBatch,
  checkHead,
  claimKey,
  groupNodes,
  groupLineage,
  groupRegistry,
  nodePlace,
  toChainEntry,
  toCheckpoint,
  toHead,
  toLeaf,
  toRegistry,
  type CheckpointDoc,
  type ClaimDoc,
  type HeadDoc,
  type LeafDoc,
} from './layout.ts';
import { describeUrl, scrubSecrets } from './url.ts';

export interface MongoStoreOptions {
  /** Connection string; the store creates its client and closes it on close(). */
  url?: string;
  /** An existing client instead of `url` (the caller closes it). */
  client?: MongoClient;
  /** Database name: one ledger per database (or per prefix within one). */
  database: string;
  /** Prefix of the collection names (default none): several ledgers in one database. */
  collectionPrefix?: string;
  /** Write concern of every write (default `{ w: 'majority', journal: true }`). */
  writeConcern?: WriteConcernSettings;
  /** Read concern of every read (default 'majority'; pair 'local' with a weaker write concern). */
  readConcern?: ReadConcernLevel;
  /** Options for the client the store creates from `url` (TLS, timeouts, pool). */
  clientOptions?: MongoClientOptions;
  /** Test hook: runs after a batch's rows are written and before its head moves. */
  beforeHeadUpdate?: () => void | Promise<void>;
  /** Test hook: runs after an append checked the head and before it writes rows. */
  beforeRows?: () => void | Promise<void>;
}

/** How long a claim on the head's next version holds before another party may skip it. */
const CLAIM_GRACE_MS = 30_000;
/** Claims of versions older than this many are deleted (they are never read again). */
const KEEP_CLAIMS = 256;
/** Rounds of deleting a fenced writer's rows that keep reappearing before giving up. */
const CONFLICT_ROUNDS = 4;
const DEFAULT_WRITE_CONCERN: WriteConcernSettings = { w: 'majority', journal: true };
const DUPLICATE_KEY = 11000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isDuplicate(e: unknown): boolean {
  return e instanceof MongoServerError && e.code === DUPLICATE_KEY;
}

/** Database names both servers accept (FerretDB is the stricter). */
const DATABASE_NAME = /^[A-Za-z0-9_-]{1,63}$/;
const PREFIX = /^[A-Za-z0-9_]{0,40}$/;

export class MongoStore implements LedgerStore {
  readonly #client: MongoClient;
  readonly #owned: boolean;
  readonly #head: Collection<HeadDoc>;
  readonly #claims: Collection<ClaimDoc>;
  readonly #leaves: Collection<LeafDoc>;
  readonly #checkpoints: Collection<CheckpointDoc>;
  readonly #hook: (() => void | Promise<void>) | undefined;
  readonly #beforeRows: (() => void | Promise<void>) | undefined;
  #closed = false;

  private constructor(client: MongoClient, owned: boolean, db: Db, options: MongoStoreOptions) {
    this.#client = client;
    this.#owned = owned;
    const p = options.collectionPrefix ?? '';
    this.#head = db.collection<HeadDoc>(`${p}head`);
    this.#claims = db.collection<ClaimDoc>(`${p}head_claims`);
    this.#leaves = db.collection<LeafDoc>(`${p}leaves`);
    this.#checkpoints = db.collection<CheckpointDoc>(`${p}checkpoints`);
    this.#hook = options.beforeHeadUpdate;
    this.#beforeRows = options.beforeRows;
  }

  /** Connects to `url` and opens (creating if needed) the ledger in database `database`. */
  static connect(
    url: string,
    database: string,
    options: Omit<MongoStoreOptions, 'url' | 'client' | 'database'> = {},
  ): Promise<MongoStore> {
    return MongoStore.open({ ...options, url, database });
  }

  /**
   * Opens the ledger: creates its indexes and head document when missing (idempotent, so
   * every process may do it). Fails with MongoStoreError UNREACHABLE when no server answers,
   * naming the URL without its credentials or options.
   */
  static async open(options: MongoStoreOptions): Promise<MongoStore> {
    if ((options.url === undefined) === (options.client === undefined))
      throw new MongoStoreError('BAD_OPTIONS', 'give exactly one of url and client');
    if (!DATABASE_NAME.test(options.database))
      throw new MongoStoreError(
        'BAD_OPTIONS',
        `database must be 1-63 letters, digits, '_' or '-' (got ${JSON.stringify(options.database)})`,
      );
    if (!PREFIX.test(options.collectionPrefix ?? ''))
      throw new MongoStoreError('BAD_OPTIONS', "collectionPrefix must be up to 40 letters, digits or '_'");
    const url = options.url;
    let client: MongoClient;
    if (url === undefined) {
      client = options.client!;
    } else {
      try {
        client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000, ...options.clientOptions });
      } catch (e) {
        // No cause: a parse error may quote the URL, password included.
        throw new MongoStoreError(
          'BAD_OPTIONS',
          `not a usable MongoDB URL ${describeUrl(url)}: ${scrubSecrets(String((e as Error).message), url)}`,
        );
      }
    }
    const owned = url !== undefined;
    const where = url === undefined ? `the given client (database ${options.database})` : describeUrl(url);
    try {
      if (owned) await client.connect();
      const db = client.db(options.database, {
        writeConcern: options.writeConcern ?? DEFAULT_WRITE_CONCERN,
        readConcern: new ReadConcern(options.readConcern ?? 'majority'),
      });
      const store = new MongoStore(client, owned, db, options);
      await store.#setUp();
      return store;
    } catch (e) {
      if (owned) await client.close().catch(() => undefined);
      if (e instanceof StorageError) throw e;
      const message = scrubSecrets(String((e as Error).message), url ?? '');
      throw new MongoStoreError('UNREACHABLE', `cannot open the ledger store at ${where}: ${message}`, {
        cause: e,
      });
    }
  }

  async #setUp(): Promise<void> {
    // Unique and sparse: a committed event hash or chain position cannot be stored twice,
    // and leaves whose derived fields were dropped (dropDerived) are left out. A row a
    // crashed or fenced writer left past the head conflicts like any other; append deletes it.
    // One index per command: FerretDB 1.24 drops the connection (a panic) on a createIndexes
    // naming several indexes that all exist already.
    await this.#leaves.createIndex({ h: 1 }, { name: 'h', unique: true, sparse: true });
    await this.#leaves.createIndex({ c: 1, s: 1 }, { name: 'c_s', unique: true, sparse: true });
    await this.#leaves.createIndex({ 'r.id': 1 }, { name: 'r_id', sparse: true });
    await this.#leaves.createIndex({ i: 1 }, { name: 'i', sparse: true });
    try {
      await this.#head.insertOne({
        _id: 'head',
        v: 0,
        size: 0,
        root: binary(emptyRoot()),
        epoch: 0,
        owner: null,
        expires: 0,
      });
    } catch (e) {
      if (!isDuplicate(e)) throw e;
    }
  }

  #open(): void {
    if (this.#closed) throw new StorageError('CLOSED', 'the store is closed');
  }

  async #readHead(): Promise<HeadDoc> {
    return checkHead(await this.#head.findOne({ _id: 'head' }));
  }

  /**
   * Moves the head from the version it reads to the state `decide` returns (null: leave it).
   * `decide` runs again after every lost race, so it re-checks the fencing each time.
   */
  async #transition(
    decide: (h: HeadDoc) => Partial<Omit<HeadDoc, '_id' | 'v'>> | null,
    known?: HeadDoc,
  ): Promise<HeadDoc | null> {
    const deadline = Date.now() + 2 * CLAIM_GRACE_MS;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        if (Date.now() > deadline)
          throw new StorageError('STALE_WRITER', 'could not move the head: its next version stays claimed');
        await sleep(Math.min(500, 2 ** attempt));
      }
      // The caller's fresh read saves a round trip; a stale one only costs a lost claim.
      const h = attempt === 0 && known !== undefined ? known : await this.#readHead();
      const change = decide(h);
      if (change === null) return null;
      const started = performance.now();
      let version = h.v + 1;
      if (!(await this.#claim(version, change.epoch ?? h.epoch))) {
        const [now, held] = await Promise.all([
          this.#readHead(),
          this.#claims.findOne({ _id: claimKey(version) }),
        ]);
        // The head moved, or the claimant is about to move it: read it again and decide again.
        if (now.v !== h.v || held === null || Date.now() - held.at < CLAIM_GRACE_MS) continue;
        // The claimant died between claim and head update: skip that version.
        version = h.v + 2;
        if (!(await this.#claim(version, change.epoch ?? h.epoch))) continue;
      }
      // Too slow since the claim: another party may be skipping it by now.
      if (performance.now() - started > CLAIM_GRACE_MS / 2) continue;
      const next: HeadDoc = { ...h, ...change, v: version };
      const { _id, ...fields } = next;
      const r = await this.#head.updateOne({ _id, v: h.v, size: h.size, epoch: h.epoch }, { $set: fields });
      if (r.matchedCount !== 1) continue;
      if (Math.floor(version / KEEP_CLAIMS) > Math.floor(h.v / KEEP_CLAIMS)) await this.#pruneClaims(version);
      return next;
    }
  }

  async #claim(version: number, epoch: number): Promise<boolean> {
    try {
      await this.#claims.insertOne({ _id: claimKey(version), at: Date.now(), epoch });
      return true;
    } catch (e) {
      if (isDuplicate(e)) return false;
      throw e;
    }
  }

  async #pruneClaims(version: number): Promise<void> {
    // Safe at any time: a late claim of a pruned version finds the head past it and fails its
    // update. A failed prune is retried by the next one.
    await this.#claims.deleteMany({ _id: { $lt: claimKey(version - KEEP_CLAIMS) } }).catch(() => undefined);
  }

  async head(): Promise<LedgerHead> {
    this.#open();
    return toHead(await this.#readHead());
  }

  async acquireWriter(options: AcquireOptions): Promise<WriterLease> {
    this.#open();
    const now = options.now ?? Date.now();
    const expires = now + options.ttlMs;
    const next = (await this.#transition((h) => {
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
      return { epoch: h.epoch + 1, owner: options.owner, expires };
    }))!;
    // Recovery: rows at or past the head belong to no committed batch. Only older writers'
    // rows: a later writer's (should one take over at once) are not ours to delete.
    await this.#leaves.deleteMany({ _id: { $gte: next.size }, e: { $lt: next.epoch } });
    return { epoch: next.epoch, owner: options.owner, expiresAt: expires };
  }

  async renewWriter(lease: WriterLease, options: AcquireOptions): Promise<WriterLease> {
    this.#open();
    const expiresAt = (options.now ?? Date.now()) + options.ttlMs;
    await this.#transition((h) => {
      if (h.epoch !== lease.epoch || h.owner !== lease.owner)
        throw new StorageError('STALE_WRITER', `lease epoch ${lease.epoch} is no longer current`);
      return { expires: expiresAt };
    });
    return { ...lease, expiresAt };
  }

  async releaseWriter(lease: WriterLease): Promise<void> {
    this.#open();
    await this.#transition((h) =>
      h.epoch === lease.epoch && h.owner === lease.owner ? { owner: null, expires: 0 } : null,
    );
  }

  #fence(h: HeadDoc, epoch: number, expectedSize: number): void {
    if (h.epoch !== epoch)
      throw new StorageError('STALE_WRITER', `writer epoch ${epoch} was fenced by ${h.epoch}`);
    if (h.size !== expectedSize)
      throw new StorageError('SIZE_CONFLICT', `head is at ${h.size}, batch expects ${expectedSize}`);
  }

  async append(lease: WriterLease, expectedSize: number, batch: AppendBatch): Promise<LedgerHead> {
    this.#open();
    checkBatch(expectedSize, batch);
    const before = await this.#readHead();
    this.#fence(before, lease.epoch, expectedSize);
    await this.#beforeRows?.();
    const nodes = groupNodes(batch.nodes);
    const registry = groupRegistry(batch.registry);
    const inputs = groupLineage(batch.lineage);
    const docs: LeafDoc[] = batch.leaves.map((l) => {
      const d: LeafDoc = {
        _id: l.index,
        e: lease.epoch,
        l: binary(l.leaf),
        h: l.eventHash,
        c: l.chain,
        s: l.seq,
      };
      const n = nodes.get(l.index);
      if (n !== undefined) d.n = n;
      nodes.delete(l.index);
      const r = registry.get(l.index);
      if (r !== undefined) d.r = r;
      const i = inputs.get(l.index);
      if (i !== undefined) d.i = i;
      return d;
    });
    await this.#insertLeaves(lease.epoch, expectedSize, docs);
    // Nodes owned by committed leaves (a batch need not send them, but may).
    await this.#setNodes(nodes);
    await this.#hook?.();
    const newSize = expectedSize + batch.leaves.length;
    await this.#transition((h) => {
      this.#fence(h, lease.epoch, expectedSize);
      return { size: newSize, root: binary(batch.rootHash) };
    }, before);
    return { size: newSize, rootHash: batch.rootHash, epoch: lease.epoch };
  }

  /**
   * Inserts a batch's leaf documents. A unique-key conflict with a row past the head (left by
   * a crashed or fenced writer, or an earlier failed append) deletes that row and inserts the
   * rest again; one with a committed row refuses the batch.
   */
  async #insertLeaves(epoch: number, expectedSize: number, docs: LeafDoc[]): Promise<void> {
    let pending = docs;
    for (let round = 0; pending.length > 0; round++) {
      const failed = await this.#tryInsert(pending);
      if (failed.length === 0) return;
      this.#fence(await this.#readHead(), epoch, expectedSize);
      const blockers = await this.#leaves
        .find(
          {
            $or: [
              { _id: { $in: failed.map((d) => d._id) } },
              { h: { $in: failed.map((d) => d.h!) } },
              ...failed.map((d) => ({ c: d.c!, s: d.s! })),
            ],
          },
          { projection: { _id: 1, e: 1, h: 1, c: 1, s: 1 } },
        )
        .toArray();
      const committed = blockers.find((b) => b._id < expectedSize);
      if (committed !== undefined) {
        const dup = failed.find((d) => d.h === committed.h) ?? failed.find((d) => d.c === committed.c);
        throw new StorageError(
          'BAD_BATCH',
          dup?.h === committed.h
            ? `event ${committed.h} is already in the log at index ${committed._id}`
            : `${committed.c} seq ${committed.s} is already in the log at index ${committed._id}`,
        );
      }
      if (round + 1 >= CONFLICT_ROUNDS)
        throw new StorageError(
          'SIZE_CONFLICT',
          `rows at or past ${expectedSize} keep reappearing (a fenced writer still writing?)`,
        );
      // Rows of this writer's earlier failed appends and of fenced writers. None is newer:
      // a newer writer would have moved the head's epoch, and #fence above would have thrown.
      const stale = blockers.filter((b) => b._id >= expectedSize && b.e <= epoch).map((b) => b._id);
      if (stale.length > 0) await this.#leaves.deleteMany({ _id: { $in: stale }, e: { $lte: epoch } });
      pending = failed;
    }
  }

  /** Inserts `docs` unordered; returns those refused as duplicates, throws anything else. */
  async #tryInsert(docs: LeafDoc[]): Promise<LeafDoc[]> {
    try {
      await this.#leaves.insertMany(docs, { ordered: false });
      return [];
    } catch (e) {
      if (!(e instanceof MongoBulkWriteError)) throw e;
      const errors = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
      if (errors.length === 0 || errors.some((w) => w.code !== DUPLICATE_KEY)) throw e;
      return errors.map((w) => docs[w.index]!);
    }
  }

  /** Writes node hashes into existing leaf documents (level by level, keeping the others). */
  async #setNodes(byOwner: Map<number, Record<string, Binary>>): Promise<void> {
    const ops: AnyBulkWriteOperation<LeafDoc>[] = [];
    for (const [owner, levels] of byOwner) {
      const set: Record<string, unknown> = {};
      for (const [level, hash] of Object.entries(levels)) set[`n.${level}`] = hash;
      ops.push({ updateOne: { filter: { _id: owner }, update: { $set: set } } });
    }
    if (ops.length === 0) return;
    const r = await this.#leaves.bulkWrite(ops, { ordered: false });
    if (r.matchedCount !== ops.length)
      throw new StorageError('CORRUPT', `${ops.length - r.matchedCount} leaves owning nodes are not stored`);
  }

  async getLeaves(from: number, to: number): Promise<LeafRecord[]> {
    this.#open();
    const size = (await this.#readHead()).size;
    const lo = Math.max(0, from);
    const hi = Math.min(to, size);
    if (lo >= hi) return [];
    const docs = await this.#leaves
      .find({ _id: { $gte: lo, $lt: hi } }, { projection: { l: 1, h: 1, c: 1, s: 1 } })
      .sort({ _id: 1 })
      .toArray();
    docs.forEach((d, i) => {
      if (d._id !== lo + i) throw new StorageError('CORRUPT', `leaf ${lo + i} is missing below the head`);
    });
    if (docs.length !== hi - lo)
      throw new StorageError('CORRUPT', `leaf ${lo + docs.length} is missing below the head`);
    return docs.map(toLeaf);
  }

  async getLeavesByEventHash(hashes: readonly string[]): Promise<LeafRecord[]> {
    this.#open();
    const wanted = [...new Set(hashes)];
    if (wanted.length === 0) return [];
    const size = (await this.#readHead()).size;
    const docs = await this.#leaves
      .find({ h: { $in: wanted }, _id: { $lt: size } }, { projection: { l: 1, h: 1, c: 1, s: 1 } })
      .toArray();
    return docs.map(toLeaf);
  }

  async getLeavesByInput(hashes: readonly string[]): Promise<LeafRecord[]> {
    this.#open();
    const wanted = [...new Set(hashes)].filter((h) => /^[0-9a-f]{64}$/.test(h));
    if (wanted.length === 0) return [];
    const size = (await this.#readHead()).size;
    const docs = await this.#leaves
      .find({ i: { $in: wanted }, _id: { $lt: size } }, { projection: { l: 1, h: 1, c: 1, s: 1 } })
      .sort({ _id: 1 })
      .toArray();
    return docs.map(toLeaf);
  }

  async getChainEntry(chain: string, seq: number): Promise<ChainEntry | undefined> {
    this.#open();
    const size = (await this.#readHead()).size;
    const d = await this.#leaves.findOne(
      { c: chain, s: seq, _id: { $lt: size } },
      { projection: { h: 1, s: 1 } },
    );
    return d === null ? undefined : toChainEntry(d);
  }

  async getChainHead(chain: string): Promise<ChainEntry | undefined> {
    this.#open();
    const size = (await this.#readHead()).size;
    const [d] = await this.#leaves
      .find({ c: chain, _id: { $lt: size } }, { projection: { h: 1, s: 1 } })
      .sort({ s: -1 })
      .limit(1)
      .toArray();
    return d === undefined ? undefined : toChainEntry(d);
  }

  async getNodes(ids: readonly NodeId[]): Promise<Array<Uint8Array | undefined>> {
    this.#open();
    const size = (await this.#readHead()).size;
    const owners = new Set<number>();
    for (const id of ids) if (nodeWithin(id, size)) owners.add(nodePlace(id).owner);
    const byOwner = new Map<number, LeafDoc['n']>();
    if (owners.size > 0) {
      const docs = await this.#leaves.find({ _id: { $in: [...owners] } }, { projection: { n: 1 } }).toArray();
      for (const d of docs) byOwner.set(d._id, d.n);
    }
    return ids.map((id) => {
      if (!nodeWithin(id, size)) return undefined;
      const { owner, level } = nodePlace(id);
      const hash = byOwner.get(owner)?.[level];
      return hash === undefined ? undefined : bytesOf(hash, `node ${id}`);
    });
  }

  async getRegistry(id?: string): Promise<RegistryRecord[]> {
    this.#open();
    const size = (await this.#readHead()).size;
    const filter: Filter<LeafDoc> = { 'r.id': id ?? { $exists: true }, _id: { $lt: size } };
    const docs = await this.#leaves
      .find(filter, { projection: { r: 1 } })
      .sort({ _id: 1 })
      .toArray();
    const records = docs.flatMap(toRegistry);
    return id === undefined ? records : records.filter((r) => r.id === id);
  }

  async putCheckpoint(cp: CheckpointRecord): Promise<void> {
    this.#open();
    try {
      await this.#checkpoints.insertOne({ _id: cp.size, note: cp.note, at: cp.createdAt });
      return;
    } catch (e) {
      if (!isDuplicate(e)) throw e;
    }
    const stored = await this.#checkpoints.findOne({ _id: cp.size });
    if (stored !== null && stored.note !== cp.note)
      throw new StorageError('CHECKPOINT_CONFLICT', `a different checkpoint is stored for size ${cp.size}`);
  }

  async getCheckpoint(size: number): Promise<CheckpointRecord | undefined> {
    this.#open();
    const d = await this.#checkpoints.findOne({ _id: size });
    return d === null ? undefined : toCheckpoint(d);
  }

  async latestCheckpoint(): Promise<CheckpointRecord | undefined> {
    this.#open();
    const [d] = await this.#checkpoints.find({}).sort({ _id: -1 }).limit(1).toArray();
    return d === undefined ? undefined : toCheckpoint(d);
  }

  async listCheckpoints(from: number, to: number): Promise<CheckpointRecord[]> {
    this.#open();
    const docs = await this.#checkpoints
      .find({ _id: { $gte: from, $lte: to } })
      .sort({ _id: 1 })
      .toArray();
    return docs.map(toCheckpoint);
  }

  async #requireEpoch(lease: WriterLease): Promise<void> {
    const h = await this.#readHead();
    if (h.epoch !== lease.epoch)
      throw new StorageError('STALE_WRITER', `writer epoch ${lease.epoch} was fenced by ${h.epoch}`);
  }

  async dropDerived(lease: WriterLease): Promise<void> {
    this.#open();
    await this.#requireEpoch(lease);
    await this.#leaves.updateMany({}, { $unset: { h: '', c: '', s: '', n: '', r: '', i: '' } });
  }

  async writeDerived(lease: WriterLease, batch: AppendBatch): Promise<void> {
    this.#open();
    await this.#requireEpoch(lease);
    const sets = new Map<number, Record<string, unknown>>();
    const setOf = (index: number) => {
      let s = sets.get(index);
      if (s === undefined) sets.set(index, (s = {}));
      return s;
    };
    for (const l of batch.leaves) Object.assign(setOf(l.index), { h: l.eventHash, c: l.chain, s: l.seq });
    for (const [owner, levels] of groupNodes(batch.nodes))
      for (const [level, hash] of Object.entries(levels)) setOf(owner)[`n.${level}`] = hash;
    for (const [index, records] of groupRegistry(batch.registry)) setOf(index).r = records;
    for (const [index, hashes] of groupLineage(batch.lineage)) setOf(index).i = hashes;
    if (sets.size === 0) return;
    const ops: AnyBulkWriteOperation<LeafDoc>[] = [...sets].map(([index, set]) => ({
      updateOne: { filter: { _id: index }, update: { $set: set } },
    }));
    let matched: number;
    try {
      matched = (await this.#leaves.bulkWrite(ops, { ordered: false })).matchedCount;
    } catch (e) {
      if (isDuplicate(e))
        throw new StorageError('BAD_BATCH', 'an event hash or chain position is already stored', {
          cause: e,
        });
      throw e;
    }
    if (matched !== ops.length)
      throw new StorageError('CORRUPT', `${ops.length - matched} leaves of the batch are not stored`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await this.#client.close();
  }
}
