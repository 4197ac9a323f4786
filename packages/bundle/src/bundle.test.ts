// Bundles written from a real ledger (Ledger on SqliteStore, a small demo city plus a key
// rotation and revocation), verified offline, and tampered with in every way a bundle can
// be: each caught and named.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSigningKey, formatVerifierKey, generateSigningKey, toBase64 } from '@civic-ledger/crypto';
import { generateDemoCity } from '@civic-ledger/demo-city';
import { decodeSubmission } from '@civic-ledger/events';
import { encodeLeafText } from '@civic-ledger/leaf';
import { Ledger } from '@civic-ledger/ledger-core';
import { registerDataset, registerSource, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { parseCheckpoint, parseNote, signCheckpoint, signerFromKeyText } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import { storeSource } from '@civic-ledger/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestFile } from './jsonl.ts';
import {
  BundleError,
  bundleSource,
  storeProofProvider,
  verifyBundle,
  writeFullBundle,
  writePartialBundle,
  type BundleManifest,
  type PartialBundleResult,
} from './index.ts';

const city = generateDemoCity({
  seed: 'bundle',
  size: 300,
  batchSize: 60,
  now: Date.parse('2026-11-15T00:00:00Z'),
});
const ORIGIN = city.origin;
const LOG_KEY = formatVerifierKey(city.logKey);
const CREATED = new Date('2026-12-01T00:00:00Z');
const collectBody = (n: number) =>
  ({
    type: 'collect',
    source: 'transport-agency/cameras/north-07',
    dataset: { id: 'transport-agency/traffic-counts', version: `sha256:${(n % 16).toString(16).repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: 10 + n,
  }) as never;

let root: string;
let store: SqliteStore;
let ledger: Ledger;
let full: string;
let partial: string;
/** Ledger indexes of the rotation: k2 added, a collect signed by k2, k1 revoked. */
const at = { addK2: 0, byK2: 0, revokeK1: 0, byK1: 0 };
let chosenHash: string;
/** The agency's `keys` stream after the rotation (signing with k2). */
let keysStream: TestEmitter;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'bundle-'));
  store = new SqliteStore({ path: join(root, 'ledger.db') });
  ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: signerFromKeyText(formatSigningKey(city.logKey)),
    operatorKey: city.operatorKey,
    signatureThreads: 0,
    checkpoints: { maxEntries: 100, maxDelayMs: 60_000 },
    now: () => Date.parse('2026-12-01T00:00:00Z'),
  });
  for await (const batch of city.batches()) {
    const r = await ledger.submit(batch);
    const refused = r.find((x) => !x.ok);
    if (refused && !refused.ok) throw new Error(`refused: ${refused.error.code} ${refused.error.message}`);
  }
  // The transport agency rotates on a stream of its own: registers the camera and dataset
  // its collects name, adds k2 (signed by k1), signs with k2, revokes k1 (signed by k2).
  const agency = new TestEmitter('transport-agency', {
    key: city.keys.get('transport-agency')!,
    stream: 'keys',
  });
  const k1 = agency.key;
  const k2 = generateSigningKey('transport-agency/k2');
  const registrations = [
    registerSource(agency, 'transport-agency/cameras/north-07'),
    registerDataset(agency, 'transport-agency/traffic-counts', ['transport-agency/cameras/north-07']),
  ];
  const byK1 = agency.next(collectBody(1));
  const addK2 = agency.next({
    type: 'key',
    action: 'add',
    subjectOrg: 'transport-agency',
    subjectKey: k2.name,
    publicKey: formatVerifierKey(k2),
  } as never);
  agency.key = k2;
  const byK2 = agency.next(collectBody(2));
  const revokeK1 = agency.next({
    type: 'key',
    action: 'revoke',
    subjectOrg: 'transport-agency',
    subjectKey: k1.name,
  } as never);
  const results = await ledger.submit([...registrations, byK1, addK2, byK2, revokeK1]);
  const idx = results.map((r) => (r.ok ? r.receipt.index : -1));
  expect(idx.every((i) => i > 0)).toBe(true);
  [at.byK1, at.addK2, at.byK2, at.revokeK1] = idx.slice(registrations.length) as [
    number,
    number,
    number,
    number,
  ];
  keysStream = agency;
  await ledger.checkpointNow();

  // A demo-city movement chosen by hash (a derive, well inside the log).
  const [leaf] = await store.getLeaves(250, 251);
  chosenHash = leaf!.eventHash;

  full = join(root, 'full');
  await writeFullBundle(full, storeSource(store), {
    logKey: LOG_KEY,
    origin: ORIGIN,
    created: CREATED,
    chunkSize: 64,
  });
  partial = join(root, 'partial');
  await writePartialBundle(partial, storeSource(store), {
    logKey: LOG_KEY,
    origin: ORIGIN,
    created: CREATED,
    hashes: [chosenHash],
    indexes: [at.byK1, at.byK2],
    proofs: storeProofProvider(store),
  });
}, 60_000);

afterAll(async () => {
  await ledger?.close();
  await store?.close();
  rmSync(root, { recursive: true, force: true });
});

const pinned = { logKey: LOG_KEY, origin: ORIGIN };
let copies = 0;

/** A copy of a bundle to tamper with. */
function copyOf(dir: string): string {
  const to = join(root, `copy-${copies++}`);
  cpSync(dir, to, { recursive: true });
  return to;
}

const readLinesOf = (dir: string, file: string) =>
  readFileSync(join(dir, file), 'utf8').split('\n').slice(0, -1);
const writeLinesOf = (dir: string, file: string, lines: string[]) =>
  writeFileSync(join(dir, file), lines.map((l) => `${l}\n`).join(''));
const manifestOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8')) as BundleManifest;

/** What a careful forger does after editing files: fixes the manifest's hashes and counts. */
async function rehash(dir: string): Promise<void> {
  const m = manifestOf(dir) as BundleManifest & {
    files: Record<string, unknown>;
    counts: Record<string, number>;
  };
  for (const file of Object.keys(m.files)) {
    const d = await digestFile(join(dir, file));
    m.files[file] = { sha256: d.sha256, bytes: d.bytes };
    const key = file.replace('.jsonl', '');
    if (key in m.counts) m.counts[key] = d.lines;
  }
  if (m.kind === 'full') m.treeSize = m.counts['entries']!;
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify(m, null, 2));
}

/** Rewrites the entry line at ledger index `index` of a bundle. */
function editEntry(dir: string, index: number, edit: (leaf: string) => string): void {
  const lines = readLinesOf(dir, 'entries.jsonl');
  const k = lines.findIndex((l) => (JSON.parse(l) as { index: number }).index === index);
  const o = JSON.parse(lines[k]!) as { leaf: string };
  o.leaf = edit(o.leaf);
  lines[k] = JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));
  writeLinesOf(dir, 'entries.jsonl', lines);
}

/** One digit of the event's claimed time changed: the event, its hash and signature no longer match. */
const changeTime = (leaf: string) => {
  const t = leaf.indexOf('"time":"');
  const z = leaf.indexOf('Z"', t);
  const d = Number(leaf[z - 1]);
  return `${leaf.slice(0, z - 1)}${(d + 1) % 10}${leaf.slice(z)}`;
};

describe('full bundles', () => {
  it('hold every entry, checkpoint and key, and verify offline like the log itself', async () => {
    const m = manifestOf(full);
    const checkpoints = await store.listCheckpoints(0, Number.MAX_SAFE_INTEGER);
    expect(m).toMatchObject({
      format: 'civic-ledger-evidence-bundle',
      version: 1,
      kind: 'full',
      created: CREATED.toISOString(),
      origin: ORIGIN,
      logKey: LOG_KEY,
      operatorKey: city.operatorKey,
      treeSize: ledger.size,
      counts: { entries: ledger.size, checkpoints: checkpoints.length },
    });
    expect(checkpoints.length).toBeGreaterThan(2);
    const r = await verifyBundle(full, pinned);
    expect(r).toMatchObject({ ok: true, kind: 'full', size: ledger.size, checkpoint: { size: ledger.size } });
    // Again against the state of that run, and without signatures.
    if (!r.ok || r.kind !== 'full') throw new Error('unreachable');
    expect(r.newState).toMatchObject({ origin: ORIGIN, size: ledger.size });
    const again = await verifyBundle(full, { ...pinned, state: r.newState! });
    expect(again.ok).toBe(true);
    expect((await verifyBundle(full, { ...pinned, checkSignatures: false })).ok).toBe(true);
    // The source is the files: the same leaves as the store.
    const fromFiles = await bundleSource(full).leaves(100, 103);
    const fromStore = await store.getLeaves(100, 103);
    expect(fromFiles.map((l) => Buffer.from(l.leaf).toString())).toEqual(
      fromStore.map((l) => Buffer.from(l.leaf).toString()),
    );
  });

  it('catches one byte of an entry changed, at that entry', async () => {
    const dir = copyOf(full);
    editEntry(dir, 120, changeTime);
    await rehash(dir);
    const r = await verifyBundle(dir, pinned);
    expect(r).toMatchObject({
      ok: false,
      check: 'BAD_SIGNATURE',
      index: 120,
      file: 'entries.jsonl',
      line: 121,
    });
  });

  it('catches an entry deleted and two entries swapped', async () => {
    const deleted = copyOf(full);
    const lines = readLinesOf(deleted, 'entries.jsonl');
    writeLinesOf(deleted, 'entries.jsonl', [...lines.slice(0, 77), ...lines.slice(78)]);
    await rehash(deleted);
    expect(await verifyBundle(deleted, pinned)).toMatchObject({ ok: false, check: 'LEAF_INDEX', index: 77 });

    const swapped = copyOf(full);
    [lines[200], lines[201]] = [lines[201]!, lines[200]!];
    writeLinesOf(swapped, 'entries.jsonl', lines);
    await rehash(swapped);
    expect(await verifyBundle(swapped, pinned)).toMatchObject({ ok: false, check: 'LEAF_INDEX', index: 200 });
  });

  it('catches a checkpoint signed by another key, and one over another root', async () => {
    const lines = readLinesOf(full, 'checkpoints.jsonl');
    const second = JSON.parse(lines[1]!) as { note: string; size: number };
    const body = parseCheckpoint(parseNote(second.note).text);
    const resign = (dir: string, note: string) => {
      const copy = [...lines];
      copy[1] = JSON.stringify({ note, size: second.size });
      writeLinesOf(dir, 'checkpoints.jsonl', copy);
    };

    const otherKey = copyOf(full);
    const impostor = signerFromKeyText(formatSigningKey(generateSigningKey(ORIGIN)));
    resign(otherKey, signCheckpoint(body, impostor));
    await rehash(otherKey);
    expect(await verifyBundle(otherKey, pinned)).toMatchObject({
      ok: false,
      check: 'CHECKPOINT_SIGNATURE',
      index: second.size,
    });

    const otherRoot = copyOf(full);
    const realKey = signerFromKeyText(formatSigningKey(city.logKey));
    resign(otherRoot, signCheckpoint({ ...body, rootHash: new Uint8Array(32).fill(7) }, realKey));
    await rehash(otherRoot);
    expect(await verifyBundle(otherRoot, pinned)).toMatchObject({
      ok: false,
      check: 'CHECKPOINT_ROOT',
      index: second.size,
    });
  });

  it("refuses a file whose hash is not the manifest's, and a manifest naming another log key", async () => {
    const edited = copyOf(full);
    editEntry(edited, 5, changeTime);
    expect(await verifyBundle(edited, pinned)).toMatchObject({
      ok: false,
      check: 'FILE_HASH',
      file: 'entries.jsonl',
    });

    const wrongHash = copyOf(full);
    const m = manifestOf(wrongHash);
    m.files['checkpoints.jsonl'].sha256 = '0'.repeat(64);
    writeFileSync(join(wrongHash, 'bundle.json'), JSON.stringify(m));
    expect(await verifyBundle(wrongHash, pinned)).toMatchObject({
      ok: false,
      check: 'FILE_HASH',
      file: 'checkpoints.jsonl',
    });

    const otherLog = copyOf(full);
    const m2 = manifestOf(otherLog);
    m2.logKey = formatVerifierKey(generateSigningKey(ORIGIN));
    writeFileSync(join(otherLog, 'bundle.json'), JSON.stringify(m2));
    expect(await verifyBundle(otherLog, pinned)).toMatchObject({ ok: false, check: 'BUNDLE_LOG_KEY' });
    // ...and the pinned key is what counts: the bundle's own key would not verify it either.
    expect(await verifyBundle(full, { ...pinned, logKey: m2.logKey })).toMatchObject({
      ok: false,
      check: 'BUNDLE_LOG_KEY',
    });
    expect(await verifyBundle(full, { ...pinned, origin: 'other.example/log' })).toMatchObject({
      ok: false,
      check: 'BUNDLE_ORIGIN',
    });
  });

  it('refuses what is not a finished bundle, and writes only into an empty directory', async () => {
    const unfinished = copyOf(full);
    rmSync(join(unfinished, 'bundle.json'));
    expect(await verifyBundle(unfinished, pinned)).toMatchObject({ ok: false, check: 'FILE_MISSING' });
    const extraLine = copyOf(full);
    writeFileSync(join(extraLine, 'entries.jsonl'), 'not json\n', { flag: 'a' });
    await rehash(extraLine);
    const r = await verifyBundle(extraLine, pinned);
    expect(r).toMatchObject({ ok: false, check: 'LEAF_MALFORMED', index: ledger.size });
    expect(r.ok || r.message).toContain('not JSON');
    await expect(
      writeFullBundle(full, storeSource(store), { logKey: LOG_KEY, origin: ORIGIN }),
    ).rejects.toMatchObject({ code: 'DIR_NOT_EMPTY' });
  });

  it('refuses an entry whose movement names an unregistered dataset or source, at that entry', async () => {
    /** A copy with one entry appended (after the last checkpoint): `body`, signed by k2. */
    const appended = async (body: object) => {
      const dir = copyOf(full);
      const d = decodeSubmission(keysStream.peek(body as never));
      const leaf = encodeLeafText({
        index: ledger.size,
        admitted: CREATED.toISOString(),
        eventCanonical: d.canonical,
        signature: toBase64(d.signature),
      });
      writeFileSync(join(dir, 'entries.jsonl'), `${JSON.stringify({ index: ledger.size, leaf })}\n`, {
        flag: 'a',
      });
      await rehash(dir);
      return dir;
    };
    // The same collect on registered names verifies: only the names make the difference.
    expect(await verifyBundle(await appended(collectBody(3)), pinned)).toMatchObject({
      ok: true,
      size: ledger.size + 1,
    });
    const where = {
      check: 'UNKNOWN_SUBJECT',
      index: ledger.size,
      file: 'entries.jsonl',
      line: ledger.size + 1,
    };
    const dataset = await appended({
      ...(collectBody(3) as object),
      dataset: { id: 'transport-agency/parking-counts', version: `sha256:${'b'.repeat(64)}` },
    });
    const r = await verifyBundle(dataset, pinned);
    expect(r).toMatchObject({ ok: false, ...where });
    expect(r.ok || r.message).toContain('dataset transport-agency/parking-counts is not registered');
    const source = await appended({
      ...(collectBody(3) as object),
      source: 'transport-agency/cameras/south-09',
    });
    expect(await verifyBundle(source, { ...pinned, checkSignatures: false })).toMatchObject({
      ok: false,
      ...where,
    });
  });
});

describe('partial bundles', () => {
  it('prove chosen events and the keys that signed them against one checkpoint', async () => {
    const r = (await verifyBundle(partial, pinned)) as PartialBundleResult;
    expect(r).toMatchObject({
      ok: true,
      kind: 'partial',
      checkpoint: { size: ledger.size },
      stateChecked: false,
    });
    expect(r.chosen.map((c) => c.index)).toEqual([250, at.byK1, at.byK2]);
    expect(r.chosen[0]!.eventHash).toBe(chosenHash);
    // Supporting entries: leaf 0, the registrations, the key adds, k1's revocation.
    const indexes = readLinesOf(partial, 'entries.jsonl').map(
      (l) => (JSON.parse(l) as { index: number }).index,
    );
    expect(indexes[0]).toBe(0);
    expect(indexes).toContain(at.addK2);
    expect(indexes).toContain(at.revokeK1);
    expect(indexes.length).toBeLessThan(20);
    expect(r.keys).toContainEqual({
      name: 'transport-agency/k1',
      org: 'transport-agency',
      addedAt: expect.any(Number),
      revokedAt: at.revokeK1,
    });
    expect(r.keys).toContainEqual({
      name: 'transport-agency/k2',
      org: 'transport-agency',
      addedAt: at.addK2,
    });
    const m = manifestOf(partial);
    expect(m).toMatchObject({ kind: 'partial', treeSize: ledger.size, revocations: 'known-to-exporter' });
    expect(m.counts).toMatchObject({
      chosen: 3,
      checkpoints: 1,
      entries: indexes.length,
      proofs: indexes.length,
    });

    // The state of a verifier that saw this checkpoint is compared; another one's is refused.
    const state = { origin: ORIGIN, size: r.checkpoint.size, rootHash: r.checkpoint.rootHash };
    expect(await verifyBundle(partial, { ...pinned, state })).toMatchObject({ ok: true, stateChecked: true });
    expect(
      await verifyBundle(partial, { ...pinned, state: { ...state, rootHash: '0'.repeat(64) } }),
    ).toMatchObject({
      ok: false,
      check: 'LOG_REWRITTEN',
    });
  });

  it('are the same whether the exporter reads the registry index or scans the leaves', async () => {
    const scanned = join(root, 'partial-scanned');
    const { registry: _registry, ...withoutRegistry } = storeProofProvider(store);
    await writePartialBundle(scanned, storeSource(store), {
      logKey: LOG_KEY,
      origin: ORIGIN,
      created: CREATED,
      hashes: [chosenHash],
      indexes: [at.byK1, at.byK2],
      proofs: withoutRegistry,
    });
    expect(readFileSync(join(scanned, 'bundle.json'), 'utf8')).toBe(
      readFileSync(join(partial, 'bundle.json'), 'utf8'),
    );
  });

  it('can be proven against an older checkpoint', async () => {
    const older = (await store.listCheckpoints(0, Number.MAX_SAFE_INTEGER))[1]!;
    const dir = join(root, 'partial-older');
    await writePartialBundle(dir, storeSource(store), {
      logKey: LOG_KEY,
      origin: ORIGIN,
      indexes: [older.size - 1],
      checkpoint: older.size,
      proofs: storeProofProvider(store),
    });
    expect(await verifyBundle(dir, pinned)).toMatchObject({ ok: true, checkpoint: { size: older.size } });
    await expect(
      writePartialBundle(join(root, 'beyond'), storeSource(store), {
        logKey: LOG_KEY,
        origin: ORIGIN,
        indexes: [older.size],
        checkpoint: older.size,
        proofs: storeProofProvider(store),
      }),
    ).rejects.toMatchObject({ code: 'NOT_IN_CHECKPOINT' });
    const unknown = await writePartialBundle(join(root, 'unknown'), storeSource(store), {
      logKey: LOG_KEY,
      origin: ORIGIN,
      hashes: ['ab'.repeat(32)],
      proofs: storeProofProvider(store),
    }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(BundleError);
    expect(unknown).toMatchObject({ code: 'EVENT_NOT_FOUND', details: { hashes: ['ab'.repeat(32)] } });
  });

  it('catch a flipped proof element, a changed leaf and a checkpoint signed by another key', async () => {
    const flipped = copyOf(partial);
    const proofs = readLinesOf(flipped, 'proofs.jsonl');
    const k = proofs.findIndex((l) => (JSON.parse(l) as { index: number }).index === 250);
    const p = JSON.parse(proofs[k]!) as { hashes: string[]; index: number };
    const h = Buffer.from(p.hashes[1]!, 'base64');
    h[0]! ^= 1;
    p.hashes[1] = toBase64(h);
    proofs[k] = JSON.stringify(p);
    writeLinesOf(flipped, 'proofs.jsonl', proofs);
    await rehash(flipped);
    expect(await verifyBundle(flipped, pinned)).toMatchObject({
      ok: false,
      check: 'INCLUSION_PROOF',
      index: 250,
      eventHash: chosenHash,
    });

    const changed = copyOf(partial);
    editEntry(changed, at.byK2, changeTime);
    await rehash(changed);
    expect(await verifyBundle(changed, pinned)).toMatchObject({
      ok: false,
      check: 'INCLUSION_PROOF',
      index: at.byK2,
    });

    const otherKey = copyOf(partial);
    const [line] = readLinesOf(otherKey, 'checkpoints.jsonl');
    const cp = JSON.parse(line!) as { note: string; size: number };
    const body = parseCheckpoint(parseNote(cp.note).text);
    const impostor = signerFromKeyText(formatSigningKey(generateSigningKey(ORIGIN)));
    writeLinesOf(otherKey, 'checkpoints.jsonl', [
      JSON.stringify({ note: signCheckpoint(body, impostor), size: cp.size }),
    ]);
    await rehash(otherKey);
    expect(await verifyBundle(otherKey, pinned)).toMatchObject({ ok: false, check: 'CHECKPOINT_SIGNATURE' });
  });

  it('catch a missing key event, a missing registration and missing genesis, at the event that needed it', async () => {
    const drop = async (indexes: number[]) => {
      const dir = copyOf(partial);
      for (const file of ['entries.jsonl', 'proofs.jsonl']) {
        const lines = readLinesOf(dir, file).filter(
          (l) => !indexes.includes((JSON.parse(l) as { index: number }).index),
        );
        writeLinesOf(dir, file, lines);
      }
      await rehash(dir);
      return verifyBundle(dir, pinned);
    };
    expect(await drop([at.addK2])).toMatchObject({ ok: false, check: 'KEY_NOT_PROVEN', index: at.byK2 });
    const regs = readLinesOf(partial, 'entries.jsonl')
      .map((l) => JSON.parse(l) as { index: number; leaf: string })
      .filter((e) => e.leaf.includes('"kind":"organization"') && e.leaf.includes('"id":"transport-agency"'));
    expect(regs).toHaveLength(1);
    expect(await drop([regs[0]!.index])).toMatchObject({ ok: false, check: 'ORG_NOT_PROVEN' });
    expect(await drop([0])).toMatchObject({ ok: false, check: 'GENESIS' });
  });

  it('catch entries out of order and a file hash the manifest does not have', async () => {
    const swapped = copyOf(partial);
    for (const file of ['entries.jsonl', 'proofs.jsonl']) {
      const lines = readLinesOf(swapped, file);
      const n = lines.length;
      [lines[n - 2], lines[n - 1]] = [lines[n - 1]!, lines[n - 2]!];
      writeLinesOf(swapped, file, lines);
    }
    await rehash(swapped);
    const n = readLinesOf(swapped, 'entries.jsonl').length;
    expect(await verifyBundle(swapped, pinned)).toMatchObject({ ok: false, check: 'ENTRY_ORDER', line: n });

    const edited = copyOf(partial);
    editEntry(edited, 0, changeTime);
    expect(await verifyBundle(edited, pinned)).toMatchObject({
      ok: false,
      check: 'FILE_HASH',
      file: 'entries.jsonl',
    });
  });
});
