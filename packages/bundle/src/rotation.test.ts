// Bundles of a log whose key was rotated by the ledger core itself (key A; the overlap, every
// checkpoint signed by A and B; then B alone): written with logKeys, verified offline with the
// same windows; one key alone, windows that leave a checkpoint uncovered, or a manifest naming
// a key not pinned are refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey, type SigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { genesisEvent, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { ed25519Signer } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { storeSource, type LogKeyWindow } from '@civic-ledger/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeProofProvider, verifyBundle, writeFullBundle, writePartialBundle } from './index.ts';

const ORIGIN = 'ledger.bundle-rotation.example/log';
const keyA = generateSigningKey(ORIGIN);
const keyB = generateSigningKey(ORIGIN);
const A = formatVerifierKey(keyA);
const B = formatVerifierKey(keyB);
const store = new MemoryStore();
const operator = new TestEmitter('ledger');
const root = mkdtempSync(join(tmpdir(), 'bundle-rot-'));
let n = 0;
const dir = () => join(root, `b${n++}`);
/** The last size A signed alone, and the overlap's (signed by both). */
let aloneSize: number;
let overlapSize: number;
let windows: LogKeyWindow[];

/** Opens the ledger with these keys signing checkpoints, appends, checkpoints, closes. */
async function phase(keys: SigningKey[], orgs: string[]): Promise<number> {
  const ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: keys.length === 1 ? ed25519Signer(keys[0]!) : keys.map((k) => ed25519Signer(k)),
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    signatureThreads: 0,
  });
  const events = [
    ...(ledger.size === 0 ? [genesisEvent(operator)] : []),
    ...orgs.map((o) => registerOrg(operator, o, 'agency')),
  ];
  for (const r of await ledger.submit(events)) if (!r.ok) throw new Error(r.error.message);
  await ledger.checkpointNow();
  const size = ledger.size;
  await ledger.close();
  return size;
}

beforeAll(async () => {
  aloneSize = await phase([keyA], ['a1', 'a2']);
  overlapSize = await phase([keyA, keyB], ['b1']);
  await phase([keyB], ['c1', 'c2']);
  windows = [
    { key: A, untilSize: overlapSize },
    { key: B, fromSize: overlapSize },
  ];
}, 20_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

const verify = (d: string, pinned: { logKey: string } | { logKeys: LogKeyWindow[] }) =>
  verifyBundle(d, { ...pinned, origin: ORIGIN, signatureThreads: 0 });

describe('bundles of a rotated log', () => {
  it('a full bundle is written with logKeys and verifies with the windows; one key alone does not', async () => {
    const d = dir();
    const m = await writeFullBundle(d, storeSource(store), { logKeys: windows, origin: ORIGIN });
    // The manifest names the key valid at the size the bundle ends on: B.
    expect(m).toMatchObject({ logKey: B, treeSize: overlapSize + 2, counts: { checkpoints: 3 } });
    expect(await verify(d, { logKeys: windows })).toMatchObject({
      ok: true,
      kind: 'full',
      size: overlapSize + 2,
    });
    // B alone: the checkpoint A signed alone fails.
    expect(await verify(d, { logKey: B })).toMatchObject({
      ok: false,
      check: 'CHECKPOINT_SIGNATURE',
      index: aloneSize,
    });
    // A alone: refused before any work, the manifest names B.
    expect(await verify(d, { logKey: A })).toMatchObject({ ok: false, check: 'BUNDLE_LOG_KEY' });
    // Windows that leave the overlap checkpoint to no key.
    expect(
      await verify(d, {
        logKeys: [
          { key: A, untilSize: aloneSize },
          { key: B, fromSize: overlapSize + 1 },
        ],
      }),
    ).toMatchObject({ ok: false, check: 'CHECKPOINT_SIGNATURE', index: overlapSize });
  });

  it('a partial bundle against a checkpoint of either key verifies with the windows', async () => {
    const proofs = storeProofProvider(store);
    // Against the overlap checkpoint (signed by both): the manifest names B, the last key valid there.
    const d1 = dir();
    const m1 = await writePartialBundle(d1, storeSource(store), {
      logKeys: windows,
      origin: ORIGIN,
      indexes: [1],
      checkpoint: overlapSize,
      proofs,
    });
    expect(m1).toMatchObject({ logKey: B, treeSize: overlapSize });
    expect(await verify(d1, { logKeys: windows })).toMatchObject({ ok: true, kind: 'partial' });
    // Against A's checkpoint: the manifest names A; B alone could not open it.
    const d2 = dir();
    const m2 = await writePartialBundle(d2, storeSource(store), {
      logKeys: windows,
      origin: ORIGIN,
      indexes: [1],
      checkpoint: aloneSize,
      proofs,
    });
    expect(m2.logKey).toBe(A);
    expect(await verify(d2, { logKeys: windows })).toMatchObject({
      ok: true,
      checkpoint: { size: aloneSize },
    });
    // A's window closed before that size: B is tried, and did not sign it.
    expect(await verify(d2, { logKeys: [{ key: A, untilSize: aloneSize - 1 }, { key: B }] })).toMatchObject({
      ok: false,
      check: 'CHECKPOINT_SIGNATURE',
      message: expect.stringMatching(/NO_VERIFIED_SIGNATURE/),
    });
    // No key at all valid at that size.
    expect(
      await verify(d2, {
        logKeys: [
          { key: A, untilSize: aloneSize - 1 },
          { key: B, fromSize: aloneSize + 1 },
        ],
      }),
    ).toMatchObject({
      ok: false,
      check: 'CHECKPOINT_SIGNATURE',
      index: aloneSize,
      message: `checkpoint: no pinned log key is valid at tree size ${aloneSize}`,
    });
    // The manifest's key must be one of the pinned ones.
    expect(await verify(d2, { logKeys: [{ key: B }] })).toMatchObject({ ok: false, check: 'BUNDLE_LOG_KEY' });
  });

  it('options: exactly one of logKey and logKeys', async () => {
    await expect(verifyBundle(dir(), { origin: ORIGIN })).rejects.toThrow(/exactly one/);
    await expect(
      writeFullBundle(dir(), storeSource(store), { logKey: A, logKeys: windows, origin: ORIGIN }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(
      writeFullBundle(dir(), storeSource(store), { logKeys: [{ key: A }, { key: 'x' }], origin: ORIGIN }),
    ).rejects.toThrow(/logKeys\[1\]\.key: not a verifier key text/);
  });
});
