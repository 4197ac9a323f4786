// Opening checkpoints with the pinned key, and deciding whether two signed trees can be one
// log at two moments, on in-memory logs (MemoryLog of @civic-ledger/witness: real signed
// checkpoints and RFC 9162 proofs).
import { generateSigningKey, toHex } from '@civic-ledger/crypto';
import { emptyRoot } from '@civic-ledger/merkle';
import { MemoryLog } from '@civic-ledger/witness';
import { describe, expect, it } from 'vitest';
import { judgeConsistency, openLogCheckpoint } from './checkpoints.ts';

const ORIGIN = 'ledger.checkpoints.test/log';

describe('openLogCheckpoint', () => {
  const log = new MemoryLog(ORIGIN).grow(10);
  const pin = { logKey: log.verifierKey, origin: ORIGIN };

  it('opens a checkpoint signed by the pinned key, keeping other signature lines opaque', () => {
    const r = openLogCheckpoint(log.checkpoint(), pin);
    expect(r).toMatchObject({ ok: true, checkpoint: { size: 10, root: toHex(log.root()) } });
  });

  it('refuses another key, another origin, and what is not a checkpoint', () => {
    const impostor = new MemoryLog(ORIGIN, generateSigningKey(ORIGIN)).grow(10);
    expect(openLogCheckpoint(impostor.checkpoint(), pin)).toMatchObject({
      ok: false,
      check: 'CHECKPOINT_SIGNATURE',
    });
    const other = new MemoryLog('other.test/log').grow(3);
    expect(
      openLogCheckpoint(other.checkpoint(), { logKey: other.verifierKey, origin: ORIGIN }),
    ).toMatchObject({
      ok: false,
      check: 'CHECKPOINT_ORIGIN',
    });
    expect(openLogCheckpoint('hello\n', pin)).toMatchObject({ ok: false, check: 'CHECKPOINT_MALFORMED' });
  });
});

describe('judgeConsistency', () => {
  const head = (log: MemoryLog, size = log.size) => ({ size, rootHash: log.root(size) });

  it('a log that only grew is consistent at every pair of sizes', () => {
    const log = new MemoryLog(ORIGIN).grow(37);
    for (const a of [0, 1, 5, 16, 36, 37])
      for (const b of [a, 17, 37].filter((x) => x >= a))
        expect(judgeConsistency(head(log, a), head(log, b), log.consistencyProof(a, b))).toEqual({
          ok: true,
        });
  });

  it('two logs that diverged: no proof of the honest one joins them', () => {
    const key = generateSigningKey(ORIGIN);
    const a = new MemoryLog(ORIGIN, key).grow(20);
    const b = new MemoryLog(ORIGIN, key).grow(12).append('forked').grow(7, 'b');
    // Same size, other root: conclusive on its own.
    expect(judgeConsistency(head(a, 20), head(b, 20), [])).toMatchObject({
      ok: false,
      reason: 'SAME_SIZE_OTHER_ROOT',
    });
    // The witness saw a at 15; the ledger shows b at 20 and proves what it can: refused.
    expect(judgeConsistency(head(a, 15), head(b, 20), b.consistencyProof(15, 20))).toMatchObject({
      ok: false,
      reason: 'PROOF_INVALID',
    });
    // Before the fork they agree.
    expect(judgeConsistency(head(a, 12), head(b, 20), b.consistencyProof(12, 20))).toEqual({ ok: true });
    expect(judgeConsistency(head(a, 15), head(b, 20), undefined)).toMatchObject({
      ok: false,
      reason: 'PROOF_UNAVAILABLE',
    });
  });

  it('the empty tree is a prefix of any tree, only with the empty root', () => {
    const log = new MemoryLog(ORIGIN).grow(3);
    expect(judgeConsistency({ size: 0, rootHash: toHex(emptyRoot()) }, head(log), undefined)).toEqual({
      ok: true,
    });
    expect(judgeConsistency({ size: 0, rootHash: log.root() }, head(log), undefined)).toMatchObject({
      ok: false,
    });
    expect(() => judgeConsistency(head(log), { size: 0, rootHash: emptyRoot() }, [])).toThrow(RangeError);
  });
});
