// Log key rotation: checkpoints opened with the keys whose validity window holds their size.
import { formatSigningKey, formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { genesisEvent, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import {
  parseCheckpoint,
  parseNote,
  signCheckpoint,
  signerFromKeyText,
  type NoteSigner,
} from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { arraySource, verifyLog, type VerifyResult } from './index.ts';
import type { LogKeyWindow } from './verify.ts';

const ORIGIN = 'ledger.test.example/log';
const keyA = generateSigningKey(ORIGIN);
const keyB = generateSigningKey(ORIGIN);
const signer = (k: typeof keyA) => signerFromKeyText(formatSigningKey(k));
const A = formatVerifierKey(keyA);
const B = formatVerifierKey(keyB);

/** 30 leaves and the bodies of checkpoints at sizes 10, 20 and 30 (to be signed by the test). */
let leaves: Uint8Array[] = [];
let bodies: ReturnType<typeof parseCheckpoint>[] = [];

beforeAll(async () => {
  const store = new MemoryStore();
  const operator = new TestEmitter('ledger');
  const ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: signer(keyA),
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    signatureThreads: 0,
  });
  const events = [genesisEvent(operator)];
  for (let i = 1; i < 30; i++) events.push(registerOrg(operator, `org-${i}`, 'agency'));
  for (const end of [10, 20, 30]) {
    for (const r of await ledger.submit(events.slice(end - 10, end)))
      if (!r.ok) throw new Error(r.error.message);
    await ledger.checkpointNow();
  }
  await ledger.close();
  leaves = (await store.getLeaves(0, 30)).map((l) => l.leaf);
  bodies = (await store.listCheckpoints(0, 1e15)).map((c) => parseCheckpoint(parseNote(c.note).text));
  expect(bodies.map((b) => b.size)).toEqual([10, 20, 30]);
});

/** The log with its checkpoints re-signed: one signer list per checkpoint (sizes 10, 20, 30). */
function log(signers: readonly (readonly NoteSigner[])[]) {
  return arraySource(
    leaves,
    bodies.map((b, i) => signCheckpoint(b, signers[i]!)),
  );
}

const rotated = () => log([[signer(keyA)], [signer(keyA), signer(keyB)], [signer(keyB)]]);

function failure(r: VerifyResult) {
  if (r.ok) throw new Error('expected a failure');
  return r;
}

const verify = (source: ReturnType<typeof log>, logKeys: LogKeyWindow[]) =>
  verifyLog(source, { logKeys, origin: ORIGIN });

describe('verifyLog with logKeys (validity windows, inclusive)', () => {
  it('a rotated log verifies with the old key until the overlap and the new key from it', async () => {
    const r = await verify(rotated(), [
      { key: A, untilSize: 20 },
      { key: B, fromSize: 20 },
    ]);
    expect(r).toMatchObject({ ok: true, size: 30, checkpoint: { size: 30 } });
    // The overlap checkpoint opens with either key alone.
    expect(await verify(rotated(), [{ key: A, untilSize: 20 }])).toMatchObject({
      ok: false,
      index: 30,
      check: 'CHECKPOINT_SIGNATURE',
    });
  });

  it('a checkpoint no key is valid at fails with CHECKPOINT_SIGNATURE at its size', async () => {
    const r = failure(
      await verify(rotated(), [
        { key: A, untilSize: 10 },
        { key: B, fromSize: 25 },
      ]),
    );
    expect(r).toMatchObject({ index: 20, check: 'CHECKPOINT_SIGNATURE' });
    expect(r.message).toMatch(/no pinned log key is valid at tree size 20/);
  });

  it('a checkpoint after the old key window signed only by the old key fails', async () => {
    const source = log([[signer(keyA)], [signer(keyA), signer(keyB)], [signer(keyA)]]);
    const r = failure(
      await verify(source, [
        { key: A, untilSize: 20 },
        { key: B, fromSize: 20 },
      ]),
    );
    expect(r).toMatchObject({ index: 30, check: 'CHECKPOINT_SIGNATURE' });
    // The same log verifies when A's window is open-ended: the windows are what decide.
    expect(await verify(source, [{ key: A }, { key: B, fromSize: 20 }])).toMatchObject({ ok: true });
  });

  it('a bad signature of a key valid at that size fails even when another valid key signed', async () => {
    // The overlap checkpoint signed by A and B, then A's signature bytes zeroed (its key hash kept).
    const lines = signCheckpoint(bodies[1]!, [signer(keyA), signer(keyB)]).split('\n');
    const at = lines.findIndex((l) => l.startsWith('— '));
    const [dash, name, sig] = lines[at]!.split(' ');
    const bytes = Buffer.from(sig!, 'base64');
    bytes.fill(0, 4);
    lines[at] = `${dash} ${name} ${bytes.toString('base64')}`;
    const notes = [
      signCheckpoint(bodies[0]!, signer(keyA)),
      lines.join('\n'),
      signCheckpoint(bodies[2]!, signer(keyB)),
    ];
    const windows = [
      { key: A, untilSize: 20 },
      { key: B, fromSize: 20 },
    ];
    const r = failure(await verifyLog(arraySource(leaves, notes), { logKeys: windows, origin: ORIGIN }));
    expect(r).toMatchObject({ index: 20, check: 'CHECKPOINT_SIGNATURE' });
    // With A's window closed before 20, its (bad) signature there is an unknown key's: ignored.
    const ignored = [
      { key: A, untilSize: 10 },
      { key: B, fromSize: 20 },
    ];
    expect(await verifyLog(arraySource(leaves, notes), { logKeys: ignored, origin: ORIGIN })).toMatchObject({
      ok: true,
    });
  });

  it('logKey and logKeys: exactly one, and windows must be sizes in order', async () => {
    await expect(verifyLog(rotated(), { origin: ORIGIN })).rejects.toThrow(/exactly one/);
    await expect(verifyLog(rotated(), { origin: ORIGIN, logKey: A, logKeys: [{ key: B }] })).rejects.toThrow(
      /logKey, logKeys: give exactly one/,
    );
    await expect(verify(rotated(), [{ key: A, fromSize: 5, untilSize: 4 }])).rejects.toThrow(
      /logKeys\[0\]: untilSize must be >= fromSize/,
    );
    await expect(verify(rotated(), [{ key: A, fromSize: -1 }])).rejects.toThrow(/logKeys\[0\]\.fromSize/);
  });
});
