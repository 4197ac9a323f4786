// MongoStore against a real server (FerretDB 1.24 locally, MongoDB 7 where a container runs):
// the storage contract suite unchanged, then what only this adapter has: the write concern on
// the wire, exact leaf bytes as BSON Binary, rows a fenced writer leaves past the head against
// the unique indexes, the claim that makes the head's compare-and-set hold on FerretDB, and
// URLs with credentials in error messages.
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { CompactRange, hashLeaf, newNodeBatch } from '@civic-ledger/merkle';
import { StorageError, type AppendBatch, type LedgerStore, type WriterLease } from '@civic-ledger/storage';
import { describeStorageContract, syntheticBatch } from '@civic-ledger/storage/contract';
import { findService } from '@civic-ledger/test-services';
import { Binary, MongoClient, type CommandStartedEvent } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MongoStore, MongoStoreError, type MongoStoreOptions } from './index.ts';

const url = await findService('mongodb');
const OWNER = { owner: 'writer-a', ttlMs: 60_000 };

let admin: MongoClient;
const databases: string[] = [];
const stores: LedgerStore[] = [];
const clients: MongoClient[] = [];

function freshDatabase(): string {
  const name = `cl_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  databases.push(name);
  return name;
}

async function open(options: Partial<MongoStoreOptions> = {}): Promise<MongoStore> {
  const database = options.database ?? freshDatabase();
  const s = await MongoStore.open({
    ...(options.client === undefined ? { url: url! } : {}),
    ...options,
    database,
  });
  stores.push(s);
  return s;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StorageError || e instanceof MongoStoreError) return e.code;
    throw e;
  }
  return undefined;
}

/** A batch of the given leaf bytes continuing `range`. */
function bytesBatch(range: CompactRange, leaves: Uint8Array[]): AppendBatch {
  const nodes = newNodeBatch();
  const start = range.size;
  const records = leaves.map((leaf, i) => {
    range.append(hashLeaf(leaf), nodes);
    return {
      index: start + i,
      leaf,
      eventHash: randomUUID().replaceAll('-', '').padEnd(64, '0'),
      chain: 'org-x/raw',
      seq: start + i + 1,
    };
  });
  return { leaves: records, nodes, registry: [], lineage: [], rootHash: range.root() };
}

describe.skipIf(url === undefined)('MongoStore', () => {
  beforeAll(async () => {
    admin = await new MongoClient(url!).connect();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const c of clients.splice(0)) await c.close();
    for (const d of databases.splice(0)) await admin.db(d).dropDatabase();
  });
  afterAll(async () => {
    await admin?.close();
  });

  describeStorageContract('mongodb', async (hooks) => {
    const database = freshDatabase();
    const options = { ...(hooks.beforeHeadUpdate ? { beforeHeadUpdate: hooks.beforeHeadUpdate } : {}) };
    let current = await MongoStore.connect(url!, database, options);
    const others: MongoStore[] = [];
    return {
      store: current,
      // A restart: this client closes, a new one opens the same database.
      reopen: async () => {
        await current.close();
        current = await MongoStore.connect(url!, database, options);
        return current;
      },
      // Another process: its own client (connection pool, no shared state) on the same data.
      openSecond: async () => {
        const s = await MongoStore.connect(url!, database);
        others.push(s);
        return s;
      },
      cleanup: async () => {
        for (const s of others) await s.close();
        await current.close();
      },
    };
  });

  it('sends every write with the write concern { w: "majority", j: true } unless told otherwise', async () => {
    const writes: CommandStartedEvent[] = [];
    const client = new MongoClient(url!, { monitorCommands: true });
    clients.push(client);
    client.on('commandStarted', (e) => {
      if (['insert', 'update', 'delete', 'createIndexes', 'findAndModify'].includes(e.commandName))
        writes.push(e);
    });
    await client.connect();
    const store = await open({ client });
    const lease = await store.acquireWriter(OWNER);
    const range = CompactRange.empty();
    await store.append(lease, 0, syntheticBatch(range, 3));
    await store.putCheckpoint({ size: 3, note: 'n\n', createdAt: 1 });
    await store.renewWriter(lease, OWNER);
    await store.dropDerived(lease);
    await store.releaseWriter(lease);
    expect(new Set(writes.map((e) => e.commandName))).toEqual(
      new Set(['createIndexes', 'insert', 'update', 'delete']),
    );
    for (const e of writes) expect(e.command.writeConcern, e.commandName).toEqual({ w: 'majority', j: true });

    writes.length = 0;
    const relaxed = await open({ client, writeConcern: { w: 1 }, readConcern: 'local' });
    await relaxed.acquireWriter(OWNER);
    expect(writes.length).toBeGreaterThan(0);
    for (const e of writes) expect(e.command.writeConcern, e.commandName).toEqual({ w: 1 });
  });

  it('stores each leaf as its exact bytes in a BSON Binary', async () => {
    const database = freshDatabase();
    const store = await open({ database });
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    const notUtf8 = Uint8Array.from([0xc3, 0x28, 0x00, 0xff, 0xfe, 0x22, 0x7b]);
    const lease = await store.acquireWriter(OWNER);
    const batch = bytesBatch(CompactRange.empty(), [every, notUtf8, new Uint8Array(0)]);
    await store.append(lease, 0, batch);
    const raw = await admin.db(database).collection('leaves').find({}).sort({ _id: 1 }).toArray();
    expect(raw.map((d) => [d.l instanceof Binary, (d.l as Binary).sub_type])).toEqual([
      [true, 0],
      [true, 0],
      [true, 0],
    ]);
    expect(raw.map((d) => (d.l as Binary).toString('hex'))).toEqual(
      [every, notUtf8, new Uint8Array(0)].map((b) => Buffer.from(b).toString('hex')),
    );
    const back = await store.getLeaves(0, 3);
    expect(back.map((l) => l.leaf)).toEqual([every, notUtf8, new Uint8Array(0)]);
    expect(back[0]!.leaf).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(back[0]!.leaf)).toBe(false);
  });

  it("refuses to commit over a fenced writer's late rows, deletes them, and never shows them", async () => {
    const database = freshDatabase();
    const b = await open({ database });
    let fence: (() => Promise<WriterLease>) | undefined;
    let bLease: WriterLease | undefined;
    // A: passes its head check, then B takes over before A's rows land.
    const a = await open({
      database,
      beforeRows: async () => {
        if (fence) bLease = await fence();
      },
    });
    const now = Date.now();
    const aLease = await a.acquireWriter({ owner: 'writer-a', ttlMs: 1000, now });
    const range = CompactRange.empty();
    await a.append(aLease, 0, syntheticBatch(range, 2));

    const org = (tag: string) => (index: number) => ({
      index,
      kind: 'organization' as const,
      id: `org-${tag}-${index}`,
      org: 'ledger',
      data: '{}',
    });
    const late = syntheticBatch(range.clone(), 5, { tag: 'same', registry: org('stale') });
    fence = () => b.acquireWriter({ owner: 'writer-b', ttlMs: 60_000, now: now + 2000 });
    expect(await codeOf(a.append(aLease, 2, late))).toBe('STALE_WRITER');
    fence = undefined;
    const rows = admin.db(database).collection<{ _id: number; e: number }>('leaves');
    // A's five rows are in the collection, past the head, invisible.
    expect(await rows.countDocuments({ _id: { $gte: 2 }, e: aLease.epoch })).toBe(5);
    expect((await b.head()).size).toBe(2);
    expect(await b.getLeavesByEventHash(late.leaves.map((l) => l.eventHash))).toEqual([]);
    expect(await b.getChainEntry('org-a/main', 3)).toBeUndefined();
    expect(await b.getRegistry()).toEqual([]);

    // B appends the same events (same hashes, chain positions and indexes): every row of A
    // conflicts on _id, h and (c, s); B deletes them and commits its own.
    const same = syntheticBatch(range, 3, { tag: 'same', registry: org('fresh') });
    await b.append(bLease!, 2, same);
    expect((await b.getLeaves(2, 5)).map((l) => l.eventHash)).toEqual(same.leaves.map((l) => l.eventHash));
    expect((await b.getRegistry()).map((r) => r.id)).toEqual(['org-fresh-2', 'org-fresh-3', 'org-fresh-4']);
    expect(await rows.countDocuments({ _id: { $in: [2, 3, 4] }, e: bLease!.epoch })).toBe(3);
    // A's rows 5 and 6 are still there, past the head, and stay invisible...
    expect(await rows.countDocuments({ _id: { $gte: 5 } })).toBe(2);
    expect(await b.getLeavesByEventHash([late.leaves[3]!.eventHash])).toEqual([]);
    expect(await b.getLeaves(0, 100)).toHaveLength(5);
    // ... until B's next batch reaches them: the same events again, B's content wins.
    const next = syntheticBatch(range, 2, { tag: 'same' });
    await b.append(bLease!, 5, next);
    expect(await rows.countDocuments({ e: aLease.epoch, _id: { $gte: 2 } })).toBe(0);
    expect((await b.getRegistry()).map((r) => r.id)).toEqual(['org-fresh-2', 'org-fresh-3', 'org-fresh-4']);
    expect(await b.getNodes(next.nodes.ids)).toEqual(next.nodes.hashes);
    expect((await b.head()).rootHash).toEqual(range.root());
  });

  it('refuses a batch repeating a committed event hash or chain position (unique indexes)', async () => {
    const store = await open();
    const lease = await store.acquireWriter(OWNER);
    const range = CompactRange.empty();
    const first = syntheticBatch(range, 3);
    await store.append(lease, 0, first);
    const head = await store.head();

    const again = syntheticBatch(range.clone(), 2, { tag: 'other' });
    again.leaves[1]!.eventHash = first.leaves[0]!.eventHash;
    expect(await codeOf(store.append(lease, 3, again))).toBe('BAD_BATCH');

    const fork = syntheticBatch(range.clone(), 2, { tag: 'fork' });
    fork.leaves[0]!.seq = 2; // org-a/main seq 2 is index 1
    expect(await codeOf(store.append(lease, 3, fork))).toBe('BAD_BATCH');

    const twice = syntheticBatch(range.clone(), 2, { tag: 'twice' });
    twice.leaves[1]!.eventHash = twice.leaves[0]!.eventHash;
    expect(await codeOf(store.append(lease, 3, twice))).toBe('BAD_BATCH');

    expect(await store.head()).toEqual(head);
    expect(await store.getLeaves(0, 100)).toHaveLength(3);
    // The refused batches' rows do not block the next one.
    const ok = syntheticBatch(range, 2, { tag: 'other' });
    await store.append(lease, 3, ok);
    expect((await store.getLeaves(3, 5)).map((l) => l.eventHash)).toEqual(ok.leaves.map((l) => l.eventHash));
  });

  it('lets exactly one of several processes racing for a free lease have it', async () => {
    const database = freshDatabase();
    const racers = await Promise.all(Array.from({ length: 5 }, () => open({ database })));
    let lease = await racers[0]!.acquireWriter(OWNER);
    for (let round = 0; round < 4; round++) {
      await racers[0]!.releaseWriter(lease);
      const results = await Promise.allSettled(
        racers.map((s, i) => s.acquireWriter({ owner: `racer-${i}`, ttlMs: 60_000 })),
      );
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(won).toHaveLength(1);
      expect(lost.map((e) => (e as StorageError).code)).toEqual([
        'LEASE_HELD',
        'LEASE_HELD',
        'LEASE_HELD',
        'LEASE_HELD',
      ]);
      expect((await racers[0]!.head()).epoch).toBe(won[0]!.epoch);
      // Hand it back to racer 0 for the next round.
      const winner = racers[Number(won[0]!.owner.slice(6))]!;
      await winner.releaseWriter(won[0]!);
      lease = await racers[0]!.acquireWriter(OWNER);
    }
    // The same race between appends: only the current epoch commits.
    const range = CompactRange.empty();
    const fenced = await racers[1]!.acquireWriter({ owner: 'writer-a', ttlMs: 60_000 });
    const current = await racers[2]!.acquireWriter({ owner: 'writer-a', ttlMs: 60_000 });
    const batch = syntheticBatch(range, 4);
    const appends = await Promise.allSettled([
      racers[1]!.append(fenced, 0, batch),
      racers[2]!.append(current, 0, batch),
    ]);
    expect(appends.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect((await racers[3]!.getLeaves(0, 10)).map((l) => l.index)).toEqual([0, 1, 2, 3]);
  });

  it('skips a claim on the next head version whose claimant died before moving the head', async () => {
    const database = freshDatabase();
    const store = await open({ database });
    const lease = await store.acquireWriter(OWNER);
    const db = admin.db(database);
    const { v } = (await db.collection<{ _id: string; v: number }>('head').findOne({ _id: 'head' }))!;
    await db
      .collection<{ _id: string; at: number; epoch: number }>('head_claims')
      .insertOne({ _id: String(v + 1).padStart(16, '0'), at: Date.now() - 120_000, epoch: lease.epoch });
    const range = CompactRange.empty();
    const h = await store.append(lease, 0, syntheticBatch(range, 2));
    expect(h.size).toBe(2);
    expect((await db.collection<{ _id: string; v: number }>('head').findOne({ _id: 'head' }))!.v).toBe(v + 2);
  });

  it('keeps ledgers with different collection prefixes in one database apart', async () => {
    const database = freshDatabase();
    const east = await open({ database, collectionPrefix: 'east_' });
    const west = await open({ database, collectionPrefix: 'west_' });
    await east.append(await east.acquireWriter(OWNER), 0, syntheticBatch(CompactRange.empty(), 3));
    await west.acquireWriter(OWNER);
    expect((await east.head()).size).toBe(3);
    expect((await west.head()).size).toBe(0);
    const names = (await admin.db(database).listCollections().toArray()).map((c) => c.name);
    expect(names.sort()).toEqual([
      'east_head',
      'east_head_claims',
      'east_leaves',
      'west_head',
      'west_head_claims',
      'west_leaves',
    ]);
  });

  it('names an unreachable server without the credentials or options of its URL', async () => {
    const secret = 's3cr3t-Pa55';
    const err = await MongoStore.connect(
      `mongodb://alice:${secret}@127.0.0.1:1/?authSource=admin&appName=${secret}`,
      'ledger',
      { clientOptions: { serverSelectionTimeoutMS: 300 } },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MongoStoreError);
    expect((err as MongoStoreError).code).toBe('UNREACHABLE');
    expect((err as Error).message).toContain('mongodb://127.0.0.1:1/ (credentials and options omitted)');
    expect(inspect(err, { depth: 12 })).not.toContain(secret);
    expect(inspect(err, { depth: 12 })).not.toContain('alice');
  });

  it('checks its options and refuses use after close', async () => {
    expect(await codeOf(MongoStore.open({ url: url!, database: 'no/slashes' }))).toBe('BAD_OPTIONS');
    expect(await codeOf(MongoStore.open({ database: 'x' }))).toBe('BAD_OPTIONS');
    expect(await codeOf(MongoStore.connect('http://127.0.0.1/', 'x'))).toBe('BAD_OPTIONS');
    const store = await open();
    await store.close();
    expect(await codeOf(store.head())).toBe('CLOSED');
  });
});
