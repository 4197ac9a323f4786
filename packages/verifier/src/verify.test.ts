import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  formatSigningKey,
  formatVerifierKey,
  generateSigningKey,
  type SigningKey,
} from '@civic-ledger/crypto';
import { decodeSubmission } from '@civic-ledger/events';
import { decodeLeaf, encodeLeaf } from '@civic-ledger/leaf';
import { Ledger, type SubmitResult } from '@civic-ledger/ledger-core';
import {
  addKey,
  genesisEvent,
  registerDataset,
  registerOrg,
  registerSource,
  TestEmitter,
  type TestSubmission,
} from '@civic-ledger/ledger-core/testing';
import { parseCheckpoint, parseNote, signCheckpoint, signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore, SqliteStore, type LedgerStore } from '@civic-ledger/storage';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { mutated, sortedJson, textEdit } from './fuzz.ts';
import {
  arraySource,
  storeSource,
  verifyLog,
  type VerifyOptions,
  type VerifyResult,
  type VerifierState,
} from './index.ts';

const ORIGIN = 'ledger.test.example/log';
const logKey = generateSigningKey(ORIGIN);
const logSigner = signerFromKeyText(formatSigningKey(logKey));
const LOG_KEY = formatVerifierKey(logKey);
const NOW = Date.parse('2026-11-02T09:00:00Z');
const ADMITTED = new Date(NOW).toISOString();

const dirs: string[] = [];
const toClose: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'verifier-'));
  dirs.push(d);
  return d;
}

function expectAllOk(results: SubmitResult[]): void {
  for (const r of results) if (!r.ok) throw new Error(`refused: ${r.error.code} ${r.error.message}`);
}

const digest = (c: string) => `sha256:${c.repeat(64)}`;

// Registered by the agency at the start of the history (movements name only registered ones).
const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';
// In the agency's namespace, never registered in the history.
const UNREGISTERED_SOURCE = 'transport-agency/cameras/south-01';
const UNREGISTERED_DATASET = 'transport-agency/parking-counts';

function collect(n: number) {
  return {
    type: 'collect',
    source: SOURCE,
    dataset: { id: DATASET, version: digest((n % 16).toString(16)) },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: 1000 + n,
  } as never;
}

function transfer(input: string) {
  return {
    type: 'transfer',
    dataset: { id: DATASET, version: digest('a') },
    inputs: [input],
    purpose: 'city:RoadSafetyEnforcement',
    declaration: 'd'.repeat(64),
    recipient: 'police',
  } as never;
}

interface History {
  /** Submissions in the order of the honest ledger, in batches. */
  batches: TestSubmission[][];
  agency: TestEmitter;
  police: TestEmitter;
  board: TestEmitter;
  operator: TestEmitter;
  /** The agency's first key, revoked during the history. */
  revokedKey: SigningKey;
}

/** A history with several organizations, lineage, an attestation, key rotation and revocation. */
function history(): History {
  const operator = new TestEmitter('ledger');
  const agency = new TestEmitter('transport-agency');
  const police = new TestEmitter('police');
  const board = new TestEmitter('oversight-board');
  const batches: TestSubmission[][] = [
    [
      genesisEvent(operator),
      registerOrg(operator, 'transport-agency', 'agency'),
      registerOrg(operator, 'police', 'agency'),
      registerOrg(operator, 'oversight-board', 'oversight'),
      addKey(operator, 'transport-agency', agency.verifierKey, agency.key.name),
      addKey(operator, 'police', police.verifierKey, police.key.name),
      addKey(operator, 'oversight-board', board.verifierKey, board.key.name),
      registerSource(agency, SOURCE),
      registerDataset(agency, DATASET, [SOURCE]),
    ],
  ];
  const collected: TestSubmission[] = [];
  for (let b = 0; b < 3; b++) {
    const batch: TestSubmission[] = [];
    for (let i = 0; i < 20; i++) {
      const c = agency.next(collect(b * 20 + i));
      collected.push(c);
      batch.push(c);
    }
    batch.push(agency.next(transfer(collected[collected.length - 5]!.hash)));
    batches.push(batch);
  }
  // Rotation: add k2, sign with it, revoke k1.
  const k1 = agency.key;
  const k2 = generateSigningKey('transport-agency/k2');
  const rotation = [
    agency.next({
      type: 'key',
      action: 'add',
      subjectOrg: 'transport-agency',
      subjectKey: k2.name,
      publicKey: formatVerifierKey(k2),
    } as never),
  ];
  agency.key = k2;
  rotation.push(
    agency.next(collect(100)),
    agency.next({
      type: 'key',
      action: 'revoke',
      subjectOrg: 'transport-agency',
      subjectKey: k1.name,
    } as never),
    board.next({ type: 'attest', about: { event: collected[3]!.hash }, statement: 'verified' } as never),
  );
  batches.push(rotation);
  for (let b = 0; b < 2; b++) {
    const batch: TestSubmission[] = [];
    for (let i = 0; i < 15; i++) batch.push(agency.next(collect(200 + b * 15 + i)));
    batches.push(batch);
  }
  return { batches, agency, police, board, operator, revokedKey: k1 };
}

async function openLedger(store: LedgerStore, operator: TestEmitter): Promise<Ledger> {
  return Ledger.open({
    store,
    origin: ORIGIN,
    logSigner,
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 25, maxDelayMs: 60_000 },
    signatureThreads: 0,
    now: () => NOW,
  });
}

async function appendAll(ledger: Ledger, batches: readonly TestSubmission[][]): Promise<void> {
  for (const b of batches) expectAllOk(await ledger.submit(b));
  await ledger.checkpointNow();
}

async function memoryLog(h: History = history()): Promise<{ store: MemoryStore; h: History }> {
  const store = new MemoryStore();
  const ledger = await openLedger(store, h.operator);
  await appendAll(ledger, h.batches);
  await ledger.close();
  return { store, h };
}

/** A finished SQLite log (ledger and store closed): its file. */
async function sqliteLog(h: History = history()): Promise<{ path: string; h: History }> {
  const path = join(tempDir(), 'ledger.db');
  const store = new SqliteStore({ path });
  const ledger = await openLedger(store, h.operator);
  await appendAll(ledger, h.batches);
  await ledger.close();
  await store.close();
  return { path, h };
}

/** A copy of a SQLite log, changed by `tamper` with raw SQL, opened as a store. */
function tamperedCopy(path: string, tamper: (db: DatabaseSync) => void): SqliteStore {
  const copy = join(tempDir(), 'copy.db');
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(path + suffix)) copyFileSync(path + suffix, copy + suffix);
  const db = new DatabaseSync(copy);
  tamper(db);
  db.close();
  const store = new SqliteStore({ path: copy });
  toClose.push(store);
  return store;
}

function openStore(path: string): SqliteStore {
  const store = new SqliteStore({ path });
  toClose.push(store);
  return store;
}

function leafAt(db: DatabaseSync, idx: number): Uint8Array {
  return (db.prepare('SELECT leaf FROM leaves WHERE idx = ?').get(idx) as { leaf: Uint8Array }).leaf;
}

async function leavesOf(store: LedgerStore): Promise<Uint8Array[]> {
  return (await store.getLeaves(0, (await store.head()).size)).map((l) => l.leaf);
}

async function notesOf(store: LedgerStore): Promise<string[]> {
  return (await store.listCheckpoints(0, 1e15)).map((c) => c.note);
}

function failure(r: VerifyResult) {
  if (r.ok) throw new Error('expected a failure');
  return r;
}

const opts = { logKey: LOG_KEY, origin: ORIGIN };

describe('an honest log verifies', () => {
  it('on a MemoryStore: every leaf and checkpoint, with and without signature checks', async () => {
    const { store } = await memoryLog();
    const head = await store.head();
    const progress: number[] = [];
    const r = await verifyLog(storeSource(store), {
      ...opts,
      chunkSize: 16,
      onProgress: (d) => progress.push(d),
    });
    expect(r).toMatchObject({ ok: true, size: head.size });
    if (!r.ok) return;
    expect(r.checkpoint?.size).toBe(head.size);
    expect(r.newState).toMatchObject({
      origin: ORIGIN,
      size: head.size,
      rootHash: Buffer.from(head.rootHash).toString('hex'),
    });
    expect(progress.at(-1)).toBe(head.size);
    expect((await notesOf(store)).length).toBeGreaterThanOrEqual(3);
    expect(await verifyLog(storeSource(store), { ...opts, checkSignatures: false })).toMatchObject({
      ok: true,
    });
    expect(
      await verifyLog(storeSource(store), { ...opts, signatureThreads: 2, chunkSize: 100 }),
    ).toMatchObject({
      ok: true,
    });
    // The same log as plain arrays, and with the operator's key pinned as well.
    const arrays = arraySource(await leavesOf(store), await notesOf(store));
    const h = history();
    expect(await verifyLog(arrays, opts)).toMatchObject({ ok: true, size: head.size });
    expect(failure(await verifyLog(arrays, { ...opts, operatorKey: h.operator.verifierKey }))).toMatchObject({
      index: 0,
      check: 'GENESIS',
    });
  });

  it('on a SqliteStore, and again later against the saved state as the log grows', async () => {
    const h = history();
    const path = join(tempDir(), 'ledger.db');
    const store = openStore(path);
    const ledger = await openLedger(store, h.operator);
    toClose.unshift(ledger);
    await appendAll(ledger, h.batches.slice(0, 3));
    const first = await verifyLog(storeSource(store), { ...opts, operatorKey: h.operator.verifierKey });
    expect(first.ok).toBe(true);
    const state = first.ok ? first.newState : undefined;
    expect(state?.size).toBe(ledger.size);
    await appendAll(ledger, h.batches.slice(3));
    const second = await verifyLog(storeSource(store), { ...opts, state: state! });
    expect(second).toMatchObject({ ok: true, size: ledger.size, newState: { size: ledger.size } });
    // A state without the border still pins the root.
    const { border: _b, ...bare } = state!;
    expect(await verifyLog(storeSource(store), { ...opts, state: bare })).toMatchObject({ ok: true });
  });

  it('an empty log verifies; a state for another origin does not', async () => {
    expect(await verifyLog(arraySource([]), opts)).toMatchObject({ ok: true, size: 0, newState: undefined });
    const state: VerifierState = { origin: 'other.example/log', size: 0, rootHash: '0'.repeat(64) };
    expect(failure(await verifyLog(arraySource([]), { ...opts, state }))).toMatchObject({
      check: 'STATE_ORIGIN',
    });
  });
});

describe('tampering with a SQLite log is caught at the right index', () => {
  it('one byte of a leaf changed', async () => {
    const { path } = await sqliteLog();
    const victim = 12; // an agency collect, followed by the next one on its chain
    const change = (db: DatabaseSync, from: string, to: string) => {
      const leaf = Buffer.from(leafAt(db, victim));
      const at = leaf.indexOf(from);
      expect(at).toBeGreaterThan(0);
      leaf[at + from.length - 1] = to.charCodeAt(0);
      db.prepare('UPDATE leaves SET leaf = ? WHERE idx = ?').run(leaf, victim);
    };
    // A digit of the event: still a well-formed event, but not the one that was signed. The
    // store's event-hash column still names the original event.
    const digit = tamperedCopy(path, (db) => change(db, '"records":1', '2'));
    expect(failure(await verifyLog(storeSource(digit), opts))).toMatchObject({
      index: victim,
      check: 'EVENT_HASH',
    });
    // A careful forger updates that column too: the signature no longer verifies.
    const careful = tamperedCopy(path, (db) => {
      change(db, '"records":1', '2');
      const hash = decodeLeaf(leafAt(db, victim)).eventHash;
      db.prepare('UPDATE leaves SET ehash = ? WHERE idx = ?').run(hash, victim);
    });
    expect(failure(await verifyLog(storeSource(careful), opts))).toMatchObject({
      index: victim,
      check: 'BAD_SIGNATURE',
    });
    // Without signature checks the next event of the chain no longer links to it.
    expect(failure(await verifyLog(storeSource(careful), { ...opts, checkSignatures: false }))).toMatchObject(
      {
        index: victim + 1,
        check: 'CHAIN_BREAK',
      },
    );
    // A byte of the structure: the leaf no longer parses as a leaf.
    const structure = tamperedCopy(path, (db) => change(db, '"admitted"', '!'));
    expect(failure(await verifyLog(storeSource(structure), opts))).toMatchObject({
      index: victim,
      check: 'LEAF_MALFORMED',
    });
    // The store's own event hash column disagrees with the leaf.
    const ehash = tamperedCopy(path, (db) =>
      db.prepare('UPDATE leaves SET ehash = ? WHERE idx = ?').run('f'.repeat(64), victim),
    );
    expect(failure(await verifyLog(storeSource(ehash), opts))).toMatchObject({
      index: victim,
      check: 'EVENT_HASH',
    });
  });

  it('a row deleted', async () => {
    const { path } = await sqliteLog();
    const store = tamperedCopy(path, (db) => db.prepare('DELETE FROM leaves WHERE idx = ?').run(30));
    expect(failure(await verifyLog(storeSource(store), opts))).toMatchObject({
      index: 30,
      check: 'LEAF_INDEX',
    });
    // The last row deleted: the log is one leaf short of its claimed size.
    const size = (await openStore(path).head()).size;
    const last = tamperedCopy(path, (db) => db.prepare('DELETE FROM leaves WHERE idx = ?').run(size - 1));
    expect(failure(await verifyLog(storeSource(last), opts))).toMatchObject({
      index: size - 1,
      check: 'LEAF_MISSING',
    });
  });

  it('two rows swapped', async () => {
    const { path } = await sqliteLog();
    const store = tamperedCopy(path, (db) => {
      db.exec('UPDATE leaves SET idx = -1 WHERE idx = 20');
      db.exec('UPDATE leaves SET idx = 20 WHERE idx = 40');
      db.exec('UPDATE leaves SET idx = 40 WHERE idx = -1');
    });
    expect(failure(await verifyLog(storeSource(store), opts))).toMatchObject({
      index: 20,
      check: 'LEAF_INDEX',
    });
    // Swapping only the leaf bytes (the index column kept in place) is caught the same way.
    const bytes = tamperedCopy(path, (db) => {
      const a = leafAt(db, 20);
      const b = leafAt(db, 40);
      db.prepare('UPDATE leaves SET leaf = ? WHERE idx = ?').run(b, 20);
      db.prepare('UPDATE leaves SET leaf = ? WHERE idx = ?').run(a, 40);
    });
    expect(failure(await verifyLog(storeSource(bytes), opts))).toMatchObject({
      index: 20,
      check: 'LEAF_INDEX',
    });
  });

  it('a checkpoint signed by a different key, and a checkpoint over a different root', async () => {
    const { path } = await sqliteLog();
    const honest = openStore(path);
    const [, second] = await honest.listCheckpoints(0, 1e15);
    const size = second!.size;
    const impostor = signerFromKeyText(formatSigningKey(generateSigningKey(ORIGIN)));
    const body = (root: Uint8Array) => ({ origin: ORIGIN, size, rootHash: root, extensions: [] });
    const real = parseCheckpoint(parseNote(second!.note).text).rootHash;
    const wrongKey = tamperedCopy(path, (db) =>
      db
        .prepare('UPDATE checkpoints SET note = ? WHERE size = ?')
        .run(signCheckpoint(body(real), impostor), size),
    );
    expect(failure(await verifyLog(storeSource(wrongKey), opts))).toMatchObject({
      index: size,
      check: 'CHECKPOINT_SIGNATURE',
    });
    const otherRoot = new Uint8Array(32).fill(7);
    const wrongRoot = tamperedCopy(path, (db) =>
      db
        .prepare('UPDATE checkpoints SET note = ? WHERE size = ?')
        .run(signCheckpoint(body(otherRoot), logSigner), size),
    );
    expect(failure(await verifyLog(storeSource(wrongRoot), opts))).toMatchObject({
      index: size,
      check: 'CHECKPOINT_ROOT',
    });
    // A checkpoint for another log (origin) signed with the log's key.
    const otherOrigin = tamperedCopy(path, (db) =>
      db
        .prepare('UPDATE checkpoints SET note = ? WHERE size = ?')
        .run(signCheckpoint({ ...body(real), origin: 'elsewhere.example/log' }, logSigner), size),
    );
    expect(failure(await verifyLog(storeSource(otherOrigin), opts))).toMatchObject({
      index: size,
      check: 'CHECKPOINT_ORIGIN',
    });
  });

  it('the log truncated below a checkpoint the saved state has seen', async () => {
    const { path } = await sqliteLog();
    const first = await verifyLog(storeSource(openStore(path)), opts);
    if (!first.ok) throw new Error(first.message);
    const state = first.newState!;
    const cut = 40;
    const truncate = (db: DatabaseSync, dropCheckpoints: boolean) => {
      db.prepare('DELETE FROM leaves WHERE idx >= ?').run(cut);
      if (dropCheckpoints) db.prepare('DELETE FROM checkpoints WHERE size > ?').run(cut);
      db.prepare('UPDATE head SET size = ? WHERE id = 1').run(cut);
    };
    // The operator hid its later checkpoints too: only the saved state shows the truncation.
    const hidden = tamperedCopy(path, (db) => truncate(db, true));
    expect(await verifyLog(storeSource(hidden), opts)).toMatchObject({ ok: true, size: cut });
    expect(failure(await verifyLog(storeSource(hidden), { ...opts, state }))).toMatchObject({
      index: cut,
      check: 'LOG_TRUNCATED',
    });
    // With its checkpoints left in place, the log contradicts its own signed checkpoints
    // (storeSource reads only those up to the head: a source serving them all is caught).
    const shown = tamperedCopy(path, (db) => truncate(db, false));
    const all = arraySource(await leavesOf(shown), await notesOf(shown));
    expect(failure(await verifyLog(all, opts))).toMatchObject({
      index: cut,
      check: 'LOG_TRUNCATED',
    });
  });
});

describe('a log rewritten and re-signed with the real log key', () => {
  it('verifies on its own but is caught against the saved state', async () => {
    const h = history();
    const { store: original } = await memoryLog(h);
    const first = await verifyLog(storeSource(original), opts);
    if (!first.ok) throw new Error(first.message);
    const state = first.newState!;

    // The same events up to the rotation; then the operator reorders the rest (police and
    // agency chains interleaved differently), which every per-event check accepts.
    const rewrittenAt = h.batches.slice(0, 4).reduce((n, b) => n + b.length, 0);
    const rest = h.batches.slice(4).flat();
    const reordered = [
      ...rest.filter((s) => s.event['emitter'] === 'oversight-board'),
      ...rest.filter((s) => s.event['emitter'] !== 'oversight-board'),
    ];
    const forged = new MemoryStore();
    const ledger = await openLedger(forged, h.operator);
    await appendAll(ledger, [...h.batches.slice(0, 4), ...[reordered]]);
    await ledger.close();
    expect((await forged.head()).size).toBe(state.size);

    expect(await verifyLog(storeSource(forged), opts)).toMatchObject({ ok: true, size: state.size });
    const caught = failure(await verifyLog(storeSource(forged), { ...opts, state }));
    expect(caught.check).toBe('LOG_REWRITTEN');
    // Located to the first subtree that differs: it contains the first rewritten leaf.
    expect(caught.range![0]).toBe(caught.index);
    expect(caught.index).toBeLessThanOrEqual(rewrittenAt);
    expect(caught.range![1]).toBeGreaterThan(rewrittenAt);
    // Without the border, the root at the saved size still differs.
    const { border: _b, ...bare } = state;
    expect(failure(await verifyLog(storeSource(forged), { ...opts, state: bare }))).toMatchObject({
      index: state.size,
      check: 'LOG_REWRITTEN',
    });
  });
});

describe('forged leaves (plain arrays): every admission rule is replayed', () => {
  /** The honest log's leaves, then one crafted leaf at the end. */
  async function withExtra(store: LedgerStore, extra: TestSubmission) {
    const leaves = await leavesOf(store);
    const d = decodeSubmission(extra);
    const leaf = encodeLeaf({
      index: leaves.length,
      admitted: ADMITTED,
      eventCanonical: d.canonical,
      signature: Buffer.from(d.signature).toString('base64'),
    });
    return { source: arraySource([...leaves, leaf]), index: leaves.length, hash: d.hash };
  }

  it.each([
    [
      'an event signed with the revoked key',
      'KEY_REVOKED',
      (h: History) => {
        const e = new TestEmitter('transport-agency', { key: h.revokedKey });
        e.seq = h.agency.seq;
        e.prev = h.agency.prev;
        return e.next(collect(999));
      },
    ],
    [
      'an unregistered key',
      'UNKNOWN_KEY',
      (h: History) =>
        h.agency.peek(
          collect(999),
          { key: 'transport-agency/k9' },
          generateSigningKey('transport-agency/k9'),
        ),
    ],
    [
      'a forged signature',
      'BAD_SIGNATURE',
      (h: History) => {
        const s = h.agency.peek(collect(999));
        return { ...s, signature: h.agency.peek(collect(998)).signature } as TestSubmission;
      },
    ],
    [
      'a gap in a chain',
      'CHAIN_BREAK',
      (h: History) => h.agency.peek(collect(999), { seq: h.agency.seq + 2 }),
    ],
    [
      'a replayed seq',
      'CHAIN_BREAK',
      (h: History) => h.agency.peek(collect(999), { seq: h.agency.seq, prev: h.agency.prev }),
    ],
    [
      'an attest by an agency',
      'NOT_PERMITTED',
      (h: History) =>
        h.agency.peek({ type: 'attest', about: { event: h.agency.prev }, statement: 'verified' } as never),
    ],
    [
      'a transfer of an unknown input',
      'UNKNOWN_INPUT',
      (h: History) => h.agency.peek(transfer('9'.repeat(64))),
    ],
    [
      'an event of an unregistered organization',
      'UNKNOWN_KEY',
      () => new TestEmitter('ghost-org').next(collect(1)),
    ],
    [
      'an organization registered twice',
      'ALREADY_REGISTERED',
      (h: History) => registerOrg(h.operator, 'police', 'agency'),
    ],
    [
      'a collect from an unregistered source',
      'UNKNOWN_SUBJECT',
      (h: History) => h.agency.peek(collect(999), { source: UNREGISTERED_SOURCE }),
    ],
    [
      'a transfer of an unregistered dataset',
      'UNKNOWN_SUBJECT',
      (h: History) =>
        h.agency.peek(transfer(h.agency.prev), {
          dataset: { id: UNREGISTERED_DATASET, version: digest('a') },
        }),
    ],
    [
      'a collect into a source (registered, but not as a dataset)',
      'UNKNOWN_SUBJECT',
      (h: History) => h.agency.peek(collect(999), { dataset: { id: SOURCE, version: digest('a') } }),
    ],
    [
      'a dataset registered with an unregistered source',
      'UNKNOWN_SUBJECT',
      (h: History) => registerDataset(h.agency, UNREGISTERED_DATASET, [SOURCE, UNREGISTERED_SOURCE]),
    ],
  ])('%s: %s', async (_name, check, make) => {
    const { store, h } = await memoryLog();
    const { source, index, hash } = await withExtra(store, make(h));
    const r = await verifyLog(source, opts);
    expect(failure(r)).toMatchObject({ index, check, eventHash: hash });
    // The reference path says the same, word for word.
    expect(await verifyLog(source, { ...opts, fastPath: false })).toEqual(r);
  });

  it('worker-thread signature checks catch a forged signature and the revoked key alike', async () => {
    const { store, h } = await memoryLog();
    const good = h.agency.peek(collect(999));
    const forged = { ...good, signature: h.agency.peek(collect(998)).signature } as TestSubmission;
    const { source, index } = await withExtra(store, forged);
    expect(failure(await verifyLog(source, { ...opts, signatureThreads: 2 }))).toMatchObject({
      index,
      check: 'BAD_SIGNATURE',
    });
    const honest = await withExtra(store, good);
    expect(await verifyLog(honest.source, { ...opts, signatureThreads: 2 })).toMatchObject({ ok: true });
    // Fast mode does not look at signatures, but still at which key is in force.
    expect(await verifyLog(source, { ...opts, checkSignatures: false })).toMatchObject({ ok: true });
  });

  it('leaf 0 must be the operator adding its own key', async () => {
    const { store } = await memoryLog();
    const leaves = await leavesOf(store);
    const renumbered = leaves.slice(1).map((l, i) => {
      const d = decodeLeaf(l);
      return encodeLeaf({ ...d, index: i });
    });
    expect(failure(await verifyLog(arraySource(renumbered), opts))).toMatchObject({
      index: 0,
      check: 'GENESIS',
    });
  });
});

describe('the fast path and worker threads give the reference verdicts', () => {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  /** Every way of running the verifier gives the reference path's result. */
  async function expectSameVerdicts(
    source: ReturnType<typeof arraySource>,
    o: VerifyOptions,
    workers = false,
  ) {
    const reference = await verifyLog(source, { ...o, fastPath: false });
    expect(await verifyLog(source, { ...o, threads: 0 })).toEqual(reference);
    if (workers) {
      // With signatures: decoded here and checked on the workers (the default), and read,
      // decoded and checked on the workers.
      expect(await verifyLog(source, { ...o, threads: 2, chunkSize: 3 })).toEqual(reference);
      expect(await verifyLog(source, { ...o, threads: 2, chunkSize: 3, decodeHere: false })).toEqual(
        reference,
      );
    }
    return reference;
  }

  /** A leaf whose event is replaced by `event` (written canonically), all else kept. */
  function withEvent(leaf: Uint8Array, event: unknown): Uint8Array {
    const text = decoder.decode(leaf);
    const start = text.indexOf('"event":') + 8;
    const end = text.lastIndexOf(',"index":');
    return encoder.encode(text.slice(0, start) + sortedJson(event) + text.slice(end));
  }

  it('on leaves tampered with at random (text edits, changed events, rows moved)', async () => {
    const { store } = await memoryLog();
    const leaves = await leavesOf(store);
    const notes = await notesOf(store);
    const tamper = fc.oneof(
      fc
        .tuple(fc.nat(), fc.array(textEdit, { minLength: 1, maxLength: 2 }))
        .map(([at, edits]) => (l: Uint8Array[]) => {
          const i = at % l.length;
          l[i] = encoder.encode(edits.reduce((t, f) => f(t), decoder.decode(l[i]!)));
        }),
      fc.nat().chain((at) => {
        const i = at % leaves.length;
        const event = JSON.parse(decoder.decode(leaves[i]!)).event as unknown;
        return mutated(event).map((e) => (l: Uint8Array[]) => {
          l[i % l.length] = withEvent(l[i % l.length]!, e);
        });
      }),
      fc
        .tuple(fc.nat(), fc.nat(), fc.constantFrom('swap', 'drop', 'repeat'))
        .map(([a, b, how]) => (l: Uint8Array[]) => {
          const i = a % l.length;
          const j = b % l.length;
          if (how === 'swap') [l[i], l[j]] = [l[j]!, l[i]!];
          else if (how === 'drop') l.splice(i, 1);
          else l.splice(i, 0, l[j]!);
        }),
    );
    let failures = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(tamper, { minLength: 1, maxLength: 2 }),
        fc.boolean(),
        async (edits, checkSignatures) => {
          const copy = [...leaves];
          for (const edit of edits) edit(copy);
          // FUZZ_WORKERS=1 runs every case on worker threads too (slower: threads start per run).
          const r = await expectSameVerdicts(
            arraySource(copy, notes),
            { ...opts, checkSignatures },
            process.env['FUZZ_WORKERS'] === '1',
          );
          if (!r.ok) failures++;
        },
      ),
      { numRuns: Number(process.env['FUZZ_RUNS'] ?? 30) },
    );
    expect(failures).toBeGreaterThan(10);
  }, 60_000);

  it('on worker threads, across key rotation and revocation, small chunks and store metadata', async () => {
    const { store, h } = await memoryLog();
    const leaves = await leavesOf(store);
    // The honest log, with the store's index columns checked, chunk boundaries everywhere.
    const honest = await verifyLog(storeSource(store), { ...opts, threads: 2, chunkSize: 3 });
    expect(honest).toEqual(await verifyLog(storeSource(store), { ...opts, fastPath: false }));
    expect(
      await verifyLog(storeSource(store), { ...opts, threads: 2, chunkSize: 3, decodeHere: false }),
    ).toEqual(honest);
    expect(honest.ok).toBe(true);
    // A signature forged right after the rotation, and an event still signed with the
    // revoked key, each judged as the reference path judges them.
    const good = h.agency.peek(collect(999));
    const forged = { ...good, signature: h.agency.peek(collect(998)).signature } as TestSubmission;
    const d = decodeSubmission(forged);
    const leaf = encodeLeaf({
      index: leaves.length,
      admitted: ADMITTED,
      eventCanonical: d.canonical,
      signature: Buffer.from(d.signature).toString('base64'),
    });
    const r = await expectSameVerdicts(arraySource([...leaves, leaf], await notesOf(store)), opts, true);
    expect(r).toMatchObject({ ok: false, check: 'BAD_SIGNATURE', index: leaves.length });
    // A leaf's byte changed mid-log: caught at the same index by every path.
    const bytes = leaves.map((l, i) =>
      i === 30 ? withEvent(l, { ...JSON.parse(decoder.decode(l)).event, records: 1 }) : l,
    );
    const t = await expectSameVerdicts(arraySource(bytes, await notesOf(store)), opts, true);
    expect(t).toMatchObject({ ok: false, index: 30 });
  }, 60_000);

  it('an unregistered dataset or source mid-log: UNKNOWN_SUBJECT at its position, on every path', async () => {
    const { store, h } = await memoryLog();
    const leaves = await leavesOf(store);
    const notes = await notesOf(store);
    const agency = h.agency;
    const before = [agency.next(collect(500)), agency.next(collect(501)), agency.next(collect(502))];
    const at = { seq: agency.seq, prev: agency.prev };
    const LATER = 'transport-agency/registered-later';
    const into = (id: string, n: number) =>
      ({ ...(collect(n) as object), dataset: { id, version: digest('b') } }) as never;
    /** The honest leaves, `before`, then `events` and two more collects (signed, the agency's chain). */
    const log = (events: (e: TestEmitter) => TestSubmission[]) => {
      Object.assign(agency, at);
      const subs = [...before, ...events(agency), agency.next(collect(510)), agency.next(collect(511))];
      const extra = subs.map((s, i) => {
        const d = decodeSubmission(s);
        return encodeLeaf({
          index: leaves.length + i,
          admitted: ADMITTED,
          eventCanonical: d.canonical,
          signature: Buffer.from(d.signature).toString('base64'),
        });
      });
      return { source: arraySource([...leaves, ...extra], notes), bad: subs[before.length]! };
    };
    const cases: [string, (e: TestEmitter) => TestSubmission[], string][] = [
      [
        'a collect from an unregistered source',
        (e) => [e.next({ ...(collect(503) as object), source: UNREGISTERED_SOURCE } as never)],
        `/source: source ${UNREGISTERED_SOURCE} is not registered`,
      ],
      [
        'a transfer of an unregistered dataset',
        (e) => [
          e.next({
            ...(transfer(before[0]!.hash) as object),
            dataset: { id: UNREGISTERED_DATASET, version: digest('b') },
          } as never),
        ],
        `/dataset/id: dataset ${UNREGISTERED_DATASET} is not registered`,
      ],
      [
        'a collect into a source id',
        (e) => [e.next(into(SOURCE, 503))],
        `/dataset/id: dataset ${SOURCE} is not registered`,
      ],
      [
        'a collect into a dataset registered only after it',
        (e) => [e.next(into(LATER, 503)), registerDataset(e, LATER), e.next(into(LATER, 504))],
        `/dataset/id: dataset ${LATER} is not registered`,
      ],
      [
        'a dataset registered with an unregistered source',
        (e) => [registerDataset(e, LATER, [SOURCE, UNREGISTERED_SOURCE])],
        `/subject/sources/1: source ${UNREGISTERED_SOURCE} is not registered`,
      ],
    ];
    const index = leaves.length + before.length;
    for (const [k, [name, events, message]] of cases.entries()) {
      const { source, bad } = log(events);
      for (const checkSignatures of [true, false]) {
        // Worker threads (chunks of 3, threads start per run) for the two names a worker hands
        // over (dataset and source), with signatures; every case on the fast path and the reference.
        const workers = k < 2 && checkSignatures;
        const r = await expectSameVerdicts(source, { ...opts, checkSignatures }, workers);
        expect(r, name).toEqual({
          ok: false,
          index,
          eventHash: bad.hash,
          check: 'UNKNOWN_SUBJECT',
          message,
        });
      }
    }
    // Registered first (in the same chunk), the same movement is accepted on every path.
    const { source } = log((e) => [registerDataset(e, LATER, [SOURCE]), e.next(into(LATER, 503))]);
    expect(await expectSameVerdicts(source, opts, true)).toMatchObject({ ok: true, size: index + 4 });
  }, 60_000);
});
