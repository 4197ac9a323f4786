import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import {
  formatSigningKey,
  formatVerifierKey,
  fromHex,
  generateSigningKey,
  toHex,
} from '@civic-ledger/crypto';
import { hashLeaf, verifyConsistency, verifyInclusion } from '@civic-ledger/merkle';
import { openCheckpoint, signerFromKeyText, verifierFromKeyText } from '@civic-ledger/signed-note';
import {
  MemoryStore,
  SqliteStore,
  type AppendBatch,
  type LedgerHead,
  type LedgerStore,
  type WriterLease,
} from '@civic-ledger/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeSubmission } from '@civic-ledger/events';
import { deadLocalOwner, Ledger, localOwner, type SubmitResult } from './index.ts';
import { bootstrapEvents, registerDataset, registerSource, TestEmitter } from './testing.ts';

const ORIGIN = 'ledger.test.example/log';
const logKey = generateSigningKey('ledger.test.example/log');
const logSigner = signerFromKeyText(formatSigningKey(logKey));
const logVerifier = verifierFromKeyText(formatVerifierKey(logKey));
const NOW = Date.parse('2026-11-02T09:00:00Z');
const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';
/** Entries of the bootstrap: genesis, two organizations, their two keys, the source and the dataset. */
const BOOT = 7;

const open: Ledger[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const l of open.splice(0)) await l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface World {
  ledger: Ledger;
  store: LedgerStore;
  operator: TestEmitter;
  agency: TestEmitter;
  police: TestEmitter;
}

async function world(
  options: { store?: LedgerStore; threads?: number; maxEntries?: number } = {},
): Promise<World> {
  const store = options.store ?? new MemoryStore();
  const operator = new TestEmitter('ledger');
  const ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner,
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: options.maxEntries ?? 1000, maxDelayMs: 60_000 },
    signatureThreads: options.threads ?? 0,
    now: () => NOW,
  });
  open.push(ledger);
  const agency = new TestEmitter('transport-agency');
  const police = new TestEmitter('police');
  expectAllOk(
    await ledger.submit(
      bootstrapEvents(operator, [agency, police], {}, [
        { kind: 'source', id: SOURCE },
        { kind: 'dataset', id: DATASET },
      ]),
    ),
  );
  return { ledger, store, operator, agency, police };
}

function expectAllOk(results: SubmitResult[]): void {
  for (const r of results) {
    if (!r.ok) throw new Error(`refused: ${r.error.code} ${r.error.message}`);
  }
}

function codes(results: SubmitResult[]): string[] {
  return results.map((r) => (r.ok ? (r.duplicate ? 'duplicate' : 'ok') : r.error.code));
}

const d = (c: string) => `sha256:${c.repeat(64)}`;

/** A collect of the registered source and dataset, unless told other names. */
function collect(n: number, names: { source?: string; dataset?: string } = {}) {
  return {
    type: 'collect',
    source: names.source ?? SOURCE,
    dataset: { id: names.dataset ?? DATASET, version: d((n % 16).toString(16)) },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: n,
  } as const;
}

function transfer(input: string, recipient = 'police', dataset = DATASET) {
  return {
    type: 'transfer',
    dataset: { id: dataset, version: d('a') },
    inputs: [input],
    purpose: 'city:RoadSafetyEnforcement',
    declaration: 'd'.repeat(64),
    recipient,
  } as const;
}

/** A MemoryStore whose appends wait, while `hold` is set, until the test lets them through or fails them. */
class GatedStore extends MemoryStore {
  hold = false;
  /** expectedSize of every append called. */
  readonly calls: number[] = [];
  readonly #gates: { pass: () => void; fail: (e: Error) => void }[] = [];
  override async append(lease: WriterLease, expectedSize: number, batch: AppendBatch): Promise<LedgerHead> {
    this.calls.push(expectedSize);
    if (this.hold) await new Promise<void>((pass, fail) => this.#gates.push({ pass, fail }));
    return super.append(lease, expectedSize, batch);
  }
  pass(): void {
    this.#gates.shift()!.pass();
  }
  fail(e: Error): void {
    this.#gates.shift()!.fail(e);
  }
}

/** Lets every pending promise chain run (the stores here answer without timers). */
const settle = () => new Promise((r) => setImmediate(r));

describe('pipelined commits', () => {
  it('admits the next batch while one commits, on the state that one leaves, and answers each after its commit', async () => {
    const store = new GatedStore();
    const { ledger, agency } = await world({ store });
    store.calls.length = 0;
    const before = agency.prev;
    const a1 = agency.next(collect(1));
    const a2 = agency.next(collect(2));
    store.hold = true;
    let answeredA = false;
    const pa = ledger.submit([a1, a2]).then((r) => ((answeredA = true), r));
    await settle();
    expect(store.calls).toEqual([BOOT]);
    // The next batch continues a1..a2's chain, names a1 as an input, repeats a1 and forks it.
    const b1 = agency.next(collect(3));
    const b2 = agency.next(transfer(a1.hash));
    const fork = agency.peek(collect(9), { seq: a1.event.seq, prev: before });
    const pb = ledger.submit([b1, b2, a1, fork]);
    await settle();
    await settle();
    expect(answeredA).toBe(false);
    expect(ledger.size).toBe(BOOT); // committed size: a1..a2 are not yet
    expect(store.calls).toEqual([BOOT]); // b is admitted, not written before a commits
    store.pass();
    const ra = await pa;
    expectAllOk(ra);
    await settle();
    expect(store.calls).toEqual([BOOT, BOOT + 2]);
    store.pass();
    const rb = await pb;
    expect(codes(rb)).toEqual(['ok', 'ok', 'duplicate', 'CHAIN_FORK']);
    expect(rb.map((r) => r.ok && r.receipt.index)).toEqual([BOOT + 2, BOOT + 3, BOOT, false]);
    expect(rb[2]!.ok && rb[2]!.receipt).toEqual(ra[0]!.ok && ra[0]!.receipt);
    expect(rb[3]).toMatchObject({ error: { details: { existingHash: a1.hash } } });
    expect(ledger.size).toBe(BOOT + 4);
    expect(toHex(ledger.rootHash)).toBe(toHex((await store.head()).rootHash));
  });

  it('refuses a batch admitted on one whose commit fails, writes nothing of either, and goes on', async () => {
    const store = new GatedStore();
    const { ledger, agency } = await world({ store });
    store.calls.length = 0;
    const a1 = agency.next(collect(1));
    const b1 = agency.next(collect(2));
    const b2 = agency.next(transfer(a1.hash));
    store.hold = true;
    const pa = ledger.submit([a1]);
    await settle();
    const pb = ledger.submit([b1, b2]);
    await settle();
    await settle();
    store.fail(new Error('disk full'));
    const ra = await pa;
    expect(ra[0]).toMatchObject({ ok: false, error: { code: 'STORE_FAILED', message: /disk full/ } });
    const rb = await pb;
    for (const r of rb)
      expect(r).toMatchObject({
        ok: false,
        error: { code: 'STORE_FAILED', message: /before this one failed/ },
      });
    expect(store.calls).toEqual([BOOT]);
    expect((await store.head()).size).toBe(BOOT);
    expect(ledger.size).toBe(BOOT);
    // The same events again: the ledger's state is the committed one, nothing of a1..b2 in it.
    store.hold = false;
    const again = await ledger.submit([a1, b1, b2]);
    expect(again.map((r) => r.ok && r.receipt.index)).toEqual([BOOT, BOOT + 1, BOOT + 2]);
    expect(toHex(ledger.rootHash)).toBe(toHex((await store.head()).rootHash));
  });
});

describe('admission', () => {
  it('appends a bootstrapped ledger and answers receipts only after the commit', async () => {
    const { ledger, store, agency } = await world();
    const events = [agency.next(collect(1)), agency.next(collect(2))];
    const results = await ledger.submit(events);
    expectAllOk(results);
    const head = await store.head();
    for (const r of results) {
      if (!r.ok) continue;
      expect(r.receipt.index).toBeLessThan(head.size);
      const [leaf] = await store.getLeaves(r.receipt.index, r.receipt.index + 1);
      expect(toHex(hashLeaf(leaf!.leaf))).toBe(r.receipt.leafHash);
      expect(leaf!.eventHash).toBe(r.receipt.eventHash);
    }
    expect(results.map((r) => r.ok && r.receipt.index)).toEqual([BOOT, BOOT + 1]);
    expect(toHex(head.rootHash)).toBe(toHex(ledger.rootHash));
  });

  it('answers a duplicate with the original receipt, within a batch and later', async () => {
    const { ledger, agency } = await world();
    const e = agency.next(collect(1));
    const [first, again] = await ledger.submit([e, e]);
    expect(first!.ok && again!.ok && again!.duplicate).toBe(true);
    const [later] = await ledger.submit([e]);
    expect(later).toMatchObject({ ok: true, duplicate: true });
    expect(later!.ok && first!.ok && later!.receipt).toEqual(first!.ok && first!.receipt);
    expect(ledger.size).toBe(BOOT + 1);
  });

  it('tells duplicates from forks among the events of one batch, at any depth of its chain', async () => {
    const { ledger, agency } = await world();
    const prev0 = agency.prev;
    const e1 = agency.next(collect(1));
    const seq1 = agency.seq;
    const e2 = agency.next(collect(2));
    const e3 = agency.next(collect(3));
    const forkOf1 = agency.peek(collect(7), { seq: seq1, prev: prev0 });
    const forkOf2 = agency.peek(collect(8), { seq: seq1 + 1, prev: e1.hash });
    const results = await ledger.submit([e1, e2, e3, forkOf1, e1, forkOf2, e2]);
    expect(codes(results)).toEqual(['ok', 'ok', 'ok', 'CHAIN_FORK', 'duplicate', 'CHAIN_FORK', 'duplicate']);
    expect(results[3]).toMatchObject({ error: { details: { seq: seq1, existingHash: e1.hash } } });
    expect(results[5]).toMatchObject({ error: { details: { seq: seq1 + 1, existingHash: e2.hash } } });
    expect(results[4]!.ok && results[4]!.receipt).toEqual(results[0]!.ok && results[0]!.receipt);
    expect(results[6]!.ok && results[6]!.receipt).toEqual(results[1]!.ok && results[1]!.receipt);
    expect(ledger.size).toBe(BOOT + 3);
  });

  it('refuses a gap naming the expected seq, a fork, and a bad prev naming the expected prev', async () => {
    const { ledger, agency } = await world();
    // The agency's chain already holds its source and dataset registrations.
    const prev1 = agency.prev;
    const e1 = agency.next(collect(1));
    const seq1 = agency.seq;
    expectAllOk(await ledger.submit([e1]));
    const gap = agency.peek(collect(9), { seq: seq1 + 4 });
    const [g] = await ledger.submit([gap]);
    expect(g).toMatchObject({ ok: false, error: { code: 'CHAIN_GAP', details: { expectedSeq: seq1 + 1 } } });
    // Another event at e1's position, after the same predecessor.
    const fork = agency.peek(collect(7), { seq: seq1, prev: prev1 });
    const [f] = await ledger.submit([fork]);
    expect(f).toMatchObject({ ok: false, error: { code: 'CHAIN_FORK', details: { existingHash: e1.hash } } });
    const badPrev = agency.peek(collect(3), { prev: 'f'.repeat(64) });
    const [b] = await ledger.submit([badPrev]);
    expect(b).toMatchObject({
      ok: false,
      error: { code: 'CHAIN_BAD_PREV', details: { expectedPrev: e1.hash } },
    });
    expect(ledger.size).toBe(BOOT + 1);
  });

  it('checks the key in force at the ledger position: unknown, bad signature, revoked from its position on', async () => {
    const { ledger, agency, operator } = await world();
    const stranger = generateSigningKey('transport-agency/k9');
    const [unknown] = await ledger.submit([
      agency.peek(collect(1), { key: 'transport-agency/k9' }, stranger),
    ]);
    expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_KEY' } });
    const forged = agency.peek(collect(1));
    forged.signature = agency.peek(collect(2)).signature;
    const [bad] = await ledger.submit([forged]);
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });

    // Rotation: add k2, use it, revoke k1; k1 is refused from the revocation on.
    const k2 = generateSigningKey('transport-agency/k2');
    const before = agency.next(collect(3));
    const add = agency.next({
      type: 'key',
      action: 'add',
      subjectOrg: 'transport-agency',
      subjectKey: k2.name,
      publicKey: formatVerifierKey(k2),
    } as never);
    const k1 = agency.key;
    agency.key = k2;
    const withK2 = agency.next(collect(4));
    const revoke = agency.next({
      type: 'key',
      action: 'revoke',
      subjectOrg: 'transport-agency',
      subjectKey: k1.name,
    } as never);
    expectAllOk(await ledger.submit([before, add, withK2, revoke]));
    agency.key = k1;
    const [afterRevoke] = await ledger.submit([agency.peek(collect(5))]);
    expect(afterRevoke).toMatchObject({ ok: false, error: { code: 'KEY_REVOKED' } });
    // Only the operator re-keys another organization; an organization cannot add keys for another.
    const [foreign] = await ledger.submit([
      operator.peek({
        type: 'register',
        subject: { kind: 'organization', id: 'police', name: 'Again', role: 'agency', jurisdiction: 'NL' },
      } as never),
    ]);
    expect(foreign).toMatchObject({ ok: false, error: { code: 'ALREADY_REGISTERED' } });
  });

  it('refuses events of unregistered organizations, attest from non-oversight, and unknown inputs', async () => {
    const { ledger, operator, agency } = await world();
    const ghost = new TestEmitter('ghost-org');
    const [g] = await ledger.submit([ghost.next(collect(1))]);
    expect(g).toMatchObject({ ok: false, error: { code: 'UNKNOWN_KEY' } });
    const [noInput] = await ledger.submit([agency.peek(transfer('9'.repeat(64)))]);
    expect(noInput).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_INPUT', details: { input: '9'.repeat(64) } },
    });
    const c = agency.next(collect(1));
    const t = agency.next(transfer(c.hash));
    expect(codes(await ledger.submit([c, t]))).toEqual(['ok', 'ok']);
    const attest = agency.peek({ type: 'attest', about: { event: c.hash }, statement: 'verified' } as never);
    const [a] = await ledger.submit([attest]);
    expect(a).toMatchObject({ ok: false, error: { code: 'NOT_PERMITTED' } });
    void operator;
  });

  it('refuses movements of unregistered datasets, collects from unregistered sources, and datasets naming unregistered sources', async () => {
    const { ledger, agency } = await world();
    const unknownSubject = (path: string, kind: string, id: string) => ({
      ok: false,
      error: { code: 'UNKNOWN_SUBJECT', details: { path, kind, id } },
    });
    const ghostDataset = 'transport-agency/never-registered';
    const [collectGhost] = await ledger.submit([agency.peek(collect(1, { dataset: ghostDataset }))]);
    expect(collectGhost).toMatchObject(unknownSubject('/dataset/id', 'dataset', ghostDataset));
    const ghostSource = 'transport-agency/cameras/never-registered';
    const [collectFromGhost] = await ledger.submit([agency.peek(collect(1, { source: ghostSource }))]);
    expect(collectFromGhost).toMatchObject(unknownSubject('/source', 'source', ghostSource));
    // Not only collects: every movement names a registered dataset.
    const c = agency.next(collect(1));
    expectAllOk(await ledger.submit([c]));
    const [transferGhost] = await ledger.submit([agency.peek(transfer(c.hash, 'police', ghostDataset))]);
    expect(transferGhost).toMatchObject(unknownSubject('/dataset/id', 'dataset', ghostDataset));
    // A registered id of the other kind does not count: a source is not a dataset.
    const [sourceAsDataset] = await ledger.submit([agency.peek(collect(2, { dataset: SOURCE }))]);
    expect(sourceAsDataset).toMatchObject(unknownSubject('/dataset/id', 'dataset', SOURCE));
    const [derivedFromGhost] = await ledger.submit([
      registerDataset(new TestEmitter('transport-agency', { key: agency.key, stream: 'reg' }), ghostDataset, [
        SOURCE,
        ghostSource,
      ]),
    ]);
    expect(derivedFromGhost).toMatchObject(unknownSubject('/subject/sources/1', 'source', ghostSource));
    expect(ledger.size).toBe(BOOT + 1);
    // Registered earlier in the same batch is registered: source, dataset, then its collect.
    const batch = [
      registerSource(agency, ghostSource),
      registerDataset(agency, ghostDataset, [ghostSource]),
      agency.next(collect(3, { source: ghostSource, dataset: ghostDataset })),
    ];
    expect(codes(await ledger.submit(batch))).toEqual(['ok', 'ok', 'ok']);
  });

  it('refuses what an organization may not claim: foreign keys, registering organizations, foreign namespaces', async () => {
    const { ledger, agency, police } = await world();
    // Signed with police's registered key, on the agency's chain.
    const impostor = new TestEmitter('transport-agency', { key: police.key });
    const [k] = await ledger.submit([impostor.peek(collect(1))]);
    expect(k).toMatchObject({ ok: false, error: { code: 'UNKNOWN_KEY', details: { key: police.key.name } } });
    const org = {
      type: 'register',
      subject: { kind: 'organization', id: 'vendor-z', name: 'Vendor Z', role: 'vendor', jurisdiction: 'NL' },
    } as never;
    const [o] = await ledger.submit([agency.peek(org)]);
    expect(o).toMatchObject({
      ok: false,
      error: { code: 'NOT_PERMITTED', details: { issues: [{ path: '/subject/kind' }] } },
    });
    const foreign = {
      type: 'register',
      subject: {
        kind: 'dataset',
        id: 'police/plates',
        name: 'Plates',
        categories: ['city:X'],
        personalData: 'none',
      },
    } as never;
    const [f] = await ledger.submit([agency.peek(foreign)]);
    expect(f).toMatchObject({
      ok: false,
      error: { code: 'NOT_PERMITTED', details: { issues: [{ path: '/subject/id' }] } },
    });
    expect(ledger.size).toBe(BOOT);
  });

  it('refuses schema errors naming the field, and claimed times too far ahead', async () => {
    const { ledger, agency } = await world();
    const [bad] = await ledger.submit([
      {
        event: { ...agency.peek(collect(1)).event, recipient: 'x' },
        signature: agency.peek(collect(1)).signature,
      },
    ]);
    expect(bad).toMatchObject({ ok: false, error: { code: 'SCHEMA_INVALID' } });
    agency.time = '2026-11-02T10:00:00Z';
    const [future] = await ledger.submit([agency.peek(collect(1))]);
    expect(future).toMatchObject({ ok: false, error: { code: 'TIME_IN_FUTURE' } });
    const [garbage] = await ledger.submit(['{"event":']);
    expect(garbage).toMatchObject({ ok: false, error: { code: 'INVALID_JSON' } });
  });

  it('an all-or-nothing batch with one bad event appends nothing', async () => {
    const { ledger, store, agency } = await world();
    const before = await store.head();
    const good = agency.next(collect(1));
    const bad = agency.peek(collect(2), { seq: 7 });
    const results = await ledger.submit([good, bad], { atomic: true });
    expect(codes(results)).toEqual(['BATCH_REFUSED', 'CHAIN_GAP']);
    expect(await store.head()).toEqual(before);
    // The good event is still acceptable afterwards (nothing half-written).
    expect(codes(await ledger.submit([good]))).toEqual(['ok']);
  });

  it('a failed store write answers STORE_FAILED, changes nothing, and the same events are accepted later', async () => {
    let fail = false;
    const store = new MemoryStore({
      beforeHeadUpdate: () => {
        if (fail) throw new Error('disk full');
      },
    });
    const { ledger, agency } = await world({ store });
    const before = await store.head();
    const events = [agency.next(collect(1)), agency.next(collect(2))];
    fail = true;
    expect(codes(await ledger.submit(events))).toEqual(['STORE_FAILED', 'STORE_FAILED']);
    fail = false;
    expect(await store.head()).toEqual(before);
    expect(ledger.size).toBe(before.size);
    expect(codes(await ledger.submit(events))).toEqual(['ok', 'ok']);
  });

  it('verifies large batches on worker threads and refuses exactly the bad signatures', async () => {
    const { ledger, agency } = await world({ threads: 2 });
    expect(ledger.signatureThreads).toBe(2);
    const events = Array.from({ length: 300 }, (_, i) => agency.next(collect(i)));
    // Break the signature of a late event: it is refused, so the rest of its chain skips ahead.
    const victim = events[250]!;
    victim.signature = events[10]!.signature;
    const results = await ledger.submit(events);
    const c = codes(results);
    expect(new Set(c.slice(0, 250))).toEqual(new Set(['ok']));
    expect(c[250]).toBe('BAD_SIGNATURE');
    expect(new Set(c.slice(251))).toEqual(new Set(['CHAIN_GAP']));
  });

  it('group-commits concurrent submissions into few store writes', async () => {
    const store = new MemoryStore();
    let appends = 0;
    const append = store.append.bind(store);
    store.append = (...args) => {
      appends++;
      return append(...args);
    };
    const { ledger, agency } = await world({ store });
    appends = 0;
    const streams = Array.from(
      { length: 50 },
      (_, i) => new TestEmitter('transport-agency', { stream: `s${i}`, key: agency.key }),
    );
    const all = await Promise.all(
      streams.map((e) => ledger.submit([e.next(collect(1)), e.next(collect(2))])),
    );
    for (const r of all) expectAllOk(r);
    expect(ledger.size).toBe(BOOT + 100);
    expect(appends).toBeLessThan(50);
    expect(new Set(all.flat().map((r) => r.ok && r.receipt.index)).size).toBe(100);
  });
});

describe('trusted paths', () => {
  it('submitDecoded admits events decoded elsewhere; signaturesVerified skips only the signature check', async () => {
    const { ledger, agency } = await world();
    const forged = agency.next(collect(1));
    forged.signature = agency.peek(collect(99)).signature;
    const [refused] = await ledger.submit([forged]);
    expect(refused).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
    const [replayed] = await ledger.submitDecoded([decodeSubmission(forged)], { signaturesVerified: true });
    expect(replayed).toMatchObject({ ok: true });
    // Keys are still checked: an unregistered key is refused even on the trusted path.
    const stranger = generateSigningKey('transport-agency/k9');
    const [unknown] = await ledger.submit([agency.peek(collect(2), { key: stranger.name }, stranger)], {
      signaturesVerified: true,
    });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_KEY' } });
  });
});

describe('checkpoints and proofs', () => {
  it('signs checkpoints on the size policy; every receipt is provably included; later checkpoints are consistent', async () => {
    const { ledger, store, agency } = await world({ maxEntries: 50 });
    const receipts = [];
    for (let b = 0; b < 4; b++) {
      const results = await ledger.submit(
        Array.from({ length: 30 }, (_, i) => agency.next(collect(b * 30 + i))),
      );
      expectAllOk(results);
      receipts.push(...results.map((r) => (r.ok ? r.receipt : undefined)!));
    }
    const all = await store.listCheckpoints(0, 1e9);
    // 50 or more entries uncovered: after the second batch, and again after the fourth.
    expect(all.map((c) => c.size)).toEqual([BOOT + 60, BOOT + 120]);
    const latest = await ledger.checkpointNow();
    expect(latest.size).toBe(BOOT + 120);
    const cp = openCheckpoint(latest.note, { verifiers: [logVerifier], origin: ORIGIN });
    expect(toHex(cp.rootHash)).toBe(toHex(ledger.rootHash));
    for (const r of receipts) {
      const proof = await ledger.inclusionProof(r.index, cp.size);
      verifyInclusion(fromHex(r.leafHash), r.index, cp.size, proof, cp.rootHash);
    }
    const first = openCheckpoint(all[0]!.note, { verifiers: [logVerifier], origin: ORIGIN });
    verifyConsistency(
      first.size,
      cp.size,
      await ledger.consistencyProof(first.size, cp.size),
      first.rootHash,
      cp.rootHash,
    );
  });
});

describe('on SQLite', () => {
  function sqlite(): { path: string; store: SqliteStore } {
    const dir = mkdtempSync(join(tmpdir(), 'cl-core-'));
    dirs.push(dir);
    const path = join(dir, 'ledger.db');
    return { path, store: new SqliteStore({ path }) };
  }

  it('with appends on a writer thread: batches submitted together, each continuing the last, all provable', async () => {
    const { path } = sqlite();
    const store = new SqliteStore({ path, writerThread: true });
    const { ledger, agency } = await world({ store });
    // Ten batches at once: each continues the agency's chain and hands the previous batch's
    // first event to the police, so most are admitted while the one before them commits.
    const batches: ReturnType<TestEmitter['next']>[][] = [];
    let handed: string | undefined;
    for (let b = 0; b < 10; b++) {
      const batch = Array.from({ length: 20 }, (_, i) => agency.next(collect(b * 20 + i)));
      if (handed) batch.push(agency.next(transfer(handed)));
      batch.push(agency.peek(collect(999), { seq: agency.seq + 5 })); // refused: a gap
      handed = batch[0]!.hash;
      batches.push(batch);
    }
    const results = await Promise.all(batches.map((b) => ledger.submit(b)));
    const codesOf = results.map(codes).flat();
    expect(codesOf.filter((c) => c !== 'ok')).toEqual(new Array(10).fill('CHAIN_GAP'));
    const indexes = results.flat().flatMap((r) => (r.ok ? [r.receipt.index] : []));
    expect(indexes).toEqual(Array.from({ length: indexes.length }, (_, i) => BOOT + i));
    const head = await store.head();
    expect(head.size).toBe(ledger.size);
    expect(toHex(head.rootHash)).toBe(toHex(ledger.rootHash));
    for (const r of results.flat()) {
      if (!r.ok) continue;
      const proof = await ledger.inclusionProof(r.receipt.index, head.size);
      verifyInclusion(fromHex(r.receipt.leafHash), r.receipt.index, head.size, proof, head.rootHash);
    }
    // Another connection reads what the writer thread wrote.
    const reader = new SqliteStore({ path });
    try {
      expect((await reader.head()).size).toBe(head.size);
      const last = results.at(-1)!.at(-3)!;
      expect(last.ok && (await reader.getLeavesByEventHash([last.receipt.eventHash]))[0]?.index).toBe(
        last.ok && last.receipt.index,
      );
    } finally {
      await reader.close();
    }
    await ledger.close();
    await store.close();
  });

  it('a second ledger on the same store fences the first (two writers refused)', async () => {
    const { path, store } = sqlite();
    const { ledger, agency, operator } = await world({ store });
    const second = await Ledger.open({
      store: new SqliteStore({ path }),
      origin: ORIGIN,
      logSigner,
      operatorKey: operator.verifierKey,
      owner: 'second',
      signatureThreads: 0,
      now: () => NOW + 1_000,
      leaseTtlMs: 1000,
    }).catch((e: unknown) => e);
    // The first holds an unexpired lease, so the second must wait...
    expect(second).toMatchObject({ code: 'LEASE_HELD' });
    const third = await Ledger.open({
      store: new SqliteStore({ path }),
      origin: ORIGIN,
      logSigner,
      operatorKey: operator.verifierKey,
      owner: 'third',
      signatureThreads: 0,
      now: () => NOW + 10 * 60_000,
    });
    open.push(third);
    // ...and once it lapsed and another took over, the first can no longer write.
    const [r] = await ledger.submit([agency.next(collect(1))]);
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_WRITER' } });
    expect(ledger.writable).toBe(false);
  });

  it('takes over at once from a default owner on this host whose process is gone, never from a live one', async () => {
    const { path, store } = sqlite();
    const { operator } = await world({ store });
    const openAs = () =>
      Ledger.open({
        store: new SqliteStore({ path }),
        origin: ORIGIN,
        logSigner,
        operatorKey: operator.verifierKey,
        signatureThreads: 0,
      });
    const leaveLease = (owner: string) => {
      const db = new DatabaseSync(path);
      db.prepare('UPDATE head SET owner = ?, expires = ? WHERE id = 1').run(owner, Date.now() + 60_000);
      db.close();
    };
    // A live process on this host (our parent) holds the lease: a newcomer waits.
    leaveLease(`pid-${process.ppid}@${hostname()}`);
    await expect(openAs()).rejects.toMatchObject({ code: 'LEASE_HELD' });
    // A lease left by a process that no longer exists (as after kill -9) is taken at once.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    leaveLease(`pid-${gone}@${hostname()}`);
    expect(deadLocalOwner(`pid-${gone}@${hostname()}`)).toBe(true);
    const successor = await openAs();
    open.push(successor);
    expect(successor.writable).toBe(true);
    // Never on doubt: another host, a live process, a custom owner name.
    expect(deadLocalOwner(`pid-${gone}@another-host.example`)).toBe(false);
    expect(deadLocalOwner(`pid-${process.ppid}@${hostname()}`)).toBe(false);
    expect(deadLocalOwner('ingest-1')).toBe(false);
    expect(localOwner()).toBe(`pid-${process.pid}@${hostname()}`);
  });
});
