import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, toBase64 } from '@civic-ledger/crypto';
import { emptyRoot } from '@civic-ledger/merkle';
import { ed25519Signer, parseNote, signCheckpoint } from '@civic-ledger/signed-note';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addSignatures } from './client.ts';
import { cosignerFromKey, parseCosignatureVerifierKey, verifyCosignature } from './cosignature.ts';
import { MemoryLog } from './memory-log.ts';
import { checkQuorum, parsePolicy } from './policy.ts';
import { formatAddCheckpointRequest, parseSignatureLines } from './request.ts';
import type { Alarm } from './store.ts';
import { Witness, type AddCheckpointResult, type WitnessOptions } from './witness.ts';

const ORIGIN = 'ledger.example/log';
const witnessKey = generateSigningKey('witness.example/w1');

let dir: string;
let open: Witness[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'witness-'));
  open = [];
});
afterEach(() => {
  for (const w of open) w.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(log: MemoryLog, options: Partial<WitnessOptions> = {}): Witness {
  const w = Witness.open({
    key: witnessKey,
    logs: [{ origin: log.origin, verifierKeys: [log.verifierKey] }],
    store: join(dir, 'witness.db'),
    ...options,
  });
  open.push(w);
  return w;
}

function expectRefused(
  r: AddCheckpointResult,
  status: number,
  code: string,
): asserts r is Extract<AddCheckpointResult, { ok: false }> {
  expect(r.ok ? { status: 200 } : { status: r.status, code: r.code }).toEqual({ status, code });
}

/** Feeds the log's current size to the witness, from its latest state. */
async function catchUp(w: Witness, log: MemoryLog): Promise<AddCheckpointResult> {
  return w.addCheckpoint(log.addCheckpointRequest(w.latest(log.origin)?.size ?? 0));
}

describe('add-checkpoint', () => {
  it('cosigns a first checkpoint from old size 0 and answers with a verifiable cosignature line', async () => {
    const log = new MemoryLog(ORIGIN).grow(7);
    const w = start(log, { now: () => 1_750_000_000_123 });
    const r = await w.addCheckpoint(log.addCheckpointRequest(0));
    if (!r.ok) throw new Error(r.message);
    expect(r).toMatchObject({ status: 200, origin: ORIGIN, oldSize: 0, size: 7, timestamp: 1_750_000_000 });
    const [line] = parseSignatureLines(r.body);
    const c = verifyCosignature(
      parseNote(log.checkpoint()).text,
      line!,
      parseCosignatureVerifierKey(w.verifierKey),
    );
    expect(c.timestamp).toBe(1_750_000_000);
    // The state served to monitors: the log's signature and the witness's cosignature.
    const state = w.latest(ORIGIN)!;
    expect(state).toMatchObject({ size: 7, cosignedAt: 1_750_000_000 });
    expect(toBase64(state.rootHash)).toBe(toBase64(log.root()));
    const policy = parsePolicy(`log ${log.verifierKey}\nwitness w1 ${w.verifierKey}\nquorum w1\n`);
    expect(checkQuorum(state.note, policy)).toMatchObject({ ok: true, witnesses: ['w1'], size: 7 });
  });

  it('follows a growing log with consistency proofs', async () => {
    const log = new MemoryLog(ORIGIN);
    const w = start(log);
    for (const n of [1, 2, 1, 5, 8, 13, 1, 100]) {
      log.grow(n);
      const r = await catchUp(w, log);
      expect(r.ok ? r.size : r.message).toBe(log.size);
    }
    // The same checkpoint again (old = size, empty proof) is cosigned again.
    expect((await w.addCheckpoint(log.addCheckpointRequest(log.size))).ok).toBe(true);
  });

  it('answers each refusal with the status of the spec', async () => {
    const log = new MemoryLog(ORIGIN).grow(10);
    const w = start(log);
    expect((await w.addCheckpoint(log.addCheckpointRequest(0))).ok).toBe(true);
    log.grow(5);

    expectRefused(await w.addCheckpoint('garbage'), 400, 'MALFORMED_REQUEST');
    expectRefused(await w.addCheckpoint(`old 10\n\nnot a note\n`), 400, 'MALFORMED_REQUEST');
    const tooLarge = formatAddCheckpointRequest({ oldSize: 16, proof: [], checkpoint: log.checkpoint() });
    expectRefused(await w.addCheckpoint(tooLarge), 400, 'OLD_SIZE_TOO_LARGE');

    const stranger = new MemoryLog('stranger.example/log').grow(3);
    expectRefused(await w.addCheckpoint(stranger.addCheckpointRequest(0)), 404, 'UNKNOWN_ORIGIN');

    const impostor = new MemoryLog(ORIGIN).grow(15); // the right origin, another key
    expectRefused(await w.addCheckpoint(impostor.addCheckpointRequest(10)), 403, 'LOG_SIGNATURE_MISSING');
    const tampered = log.addCheckpointRequest(10).replace(/\n15\n/, '\n16\n');
    expectRefused(await w.addCheckpoint(tampered), 403, 'LOG_SIGNATURE_INVALID');

    const conflict = await w.addCheckpoint(log.addCheckpointRequest(12));
    expectRefused(conflict, 409, 'OLD_SIZE_MISMATCH');
    expect(conflict.latestSize).toBe(10);

    const badProof = formatAddCheckpointRequest({
      oldSize: 10,
      proof: log.consistencyProof(10).reverse(),
      checkpoint: log.checkpoint(),
    });
    expectRefused(await w.addCheckpoint(badProof), 422, 'BAD_CONSISTENCY_PROOF');

    const other = new MemoryLog(ORIGIN, log.key).grow(10, 'other'); // same key, same size, other root
    const fork = await w.addCheckpoint(other.addCheckpointRequest(10));
    expectRefused(fork, 409, 'ROOT_MISMATCH');
    expect(fork.latestSize).toBe(10);

    // None of this moved the state.
    expect(w.latest(ORIGIN)!.size).toBe(10);
    expect((await w.addCheckpoint(log.addCheckpointRequest(10))).ok).toBe(true);
  });

  it('refuses a proof with the first checkpoint, and a size-0 checkpoint without the empty root', async () => {
    const log = new MemoryLog(ORIGIN).grow(4);
    const w = start(log);
    const withProof = formatAddCheckpointRequest({
      oldSize: 0,
      proof: [log.root(2)],
      checkpoint: log.checkpoint(),
    });
    expectRefused(await w.addCheckpoint(withProof), 422, 'BAD_CONSISTENCY_PROOF');
    const zero = (root: Uint8Array) =>
      formatAddCheckpointRequest({
        oldSize: 0,
        proof: [],
        checkpoint: signCheckpoint(
          { origin: ORIGIN, size: 0, rootHash: root, extensions: [] },
          ed25519Signer(log.key),
        ),
      });
    expectRefused(await w.addCheckpoint(zero(new Uint8Array(32))), 422, 'BAD_CONSISTENCY_PROOF');
    expect((await w.addCheckpoint(zero(emptyRoot()))).ok).toBe(true);
    expect(w.latest(ORIGIN)!.size).toBe(0);
  });

  it('refuses every mutation of a valid consistency proof and leaves the state alone', async () => {
    const log = new MemoryLog(ORIGIN).grow(21);
    const w = start(log);
    await catchUp(w, log);
    log.grow(50);
    const proof = log.consistencyProof(21);
    const checkpoint = log.checkpoint();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({
            kind: fc.constant('flip' as const),
            at: fc.nat(),
            bit: fc.integer({ min: 0, max: 255 }),
          }),
          fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
          fc.record({
            kind: fc.constant('add' as const),
            at: fc.nat(),
            hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          }),
          fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
        ),
        async (m) => {
          const p = proof.map((h) => Uint8Array.from(h));
          const i = m.at % p.length;
          if (m.kind === 'flip') p[i]![m.bit >> 3]! ^= 1 << (m.bit & 7);
          else if (m.kind === 'drop') p.splice(i, 1);
          else if (m.kind === 'add') p.splice(i, 0, m.hash);
          else if (p.length > 1 && toBase64(p[i]!) !== toBase64(p[(i + 1) % p.length]!)) {
            [p[i], p[(i + 1) % p.length]] = [p[(i + 1) % p.length]!, p[i]!];
          } else return; // nothing to swap
          const r = await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 21, proof: p, checkpoint }));
          expectRefused(r, 422, 'BAD_CONSISTENCY_PROOF');
        },
      ),
      { numRuns: 60 },
    );
    expect(w.latest(ORIGIN)!.size).toBe(21);
    expect((await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 21, proof, checkpoint }))).ok).toBe(
      true,
    );
  });

  it('accepts any of the log keys it knows (rotation) and serves only trusted signatures', async () => {
    const log = new MemoryLog(ORIGIN).grow(3);
    const next = generateSigningKey(ORIGIN);
    const w = start(log, {
      logs: [{ origin: ORIGIN, verifierKeys: [log.verifierKey, new MemoryLog(ORIGIN, next).verifierKey] }],
    });
    // A checkpoint signed by the new key only, carrying a stranger's cosignature line.
    const rotated = new MemoryLog(ORIGIN, next).grow(3);
    const stranger = cosignerFromKey(generateSigningKey('stranger.example/w'));
    const note = addSignatures(rotated.checkpoint(), [
      stranger.cosign(parseNote(rotated.checkpoint()).text, 1),
    ]);
    const r = await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note }));
    expect(r.ok).toBe(true);
    expect(parseNote(w.latest(ORIGIN)!.note).signatures.map((s) => s.name)).toEqual([
      ORIGIN,
      'witness.example/w1',
    ]);
  });

  it('cosigns extension lines as part of the body', async () => {
    const log = new MemoryLog(ORIGIN).grow(2);
    const w = start(log);
    const checkpoint = log.checkpoint(2, ['ext: something']);
    const r = await w.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint }));
    if (!r.ok) throw new Error(r.message);
    const text = parseNote(checkpoint).text;
    expect(verifyCosignature(text, r.cosignature, parseCosignatureVerifierKey(w.verifierKey)).timestamp).toBe(
      r.timestamp,
    );
  });

  it('never dates a cosignature before an earlier one of the same log, even if the clock goes back', async () => {
    const log = new MemoryLog(ORIGIN).grow(2);
    let now = 2_000_000_000_000;
    const w = start(log, { now: () => now });
    const first = await catchUp(w, log);
    now -= 3_600_000;
    log.grow(1);
    const second = await catchUp(w, log);
    expect(first.ok && second.ok && second.timestamp).toBe(2_000_000_000);
  });

  it('refuses a configuration without logs or with a bad log key', () => {
    const log = new MemoryLog(ORIGIN);
    expect(() => start(log, { logs: [] })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => start(log, { logs: [{ origin: ORIGIN, verifierKeys: ['nope'] }] })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    const policy = parsePolicy(`log ${log.verifierKey}\n`, { requireQuorum: false });
    expect(start(log, { logs: policy }).logs).toEqual([{ origin: ORIGIN, verifierKeys: [log.verifierKey] }]);
  });
});

describe('alarms', () => {
  it('refuses a rollback and raises one alarm with both checkpoints', async () => {
    const log = new MemoryLog(ORIGIN).grow(10);
    const alarms: Alarm[] = [];
    const w = start(log, { onAlarm: (a) => alarms.push(a) });
    await catchUp(w, log);
    log.grow(10);
    await catchUp(w, log);

    // The log (or anyone replaying it) submits its older checkpoint of size 10.
    const back = formatAddCheckpointRequest({ oldSize: 20, proof: [], checkpoint: log.checkpoint(10) });
    const r = await w.addCheckpoint(back);
    expectRefused(r, 400, 'OLD_SIZE_TOO_LARGE');
    expect(r.alarm).toMatchObject({ kind: 'ROLLBACK', severity: 'warning', origin: ORIGIN });
    const again = await w.addCheckpoint(log.addCheckpointRequest(0, 10));
    expectRefused(again, 409, 'OLD_SIZE_MISMATCH');
    expect(again.alarm).toBeUndefined(); // the same evidence is recorded once
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.evidence).toMatchObject({
      latest: { size: 20, rootHash: toBase64(log.root(20)), note: w.latest(ORIGIN)!.note },
      submitted: { size: 10, rootHash: toBase64(log.root(10)), note: log.checkpoint(10) },
      oldSize: 20,
      proof: [],
    });
    expect(w.latest(ORIGIN)!.size).toBe(20);
    expect(w.alarms()).toEqual(alarms);
  });

  it('never cosigns both sides of a split view, and reports the fork with its evidence', async () => {
    const honest = new MemoryLog(ORIGIN).grow(8);
    const evil = new MemoryLog(ORIGIN, honest.key).grow(8); // same key and prefix
    honest.grow(4, 'public');
    evil.grow(4, 'auditor');
    const w = start(honest);
    await catchUp(w, honest);

    const fork = await w.addCheckpoint(evil.addCheckpointRequest(12));
    expectRefused(fork, 409, 'ROOT_MISMATCH');
    expect(fork.alarm).toMatchObject({ kind: 'FORK', severity: 'critical' });
    expect(fork.alarm!.evidence.submitted.note).toBe(evil.checkpoint());
    expect(fork.alarm!.evidence.latest.rootHash).toBe(toBase64(honest.root()));

    evil.grow(3);
    const ahead = formatAddCheckpointRequest({
      oldSize: 12,
      proof: evil.consistencyProof(12),
      checkpoint: evil.checkpoint(),
    });
    const r = await w.addCheckpoint(ahead);
    expectRefused(r, 422, 'BAD_CONSISTENCY_PROOF');
    expect(r.alarm).toMatchObject({ kind: 'BAD_PROOF', evidence: { oldSize: 12 } });
    expect(w.alarms().map((a) => a.kind)).toEqual(['FORK', 'BAD_PROOF']);
    expect(toBase64(w.latest(ORIGIN)!.rootHash)).toBe(toBase64(honest.root()));
  });

  it('whatever two forked logs send, everything cosigned lies on one history', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(
          fc.record({ branch: fc.boolean(), size: fc.nat(), old: fc.oneof(fc.constant(-1), fc.nat()) }),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        async (shared, steps) => {
          const a = new MemoryLog(ORIGIN).grow(shared);
          const b = new MemoryLog(ORIGIN, a.key).grow(shared);
          a.grow(12, 'a');
          b.grow(12, 'b');
          const w = Witness.open({
            key: witnessKey,
            logs: [{ origin: ORIGIN, verifierKeys: [a.verifierKey] }],
            store: ':memory:',
          });
          try {
            const cosigned: { size: number; root: string }[] = [];
            for (const s of steps) {
              const log = s.branch ? a : b;
              const size = s.size % (log.size + 1);
              // old -1: what the witness says its latest is (an honest client); else a guess.
              const latest = w.latest(ORIGIN)?.size ?? 0;
              const old = s.old < 0 ? latest : s.old % (size + 1);
              const r = await w.addCheckpoint(
                formatAddCheckpointRequest({
                  oldSize: old,
                  proof: old <= size ? log.consistencyProof(old, size) : [],
                  checkpoint: log.checkpoint(size),
                }),
              );
              if (r.ok) cosigned.push({ size: r.size, root: toBase64(r.rootHash) });
            }
            // Sizes never go down, and beyond the shared prefix only one branch ever got cosigned.
            const sizes = cosigned.map((c) => c.size);
            expect(sizes).toEqual([...sizes].sort((x, y) => x - y));
            const branches = new Set(
              cosigned
                .filter((c) => c.size > shared)
                .map((c) =>
                  c.root === toBase64(a.root(c.size)) ? 'a' : c.root === toBase64(b.root(c.size)) ? 'b' : '?',
                ),
            );
            expect(branches.has('?')).toBe(false);
            expect(branches.size).toBeLessThanOrEqual(1);
          } finally {
            w.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('state', () => {
  it('survives a restart: a new instance on the same file answers from the saved state', async () => {
    const log = new MemoryLog(ORIGIN).grow(9);
    const first = start(log);
    await catchUp(first, log);
    const note = first.latest(ORIGIN)!.note;
    first.close();

    const second = start(log);
    expect(second.latest(ORIGIN)).toMatchObject({ size: 9, note });
    const fresh = await second.addCheckpoint(log.addCheckpointRequest(0));
    expectRefused(fresh, 409, 'OLD_SIZE_MISMATCH');
    expect(fresh.latestSize).toBe(9);
    log.grow(4);
    expect((await second.addCheckpoint(log.addCheckpointRequest(9))).ok).toBe(true);
  });

  it('recovers from a crash between the write and the answer: the retry learns the new size', async () => {
    const log = new MemoryLog(ORIGIN).grow(5);
    const crashing = start(log, {
      hooks: {
        afterCommit: () => {
          throw new Error('power cut');
        },
      },
    });
    await expect(crashing.addCheckpoint(log.addCheckpointRequest(0))).rejects.toThrow('power cut');
    crashing.close();

    const restarted = start(log);
    // The log never got its cosignature and retries from what it believed: 409 tells it 5.
    const retry = await restarted.addCheckpoint(log.addCheckpointRequest(0));
    expectRefused(retry, 409, 'OLD_SIZE_MISMATCH');
    expect(retry.latestSize).toBe(5);
    // From size 5 to the same checkpoint (empty proof): cosigned.
    expect((await restarted.addCheckpoint(log.addCheckpointRequest(5))).ok).toBe(true);
  });

  it('lets only one of two racing requests win (the rollback race of the spec)', async () => {
    const log = new MemoryLog(ORIGIN).grow(4);
    let release!: () => void;
    const paused = new Promise<void>((r) => (release = r));
    let stall = false;
    const w = start(log, { hooks: { beforeCommit: () => (stall ? paused : undefined) } });
    await catchUp(w, log);
    log.grow(6);
    // A (4 -> 6) is checked, then stalls before writing; B (4 -> 10) completes meanwhile.
    stall = true;
    const a = w.addCheckpoint(log.addCheckpointRequest(4, 6));
    stall = false;
    const b = await w.addCheckpoint(log.addCheckpointRequest(4, 10));
    expect(b.ok).toBe(true);
    release();
    const ra = await a;
    expectRefused(ra, 409, 'OLD_SIZE_MISMATCH');
    expect(ra.latestSize).toBe(10);
    expect(w.latest(ORIGIN)!.size).toBe(10); // not rolled back to 6
  });

  it('lets exactly one of many concurrent requests from the same old size win, across two connections', async () => {
    const log = new MemoryLog(ORIGIN).grow(3);
    // Every request yields to the event loop before writing, so all are checked against size 3.
    const hooks = { beforeCommit: () => new Promise<void>((r) => setImmediate(r)) };
    const w1 = start(log, { hooks });
    const w2 = start(log, { hooks });
    await catchUp(w1, log);
    log.grow(7);
    const results = await Promise.all(
      [4, 5, 6, 7, 8, 9, 10, 10].map((size, i) =>
        (i % 2 === 0 ? w1 : w2).addCheckpoint(log.addCheckpointRequest(3, size)),
      ),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const size = winners[0]!.ok ? winners[0]!.size : -1;
    for (const r of results)
      if (!r.ok)
        expect({ status: r.status, latestSize: r.latestSize }).toEqual({ status: 409, latestSize: size });
    expect(w2.latest(ORIGIN)!.size).toBe(size);
  });
});
