import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { formatSigningKey, formatVerifierKey, generateSigningKey, toHex } from '@civic-ledger/crypto';
import { CompactRange, hashLeaf } from '@civic-ledger/merkle';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { SqliteStore, type LedgerStore } from '@civic-ledger/storage';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, LedgerError, rebuildDerived, type SubmitResult } from './index.ts';
import {
  addKey,
  genesisEvent,
  registerDataset,
  registerOrg,
  registerSource,
  TestEmitter,
  type TestSubmission,
} from './testing.ts';

const logSigner = signerFromKeyText(formatSigningKey(generateSigningKey('test.example/log')));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cl-rebuild-'));
  dirs.push(dir);
  return join(dir, 'ledger.db');
}

const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';

const event = (n: number) =>
  ({
    type: 'collect',
    source: SOURCE,
    dataset: { id: DATASET, version: `sha256:${(n % 16).toString(16).repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: n,
  }) as never;

/** Genesis, the agency and its key, and the source and dataset its collects name. */
function bootstrap(operator: TestEmitter, agency: TestEmitter): TestSubmission[] {
  return [
    genesisEvent(operator),
    registerOrg(operator, 'transport-agency', 'agency'),
    addKey(operator, 'transport-agency', agency.verifierKey, agency.key.name),
    registerSource(agency, SOURCE),
    registerDataset(agency, DATASET, [SOURCE]),
  ];
}

function expectAllOk(results: SubmitResult[]): void {
  for (const r of results) if (!r.ok) throw new Error(`refused: ${r.error.code} ${r.error.message}`);
}

async function populate(path: string): Promise<void> {
  const store = new SqliteStore({ path });
  const operator = new TestEmitter('ledger');
  const ledger = await Ledger.open({
    store,
    origin: 'test.example/log',
    logSigner,
    operatorKey: operator.verifierKey,
    signatureThreads: 0,
  });
  const agency = new TestEmitter('transport-agency');
  const k2 = generateSigningKey('transport-agency/k2');
  expectAllOk(await ledger.submit(bootstrap(operator, agency)));
  for (let b = 0; b < 5; b++)
    expectAllOk(await ledger.submit(Array.from({ length: 37 }, (_, i) => agency.next(event(b * 37 + i)))));
  expectAllOk(
    await ledger.submit([
      agency.next({
        type: 'key',
        action: 'add',
        subjectOrg: 'transport-agency',
        subjectKey: k2.name,
        publicKey: formatVerifierKey(k2),
      } as never),
      agency.next({
        type: 'register',
        subject: {
          kind: 'dataset',
          id: 'transport-agency/counts',
          name: 'Counts',
          categories: ['city:VehicleCount'],
          personalData: 'none',
        },
      } as never),
    ]),
  );
  agency.key = k2;
  expectAllOk(
    await ledger.submit([
      agency.next({
        type: 'key',
        action: 'revoke',
        subjectOrg: 'transport-agency',
        subjectKey: 'transport-agency/k1',
      } as never),
    ]),
  );
  await ledger.checkpointNow();
  await ledger.close();
  await store.close();
}

async function snapshotDerived(store: LedgerStore) {
  const head = await store.head();
  const ids = Array.from({ length: 2 * head.size - 1 }, (_, i) => i);
  const leaves = await store.getLeaves(0, head.size);
  return {
    head,
    nodes: (await store.getNodes(ids)).map((h) => (h ? toHex(h) : null)),
    registry: await store.getRegistry(),
    leaves: leaves.map((l) => ({ ...l, leaf: toHex(l.leaf) })),
    chainHead: await store.getChainHead('transport-agency/main'),
    entry: await store.getChainEntry('transport-agency/main', 100),
    byHash: await store.getLeavesByEventHash([leaves[50]!.eventHash]),
  };
}

describe('rebuild from the leaves alone', () => {
  it('drops every derived table, rebuilds, and gets the same indexes and root byte for byte', async () => {
    const path = tempDb();
    await populate(path);
    const store = new SqliteStore({ path });
    const before = await snapshotDerived(store);
    expect(before.head.size).toBe(5 + 5 * 37 + 3);
    const lease = await store.acquireWriter({ owner: 'test', ttlMs: 1000 });
    await store.dropDerived(lease);
    expect((await store.getNodes([0]))[0]).toBeUndefined();
    expect(await store.getRegistry()).toEqual([]);
    await store.releaseWriter(lease);
    const progress: number[] = [];
    const rebuilt = await rebuildDerived(store, { chunk: 50, onProgress: (done) => progress.push(done) });
    expect(progress.at(-1)).toBe(before.head.size);
    expect(toHex(rebuilt.rootHash)).toBe(toHex(before.head.rootHash));
    const after = await snapshotDerived(store);
    expect({ ...after, head: { ...after.head, epoch: 0 } }).toEqual({
      ...before,
      head: { ...before.head, epoch: 0 },
    });
    await store.close();
  });

  it('reports CORRUPT when a stored leaf was changed underneath', async () => {
    const path = tempDb();
    await populate(path);
    const db = new DatabaseSync(path);
    const row = db.prepare('SELECT leaf FROM leaves WHERE idx = 42').get() as { leaf: Uint8Array };
    const text = Buffer.from(row.leaf).toString('utf8').replace('"records":', '"records":1');
    db.prepare('UPDATE leaves SET leaf = ? WHERE idx = 42').run(Buffer.from(text));
    db.close();
    const store = new SqliteStore({ path });
    await expect(rebuildDerived(store)).rejects.toMatchObject({ code: 'CORRUPT' });
    await store.close();
  });
});

describe('fuzz: random and mutated submissions', () => {
  it('never crashes, never half-writes: the stored leaves always give the stored root', async () => {
    const path = tempDb();
    const store = new SqliteStore({ path });
    const operator = new TestEmitter('ledger');
    const ledger = await Ledger.open({
      store,
      origin: 'fuzz.example/log',
      logSigner,
      operatorKey: operator.verifierKey,
      signatureThreads: 0,
    });
    const agency = new TestEmitter('transport-agency');
    expectAllOk(await ledger.submit(bootstrap(operator, agency)));
    let n = 0;
    const mutation = fc.oneof(
      fc.constant('valid'),
      fc.constant('duplicate'),
      fc.record({ flip: fc.nat(4000) }),
      fc.record({
        field: fc.constantFrom('seq', 'prev', 'emitter', 'key', 'inputs', 'records', 'type', 'time'),
        value: fc.jsonValue(),
      }),
      fc.string().map((s) => ({ raw: s })),
      fc.uint8Array({ maxLength: 200 }).map((b) => ({ bytes: b })),
    );
    let last: unknown;
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        async (ops, atomic) => {
          const items: unknown[] = [];
          for (const op of ops) {
            if (op === 'valid') items.push((last = agency.next(event(n++))));
            else if (op === 'duplicate') items.push(last ?? 'null');
            else if ('flip' in op) {
              const text = JSON.stringify(agency.peek(event(n)));
              const i = op.flip % text.length;
              items.push(text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1));
            } else if ('field' in op) {
              const e = agency.peek(event(n));
              items.push({ ...e, event: { ...e.event, [op.field]: op.value } });
            } else if ('raw' in op) items.push(op.raw);
            else items.push(op.bytes);
          }
          const results = await ledger.submit(items, { atomic });
          expect(results).toHaveLength(items.length);
          for (const r of results) if (!r.ok) expect(r.error).toBeInstanceOf(LedgerError);
          // A refused valid event leaves the emitter ahead of the ledger: resync it.
          const head = await store.getChainHead('transport-agency/main');
          agency.seq = head?.seq ?? 0;
          agency.prev = head?.eventHash ?? '0'.repeat(64);
          // Invariant: the leaves alone give the committed root and size.
          const h = await store.head();
          const leaves = await store.getLeaves(0, h.size);
          expect(leaves).toHaveLength(h.size);
          const range = CompactRange.empty();
          for (const l of leaves) range.append(hashLeaf(l.leaf));
          expect(toHex(range.root())).toBe(toHex(h.rootHash));
          expect(h.size).toBe(ledger.size);
        },
      ),
      { numRuns: 100 },
    );
    // The valid events were admitted, not all refused: the fuzz reached the append path.
    expect(ledger.size).toBeGreaterThan(5 + 20);
    await ledger.close();
    await store.close();
  });
});
