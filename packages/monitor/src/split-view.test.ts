// Split views with real processes: two standalone ledgers with the same log key and origin
// (an operator showing two histories) and two real witnesses, each fed the checkpoints of
// one of them. A monitor following one ledger reports the view a witness cosigned of the
// other (SPLIT_VIEW, with both signed checkpoints), receipts the other instance gave
// (RECEIPT_NOT_HONOURED: dropped, moved), and an evidence bundle exported from the other
// instance (EQUIVOCATION: two events the emitter signed at one seq; SPLIT_VIEW).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpProofProvider, writePartialBundle } from '@civic-ledger/bundle';
import { formatVerifierKey, generateSigningKey, writeSigningKeyFile } from '@civic-ledger/crypto';
import { verifyEventSignature } from '@civic-ledger/events';
import type { TestSubmission } from '@civic-ledger/ledger-core/testing';
import { hashLeaf, verifyInclusion } from '@civic-ledger/merkle';
import { GENESIS_PREV } from '@civic-ledger/schemas';
import { openCheckpoint, verifierFromKeyText } from '@civic-ledger/signed-note';
import type { RunningService } from '@civic-ledger/standalone-service';
import { httpSource } from '@civic-ledger/verifier';
import { checkQuorum, parsePolicy } from '@civic-ledger/witness';
import type { RunningWitness } from '@civic-ledger/witness-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from './alerts.ts';
import { Monitor } from './monitor.ts';
import {
  bootstrap,
  cast,
  collect,
  feedWitness,
  startLedger,
  startTestWitness,
  submit,
  type Receipt,
} from './test-fixtures.ts';

const ORIGIN = 'ledger.split-view.test/log';
const logKey = generateSigningKey(ORIGIN);
const LOG_KEY = formatVerifierKey(logKey);
const root = mkdtempSync(join(tmpdir(), 'monitor-split-'));
const c = cast();
let a: RunningService;
let b: RunningService;
let wa: RunningWitness;
let wb: RunningWitness;
/** The agency's two events at seq 3: one shown on each ledger. */
let eA: TestSubmission;
let eB: TestSubmission;
const receiptsA: Record<string, Receipt> = {};

function open(note: string) {
  return openCheckpoint(note, { verifiers: [verifierFromKeyText(LOG_KEY)], origin: ORIGIN });
}

const codes = (alerts: readonly Alert[]) => alerts.map((x) => x.code).sort();

beforeAll(async () => {
  const keyFile = join(root, 'log.key');
  writeSigningKeyFile(keyFile, logKey);
  [a, b] = await Promise.all([
    startLedger(join(root, 'a'), c.operator, { origin: ORIGIN, logKeyFile: keyFile }),
    startLedger(join(root, 'b'), c.operator, { origin: ORIGIN, logKeyFile: keyFile }),
  ]);
  [wa, wb] = await Promise.all([
    startTestWitness(root, 'wa', { origin: ORIGIN, logKey: LOG_KEY }),
    startTestWitness(root, 'wb', { origin: ORIGIN, logKey: LOG_KEY }),
  ]);
  // The same signed events on both...
  const shared = [...bootstrap(c), ...Array.from({ length: 5 }, (_, i) => c.police.next(collect(i)))];
  await submit(a.url, shared);
  await submit(b.url, shared);
  // ...then the agency signs two different events at one seq: one for each ledger.
  eA = c.agency.peek(collect(50));
  eB = c.agency.peek(collect(60));
  c.agency.seq += 1;
  c.agency.prev = eB.hash;
  receiptsA['eA'] = (await submit(a.url, [eA]))[0]!;
  await submit(b.url, [eB]);
  await Promise.all([a.ledger.checkpointNow(), b.ledger.checkpointNow()]);
  await feedWitness(wa, a.url);
  await feedWitness(wb, b.url);
}, 30_000);

afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), wa?.close(), wb?.close()]);
  rmSync(root, { recursive: true, force: true });
});

describe('split views, with two ledgers and two witnesses', { timeout: 20_000 }, () => {
  it('same size, another root: SPLIT_VIEW with both checkpoints signed by the log key', async () => {
    const m = new Monitor({ ledgerUrl: b.url, logKey: LOG_KEY, witnesses: [wa.url, wb.url] });
    const r = await m.pollOnce();
    expect(r).toMatchObject({ ok: false, size: 15, entries: 15 });
    expect(r.witnesses).toEqual([
      { url: wa.url, status: 'split-view', size: 15 },
      { url: wb.url, status: 'consistent', size: 15 },
    ]);
    expect(codes(r.alerts)).toEqual(['SPLIT_VIEW']);
    const e = r.alerts[0]!.evidence as {
      reason: string;
      ledger: { note: string; rootHash: string };
      witness: { note: string; url: string };
    };
    expect(e.reason).toBe('SAME_SIZE_OTHER_ROOT');
    // The evidence stands on its own: two notes of one size, both signed by the log key,
    // with different roots — and the witness cosigned the other one.
    const [ledgerCp, witnessCp] = [open(e.ledger.note), open(e.witness.note)];
    expect([ledgerCp.size, witnessCp.size]).toEqual([15, 15]);
    expect(Buffer.from(ledgerCp.rootHash).equals(Buffer.from(witnessCp.rootHash))).toBe(false);
    const policy = parsePolicy(
      `log ${LOG_KEY}\nwitness wa ${wa.witness.verifierKey} ${wa.url}\nwitness wb ${wb.witness.verifierKey} ${wb.url}\nquorum wa\n`,
    );
    expect(checkQuorum(e.witness.note, policy).witnesses).toEqual(['wa']);
  });

  it('receipts the other instance gave are not honoured: dropped, or moved to another index', async () => {
    // Two events each ledger holds, in another order.
    const x = c.police.next(collect(30));
    const y = c.board.next(collect(31));
    const [rx] = await submit(a.url, [x, y]);
    await submit(b.url, [y, x, c.police.next(collect(32))]);
    await Promise.all([a.ledger.checkpointNow(), b.ledger.checkpointNow()]);
    receiptsA['x'] = rx!;
    const m = new Monitor({
      ledgerUrl: b.url,
      logKey: LOG_KEY,
      receipts: [
        { source: 'receipt of eA from A', receipt: receiptsA['eA']! },
        { source: 'receipt of x from A', receipt: rx! },
      ],
    });
    const r = await m.pollOnce();
    expect(r.size).toBe(18);
    expect(r.receipts.map((x) => [x.index, x.status, x.reason])).toEqual([
      [14, 'not-honoured', 'dropped'],
      [15, 'not-honoured', 'moved'],
    ]);
    const [dropped, moved] = r.alerts.filter((x) => x.code === 'RECEIPT_NOT_HONOURED');
    expect(moved!.evidence).toMatchObject({ foundAt: { index: 16 } });
    // What is at index 14 instead, proven in the ledger's own signed tree.
    const ev = dropped!.evidence as {
      receipt: Receipt;
      entry: { index: number; leaf: string; leafHash: string };
      inclusionProof: { index: number; size: number; hashes: string[] };
      checkpoint: string;
    };
    expect(ev.receipt).toEqual(receiptsA['eA']);
    expect(ev.entry.leaf).toContain(`"records":1060`);
    const cp = open(ev.checkpoint);
    expect(cp.size).toBe(ev.inclusionProof.size);
    verifyInclusion(
      hashLeaf(new TextEncoder().encode(ev.entry.leaf)),
      14,
      cp.size,
      ev.inclusionProof.hashes.map((h) => new Uint8Array(Buffer.from(h, 'base64'))),
      cp.rootHash,
    );
    expect(Buffer.from(hashLeaf(new TextEncoder().encode(ev.entry.leaf))).toString('hex')).not.toBe(
      ev.receipt.leafHash,
    );
  });

  it('different sizes: a proof that does not verify, and a witness ahead of what the ledger can prove', async () => {
    await feedWitness(wa, a.url); // A at 17
    await feedWitness(wb, b.url); // B at 18
    const m = new Monitor({ ledgerUrl: b.url, logKey: LOG_KEY, witnesses: [wa.url, wb.url] });
    const r = await m.pollOnce();
    expect(r.witnesses.map((w) => [w.status, w.size])).toEqual([
      ['split-view', 17],
      ['consistent', 18],
    ]);
    expect(r.alerts.find((x) => x.code === 'SPLIT_VIEW')?.evidence).toMatchObject({
      reason: 'PROOF_INVALID',
      ledger: { size: 18 },
      witness: { size: 17 },
    });

    // A grows past B: B cannot prove a tree of A's size at all.
    await submit(
      a.url,
      Array.from({ length: 5 }, (_, i) => c.board.next(collect(40 + i))),
    );
    await a.ledger.checkpointNow();
    await feedWitness(wa, a.url);
    // Witnesses named by a policy, whose quorum the ledger's checkpoints must carry.
    const policy = parsePolicy(
      `log ${LOG_KEY}\nwitness wa ${wa.witness.verifierKey} ${wa.url}\nwitness wb ${wb.witness.verifierKey} ${wb.url}\ngroup both 2 wa wb\nquorum both\n`,
    );
    const p = await new Monitor({
      ledgerUrl: b.url,
      logKey: LOG_KEY,
      policy,
      requireQuorum: true,
    }).pollOnce();
    expect(codes(p.alerts)).toEqual(['QUORUM_NOT_MET', 'SPLIT_VIEW']);
    expect(p.alerts.find((x) => x.code === 'SPLIT_VIEW')?.evidence).toMatchObject({
      reason: 'PROOF_UNAVAILABLE',
      witness: { size: 22, url: wa.url },
    });
    expect(p.alerts.find((x) => x.code === 'QUORUM_NOT_MET')?.severity).toBe('warning');
  });

  it('an evidence bundle from the other instance: EQUIVOCATION with both signed events, and a SPLIT_VIEW', async () => {
    const dir = join(root, 'bundle-from-a');
    await writePartialBundle(dir, httpSource(a.url), {
      logKey: LOG_KEY,
      origin: ORIGIN,
      hashes: [eA.hash],
      proofs: httpProofProvider(a.url),
    });
    const m = new Monitor({ ledgerUrl: b.url, logKey: LOG_KEY });
    await m.pollOnce();
    const { reports, alerts } = await m.checkEvidence(dir);
    expect(codes(alerts)).toEqual(['EQUIVOCATION', 'SPLIT_VIEW']);
    expect(reports.find((x) => x.kind === 'checkpoint')).toMatchObject({ status: 'split-view', size: 22 });
    expect(reports.find((x) => x.eventHash === eA.hash)).toMatchObject({ status: 'equivocation', index: 14 });
    // The supporting entries (genesis, registrations, keys) are the same events on both.
    expect(
      reports
        .filter((x) => x.kind === 'event' && x.eventHash !== eA.hash)
        .every((x) => x.status === 'in-log'),
    ).toBe(true);
    const ev = alerts.find((x) => x.code === 'EQUIVOCATION')!.evidence as {
      emitter: string;
      seq: number;
      log: {
        eventHash: string;
        signature: string;
        leaf: string;
        inclusionProof: { hashes: string[]; size: number };
        checkpoint: string;
      };
      other: { eventHash: string; signature: string };
    };
    expect(ev).toMatchObject({ emitter: 'transport-agency', seq: 3 });
    expect([ev.log.eventHash, ev.other.eventHash]).toEqual([eB.hash, eA.hash]);
    // Both are the agency's own signatures: the emitter equivocated (or its key did).
    for (const s of [ev.log, ev.other])
      expect(verifyEventSignature(s.eventHash, Buffer.from(s.signature, 'base64'), c.agency.key)).toBe(true);
    const cp = open(ev.log.checkpoint);
    verifyInclusion(
      hashLeaf(new TextEncoder().encode(ev.log.leaf)),
      14,
      ev.log.inclusionProof.size,
      ev.log.inclusionProof.hashes.map((h) => new Uint8Array(Buffer.from(h, 'base64'))),
      cp.rootHash,
    );
  });

  it('a ledger whose history contradicts the saved state (rewritten, re-signed, or rolled back): LOG_INCONSISTENT', async () => {
    const [stateA, stateB] = [join(root, 'state-a.json'), join(root, 'state-b.json')];
    expect(
      (await new Monitor({ ledgerUrl: a.url, logKey: LOG_KEY, statePath: stateA }).pollOnce()).size,
    ).toBe(22);
    expect(
      (await new Monitor({ ledgerUrl: b.url, logKey: LOG_KEY, statePath: stateB }).pollOnce()).size,
    ).toBe(18);
    // Saw A up to 22; now served B: a smaller tree B cannot prove A's extends.
    const rolledBack = await new Monitor({ ledgerUrl: b.url, logKey: LOG_KEY, statePath: stateA }).pollOnce();
    expect(codes(rolledBack.alerts)).toEqual(['LOG_INCONSISTENT']);
    expect(rolledBack.alerts[0]!.evidence).toMatchObject({
      reason: 'PROOF_UNAVAILABLE',
      previous: { size: 22 },
      current: { size: 18 },
    });
    // Saw B up to 18; now served A at 22: A's proof does not start from B's root.
    const rewritten = await new Monitor({ ledgerUrl: a.url, logKey: LOG_KEY, statePath: stateB }).pollOnce();
    expect(rewritten.alerts[0]).toMatchObject({
      code: 'LOG_INCONSISTENT',
      evidence: { reason: 'PROOF_INVALID' },
    });
    expect(rewritten.size).toBe(18);
  });

  it('signed events given directly: in the log, not yet in it, equivocating, or not evidence at all', async () => {
    const told: string[] = [];
    const m = new Monitor({ ledgerUrl: b.url, logKey: LOG_KEY, orgs: [{ org: 'transport-agency' }] });
    m.on('notification', (n) => told.push(n.kind === 'alert' ? n.alert.code : n.kind));
    await m.pollOnce();
    told.length = 0;
    // Another event at the agency's seq 1 (its source registration), signed with its key.
    const other = c.agency.peek(collect(70), { seq: 1, prev: GENESIS_PREV });
    const future = c.agency.peek(collect(71));
    const forged = { ...c.agency.peek(collect(72), { seq: 2 }), signature: eB.signature };
    const { reports, alerts } = await m.checkEvidence([eB, other, future, forged]);
    expect(reports.map((x) => x.status)).toEqual(['in-log', 'equivocation', 'not-in-log', 'unverifiable']);
    expect(codes(alerts)).toEqual(['EQUIVOCATION']);
    expect(alerts[0]!.evidence).toMatchObject({ seq: 1, other: { eventHash: other.hash } });
    // The organization in whose name it happened is told.
    expect(told).toEqual(['EQUIVOCATION']);
  });
});
