// Bundles of a witnessed log: a Ledger on SqliteStore that signed one checkpoint before it had
// witnesses and then published cosigned ones through three real witness servers (2 of 3).
// The bundles carry the cosigned notes as the store holds them (format unchanged: a verifier
// without a policy ignores the cosignature lines); with a policy the checkpoint must carry
// its quorum, and a forged cosignature is caught.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalize } from '@civic-ledger/canonical-json';
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { bootstrapEvents, registerSource, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { ed25519Signer, formatNote, parseNote } from '@civic-ledger/signed-note';
import { SqliteStore } from '@civic-ledger/storage';
import { storeSource } from '@civic-ledger/verifier';
import { parsePolicy, type Policy } from '@civic-ledger/witness';
import { startWitness, type RunningWitness } from '@civic-ledger/witness-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestFile } from './jsonl.ts';
import {
  storeProofProvider,
  verifyBundle,
  writeFullBundle,
  writePartialBundle,
  type BundleManifest,
} from './index.ts';

const ORIGIN = 'ledger.bundle-witnessed.example/log';
const logKey = generateSigningKey(ORIGIN);
const LOG_KEY = formatVerifierKey(logKey);

let root: string;
let store: SqliteStore;
let witnesses: RunningWitness[];
let policy2: Policy;
let policyAll: Policy;
/** Sizes: the checkpoint signed before the witnesses, the one cosigned by 3, the one by 2. */
const sizes = { plain: 0, three: 0, two: 0 };
let full: string;
let partialThree: string;
let partialTwo: string;
let partialPlain: string;

const policyText = (k: number | 'all') =>
  [
    `log ${LOG_KEY}`,
    ...witnesses.map((w, i) => `witness w${i + 1} ${w.witness.verifierKey} ${w.url}`),
    `group oversight ${k} w1 w2 w3`,
    'quorum oversight',
    '',
  ].join('\n');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cl-bundle-w-'));
  store = new SqliteStore({ path: join(root, 'ledger.db') });
  witnesses = await Promise.all(
    [1, 2, 3].map((i) =>
      startWitness(
        {
          key: generateSigningKey(`w${i}.oversight.example`),
          dbPath: join(root, `w${i}.db`),
          logs: [{ origin: ORIGIN, verifierKeys: [LOG_KEY] }],
          port: 0,
        },
        { logger: false },
      ),
    ),
  );
  policy2 = parsePolicy(policyText(2));
  policyAll = parsePolicy(policyText('all'));
  const operator = new TestEmitter('ledger');
  const agency = new TestEmitter('transport-agency');
  const base = {
    store,
    origin: ORIGIN,
    logSigner: ed25519Signer(logKey),
    operatorKey: operator.verifierKey,
    signatureThreads: 0,
  };
  // Before the witnesses: a checkpoint signed by the log key alone.
  let ledger = await Ledger.open(base);
  await ledger.submit(bootstrapEvents(operator, [agency]));
  sizes.plain = (await ledger.checkpointNow()).size;
  await ledger.close();
  // With them.
  ledger = await Ledger.open({
    ...base,
    witnessing: { policy: policy2, intervalMs: 60_000, timeoutMs: 1000 },
  });
  await ledger.submit([registerSource(agency, 'transport-agency/cameras/a')]);
  sizes.three = (await ledger.checkpointNow()).size;
  await witnesses[2]!.close();
  await ledger.submit([registerSource(agency, 'transport-agency/cameras/b')]);
  sizes.two = (await ledger.checkpointNow()).size;
  await ledger.close();

  const options = { logKey: LOG_KEY, origin: ORIGIN };
  full = join(root, 'full');
  await writeFullBundle(full, storeSource(store), options);
  const partial = async (name: string, checkpoint: number) => {
    const dir = join(root, name);
    await writePartialBundle(dir, storeSource(store), {
      ...options,
      indexes: [checkpoint - 1],
      checkpoint,
      proofs: storeProofProvider(store),
    });
    return dir;
  };
  partialThree = await partial('partial-3', sizes.three);
  partialTwo = await partial('partial-2', sizes.two);
  partialPlain = await partial('partial-plain', sizes.plain);
});

afterAll(async () => {
  for (const w of witnesses ?? []) await w.close();
  await store?.close();
  rmSync(root, { recursive: true, force: true });
});

const checkpointsOf = (dir: string) =>
  readFileSync(join(dir, 'checkpoints.jsonl'), 'utf8')
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as { note: string; size: number });

const pinned = { logKey: LOG_KEY, origin: ORIGIN };

describe('bundles of a witnessed log', () => {
  it('carry the cosigned checkpoints, and verify without a policy exactly as before', async () => {
    expect(checkpointsOf(full).map((c) => [c.size, parseNote(c.note).signatures.length])).toEqual([
      [sizes.plain, 1],
      [sizes.three, 4],
      [sizes.two, 3],
    ]);
    for (const dir of [full, partialThree, partialTwo, partialPlain]) {
      const r = await verifyBundle(dir, pinned);
      expect(r.ok, JSON.stringify(r)).toBe(true);
      expect(r.ok && 'witnesses' in r).toBe(false);
    }
  });

  it('with a policy: the checkpoint must carry the quorum; the result names who cosigned', async () => {
    const r = await verifyBundle(full, { ...pinned, policy: policy2 });
    expect(r).toMatchObject({ ok: true, kind: 'full', witnesses: ['w1', 'w2'] });
    expect(await verifyBundle(partialThree, { ...pinned, policy: policyAll })).toMatchObject({
      ok: true,
      kind: 'partial',
      witnesses: ['w1', 'w2', 'w3'],
    });
    expect(await verifyBundle(partialTwo, { ...pinned, policy: policyAll })).toMatchObject({
      ok: false,
      check: 'QUORUM_NOT_MET',
      index: sizes.two,
      file: 'checkpoints.jsonl',
      line: 1,
      message: expect.stringContaining('group "oversight" needs 3 of w1, w2, w3, has 2 (w1, w2)'),
    });
    expect(await verifyBundle(full, { ...pinned, policy: policyAll })).toMatchObject({
      ok: false,
      check: 'QUORUM_NOT_MET',
      line: 3,
    });
    // The checkpoint from before the witnesses proves inclusion, but no witness saw it.
    expect(await verifyBundle(partialPlain, { ...pinned, policy: policy2 })).toMatchObject({
      ok: false,
      check: 'QUORUM_NOT_MET',
      message: expect.stringContaining('has 0'),
    });
  });

  it('catches a forged cosignature and a policy that does not list the pinned key', async () => {
    const forged = join(root, 'forged');
    cpSync(partialThree, forged, { recursive: true });
    const [line] = checkpointsOf(forged);
    const note = parseNote(line!.note);
    const sigs = note.signatures.map((s, i) => (i === 1 ? { ...s, base64: flip(s.base64) } : s));
    const text = formatNote({ text: note.text, signatures: sigs });
    writeFileSync(join(forged, 'checkpoints.jsonl'), `${canonicalize({ note: text, size: line!.size })}\n`);
    const m = JSON.parse(readFileSync(join(forged, 'bundle.json'), 'utf8')) as BundleManifest & {
      files: Record<string, { sha256: string; bytes: number }>;
    };
    const d = await digestFile(join(forged, 'checkpoints.jsonl'));
    m.files['checkpoints.jsonl'] = { sha256: d.sha256, bytes: d.bytes };
    writeFileSync(join(forged, 'bundle.json'), JSON.stringify(m));
    // The log's signature still holds: without a policy nothing looks wrong.
    expect((await verifyBundle(forged, pinned)).ok).toBe(true);
    expect(await verifyBundle(forged, { ...pinned, policy: policy2 })).toMatchObject({
      ok: false,
      check: 'COSIGNATURE_INVALID',
      file: 'checkpoints.jsonl',
    });
    const other = parsePolicy(policyText(2).replace(LOG_KEY, formatVerifierKey(generateSigningKey(ORIGIN))));
    await expect(verifyBundle(full, { ...pinned, policy: other })).rejects.toThrow(
      /no log line with the pinned log key/,
    );
  });
});

/** The same base64 with one bit of the signature changed (the key id and timestamp kept). */
function flip(base64: string): string {
  const b = Buffer.from(base64, 'base64');
  b[b.length - 1]! ^= 1;
  return b.toString('base64');
}
