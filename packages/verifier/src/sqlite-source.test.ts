import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { formatSigningKey, formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { decodeLeaf } from '@civic-ledger/leaf';
import { Ledger } from '@civic-ledger/ledger-core';
import { bootstrapEvents, TestEmitter, type TestSubmission } from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteSource, storeSource, verifyLog, type LogSource, type VerifyResult } from './index.ts';

const ORIGIN = 'sqlite-source.test.example/log';
const logKey = generateSigningKey(ORIGIN);
const opts = { logKey: formatVerifierKey(logKey), origin: ORIGIN };
const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';

function collect(n: number) {
  return {
    type: 'collect',
    source: SOURCE,
    dataset: { id: DATASET, version: `sha256:${(n % 16).toString(16).repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: 1000 + n,
  } as never;
}

let dir: string;
let path: string;
/** Index of an agency collect in the middle of the log (followed by the next on its chain). */
let victim: number;

// One honest log on SQLite: bootstrap, collects and transfers, a key rotation mid-log (so
// workers learn a key from the replay), checkpoints every 25 leaves.
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'verifier-sqlite-'));
  path = join(dir, 'ledger.db');
  const operator = new TestEmitter('ledger');
  const agency = new TestEmitter('transport-agency');
  const police = new TestEmitter('police');
  const store = new SqliteStore({ path });
  const ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: signerFromKeyText(formatSigningKey(logKey)),
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 25, maxDelayMs: 60_000 },
    signatureThreads: 0,
    now: () => Date.parse('2026-11-02T09:00:00Z'),
  });
  const submit = async (events: TestSubmission[]) => {
    for (const r of await ledger.submit(events)) if (!r.ok) throw new Error(r.error.message);
  };
  await submit(
    bootstrapEvents(operator, [agency, police], {}, [
      { kind: 'source', id: SOURCE },
      { kind: 'dataset', id: DATASET },
    ]),
  );
  for (let b = 0; b < 2; b++) {
    const batch: TestSubmission[] = [];
    for (let i = 0; i < 15; i++) batch.push(agency.next(collect(b * 15 + i)));
    await submit(batch);
  }
  const k2 = generateSigningKey('transport-agency/k2');
  await submit([
    agency.next({
      type: 'key',
      action: 'add',
      subjectOrg: 'transport-agency',
      subjectKey: k2.name,
      publicKey: formatVerifierKey(k2),
    } as never),
  ]);
  agency.key = k2;
  const batch: TestSubmission[] = [];
  for (let i = 0; i < 20; i++) batch.push(agency.next(collect(100 + i)));
  await submit(batch);
  await ledger.checkpointNow();
  await ledger.close();
  await store.close();
  victim = 17;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

let copies = 0;
/** A copy of the log changed with raw SQL: its path. */
function tampered(tamper: (db: DatabaseSync) => void): string {
  const copy = join(dir, `copy-${copies++}.db`);
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(path + suffix)) copyFileSync(path + suffix, copy + suffix);
  const db = new DatabaseSync(copy);
  tamper(db);
  db.close();
  return copy;
}

function leafAt(db: DatabaseSync, idx: number): Buffer {
  return Buffer.from(
    (db.prepare('SELECT leaf FROM leaves WHERE idx = ?').get(idx) as { leaf: Uint8Array }).leaf,
  );
}

/** One digit of the victim's event changed (its store event hash too, when `careful`). */
function changeRecords(db: DatabaseSync, careful: boolean): void {
  const leaf = leafAt(db, victim);
  const at = leaf.indexOf('"records":1');
  expect(at).toBeGreaterThan(0);
  leaf[at + 10] = '2'.charCodeAt(0);
  db.prepare('UPDATE leaves SET leaf = ? WHERE idx = ?').run(leaf, victim);
  if (careful)
    db.prepare('UPDATE leaves SET ehash = ? WHERE idx = ?').run(decodeLeaf(leaf).eventHash, victim);
}

/** A source that counts the chunks read on the calling thread. */
function counted(source: LogSource): LogSource & { reads: number } {
  const c = { ...source, reads: 0 };
  c.leaves = (from, to) => {
    c.reads++;
    return source.leaves(from, to);
  };
  return c;
}

/**
 * The file through sqliteSource (a worker reading its own chunks of 5; a worker and the
 * calling thread sharing them, shareDecoding; the calling thread alone) gives exactly the
 * reference path's verdict over the store.
 */
async function expectReference(file: string, checkSignatures: boolean): Promise<VerifyResult> {
  const store = new SqliteStore({ path: file });
  const reference = await verifyLog(storeSource(store), { ...opts, checkSignatures, fastPath: false });
  await store.close();
  const source = sqliteSource(file);
  try {
    for (const o of [{ threads: 1 }, { threads: 1, shareDecoding: true }, { threads: 0 }])
      expect(await verifyLog(source, { ...opts, ...o, checkSignatures, chunkSize: 5 })).toEqual(reference);
  } finally {
    source.close();
  }
  return reference;
}

describe('sqliteSource', () => {
  it('verifies an honest log with workers reading their own chunks, as storeSource does', async () => {
    const store = new SqliteStore({ path });
    const viaStore = await verifyLog(storeSource(store), opts);
    await store.close();
    expect(viaStore.ok).toBe(true);
    for (const checkSignatures of [true, false]) {
      const source = counted(sqliteSource(path));
      // decodeHere: false, so that with signatures too the workers read and decode.
      const r = await verifyLog(source, {
        ...opts,
        checkSignatures,
        threads: 2,
        chunkSize: 5,
        decodeHere: false,
      });
      expect(r).toEqual(viaStore);
      // The default with signatures: this thread decodes, the workers check signatures.
      const here = sqliteSource(path);
      expect(await verifyLog(here, { ...opts, checkSignatures, threads: 2, chunkSize: 5 })).toEqual(viaStore);
      here.close();
      // A worker and this thread sharing the chunks (shareDecoding) agree too.
      const again = sqliteSource(path);
      const shared = { ...opts, checkSignatures, threads: 1, chunkSize: 5, shareDecoding: true };
      expect(await verifyLog(again, shared)).toEqual(viaStore);
      again.close();
      // The workers read the leaves: this thread read only the chunks holding leaf 0,
      // registrations or keys (the reference path's: the first two and the rotation's),
      // and with signatures those a worker checked before it knew the rotated key.
      if (checkSignatures) expect(source.reads).toBeLessThan(Math.ceil((await source.size()) / 5));
      else expect(source.reads).toBe(3);
      (source as unknown as { close(): void }).close();
    }
  }, 30_000);

  it('a tampered leaf in the middle of a worker chunk is reported at its index with its check', async () => {
    // The store's event-hash column still names the original event.
    expect(
      await expectReference(
        tampered((db) => changeRecords(db, false)),
        true,
      ),
    ).toMatchObject({
      ok: false,
      index: victim,
      check: 'EVENT_HASH',
    });
    // Updated too: the signature no longer verifies; without signatures, the chain breaks at the next.
    const careful = tampered((db) => changeRecords(db, true));
    expect(await expectReference(careful, true)).toMatchObject({ index: victim, check: 'BAD_SIGNATURE' });
    expect(await expectReference(careful, false)).toMatchObject({ index: victim + 1, check: 'CHAIN_BREAK' });
    // The store's chain and seq columns.
    const seq = tampered((db) => db.prepare('UPDATE leaves SET seq = seq + 1 WHERE idx = ?').run(victim));
    expect(await expectReference(seq, false)).toMatchObject({ index: victim, check: 'LEAF_METADATA' });
    const chain = tampered((db) =>
      db.prepare("UPDATE leaves SET chain = 'police/main' WHERE idx = ?").run(victim),
    );
    expect(await expectReference(chain, false)).toMatchObject({ index: victim, check: 'LEAF_METADATA' });
  }, 60_000);

  it('rows deleted, swapped or missing at the end are reported as with storeSource', async () => {
    const deleted = tampered((db) => db.prepare('DELETE FROM leaves WHERE idx = ?').run(victim));
    expect(await expectReference(deleted, false)).toMatchObject({ index: victim, check: 'LEAF_INDEX' });
    const swapped = tampered((db) => {
      const a = leafAt(db, victim);
      const b = leafAt(db, victim + 5);
      db.prepare('UPDATE leaves SET leaf = ? WHERE idx = ?').run(b, victim);
      db.prepare('UPDATE leaves SET leaf = ? WHERE idx = ?').run(a, victim + 5);
    });
    expect(await expectReference(swapped, false)).toMatchObject({ index: victim, check: 'LEAF_INDEX' });
    const size = (
      new DatabaseSync(path, { readOnly: true }).prepare('SELECT size FROM head').get() as {
        size: number;
      }
    ).size;
    const last = tampered((db) => db.prepare('DELETE FROM leaves WHERE idx = ?').run(size - 1));
    expect(await expectReference(last, false)).toMatchObject({ index: size - 1, check: 'LEAF_MISSING' });
  }, 60_000);

  it('reads no row at or above the head', async () => {
    const file = tampered((db) => {
      const size = (db.prepare('SELECT size FROM head').get() as { size: number }).size;
      db.prepare("INSERT INTO leaves (idx, leaf, ehash, chain, seq) VALUES (?, x'00', 'x', 'x', 1)").run(
        size,
      );
    });
    const source = sqliteSource(file);
    try {
      const size = await source.size();
      expect((await source.leaves(size - 1, size + 5)).map((l) => l.index)).toEqual([size - 1]);
      expect(await verifyLog(source, { ...opts, threads: 2, chunkSize: 5 })).toMatchObject({
        ok: true,
        size,
      });
    } finally {
      source.close();
    }
  }, 30_000);

  it('when a worker cannot read the file, the calling thread reads and the verdict is the same', async () => {
    const file = tampered((db) => changeRecords(db, true));
    const real = sqliteSource(file);
    try {
      const source = counted({
        ...real,
        workerReader: { kind: 'sqlite', path: join(dir, 'missing', 'x.db') },
      });
      const r = await verifyLog(source, { ...opts, threads: 2, chunkSize: 5 });
      expect(r).toMatchObject({ ok: false, index: victim, check: 'BAD_SIGNATURE' });
      expect(r).toEqual(await verifyLog(real, { ...opts, fastPath: false }));
      expect(source.reads).toBeGreaterThanOrEqual(Math.ceil(victim / 5));
    } finally {
      real.close();
    }
  }, 30_000);
});

describe('worker threads and the compile cache', () => {
  it('workers start and verify when the application enabled a compile cache', () => {
    // A fresh process that enables Node's compile cache, as an application entry point may:
    // its workers boot through a stub that enables it for them too.
    const cache = join(dir, 'compile-cache');
    const index = new URL('./index.ts', import.meta.url).href;
    const script = `
      import module from 'node:module';
      module.enableCompileCache(${JSON.stringify(cache)});
      const { sqliteSource, verifyLog } = await import(${JSON.stringify(index)});
      const source = sqliteSource(${JSON.stringify(path)});
      let reads = 0;
      const counted = { ...source, leaves: (a, b) => (reads++, source.leaves(a, b)) };
      const r = await verifyLog(counted, {
        ...${JSON.stringify(opts)}, checkSignatures: false, threads: 1, chunkSize: 5,
      });
      source.close();
      process.stdout.write(JSON.stringify({ ok: r.ok, reads }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).not.toMatch(/Error/);
    // The worker read and decoded the chunks (a worker that failed to start would leave
    // every chunk to the calling thread): only the reference path's three were read here.
    expect(JSON.parse(child.stdout)).toEqual({ ok: true, reads: 3 });
    expect(readdirSync(cache).length).toBeGreaterThan(0);
  }, 30_000);
});
