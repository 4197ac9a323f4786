// Signatures checked ahead: each submission is decoded when it arrives and its signatures go
// to the worker threads at once, with the keys committed then, while earlier batches are
// admitted and committed. What a user relies on: a bad signature anywhere is refused with
// its own index and changes nothing; the key in force at the event's position decides,
// whatever key the signature was checked with ahead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSigningKey, formatVerifierKey, generateSigningKey, toHex } from '@civic-ledger/crypto';
import { rootAt, type NodeReader } from '@civic-ledger/merkle';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { decodeSubmission } from '@civic-ledger/events';
import { SqliteStore } from '@civic-ledger/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, type SubmitResult } from './index.ts';
import { bootstrapEvents, TestEmitter, type TestSubmission } from './testing.ts';

const logSigner = signerFromKeyText(formatSigningKey(generateSigningKey('pipeline.test/log')));
const NOW = Date.parse('2026-11-02T09:00:00Z');
const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';

const open: { ledger: Ledger; store: SqliteStore }[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const { ledger, store } of open.splice(0)) {
    await ledger.close();
    await store.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function collect(n: number) {
  return {
    type: 'collect',
    source: SOURCE,
    dataset: { id: DATASET, version: `sha256:${(n % 16).toString(16).repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: n,
  } as const;
}

let clock = NOW;

async function world(threads: number) {
  clock = NOW;
  const dir = mkdtempSync(join(tmpdir(), 'cl-pipeline-'));
  dirs.push(dir);
  const store = new SqliteStore({ path: join(dir, 'ledger.db') });
  const operator = new TestEmitter('ledger');
  const ledger = await Ledger.open({
    store,
    origin: 'pipeline.test/log',
    logSigner,
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 100_000, maxDelayMs: 60_000 },
    signatureThreads: threads,
    now: () => clock,
  });
  open.push({ ledger, store });
  const agency = new TestEmitter('transport-agency');
  const boot = await ledger.submit(
    bootstrapEvents(operator, [agency], {}, [
      { kind: 'source', id: SOURCE },
      { kind: 'dataset', id: DATASET },
    ]),
  );
  expect(boot.every((r) => r.ok)).toBe(true);
  return { ledger, store, agency };
}

function codes(results: SubmitResult[]): string[] {
  return results.map((r) => (r.ok ? 'ok' : r.error.code));
}

/** `n` events of one stream of the agency, signed with its key. */
function stream(agency: TestEmitter, name: string, n: number): TestSubmission[] {
  const e = new TestEmitter('transport-agency', { stream: name, key: agency.key });
  return Array.from({ length: n }, (_, i) => e.next(collect(i + 1)));
}

describe.each([
  ['worker threads', 2],
  ['the calling thread', 0],
])('signatures checked ahead (%s)', (_name, threads) => {
  it('a bad signature in the middle of pipelined batches is refused at its index and changes nothing', async () => {
    const { ledger, store, agency } = await world(threads);
    const before = await store.head();
    const a = stream(agency, 'a', 70);
    const b = stream(agency, 'b', 120);
    const c = stream(agency, 'c', 70);
    const forged = { ...b[57]!, signature: a[3]!.signature };
    // All three submitted before the first is admitted: b and c are checked while a commits.
    const [ra, rb, rc] = await Promise.all([
      ledger.submit(a),
      ledger.submit([...b.slice(0, 57), forged, ...b.slice(58)], { atomic: true }),
      ledger.submit(c),
    ]);
    expect(new Set(codes(ra!))).toEqual(new Set(['ok']));
    expect(new Set(codes(rc!))).toEqual(new Set(['ok']));
    // All or nothing: the ones before it BATCH_REFUSED, the rest of its chain skips ahead.
    expect(codes(rb!).slice(0, 57)).toEqual(Array(57).fill('BATCH_REFUSED'));
    expect(codes(rb!)[57]).toBe('BAD_SIGNATURE');
    expect(new Set(codes(rb!).slice(58))).toEqual(new Set(['CHAIN_GAP']));
    // The store holds exactly a and c: none of b, and a root its own nodes give.
    const head = await store.head();
    expect(head.size).toBe(before.size + 140);
    expect(await store.getLeavesByEventHash(b.map((e) => e.hash))).toEqual([]);
    const leaves = await store.getLeaves(before.size, head.size);
    expect(new Set(leaves.map((l) => l.eventHash))).toEqual(new Set([...a, ...c].map((e) => e.hash)));
    expect(toHex(ledger.rootHash)).toBe(toHex(head.rootHash));
    expect(toHex(await rootAt(store as NodeReader, head.size))).toBe(toHex(head.rootHash));
    // Not atomic: only the forged one is refused, and the rest of its chain skips ahead.
    const [rb2] = await Promise.all([
      ledger.submit([...b.slice(0, 57), forged, ...b.slice(58)]),
      ledger.submit(stream(agency, 'd', 70)),
    ]);
    expect(codes(rb2!).slice(0, 57)).toEqual(Array(57).fill('ok'));
    expect(codes(rb2!)[57]).toBe('BAD_SIGNATURE');
    expect(new Set(codes(rb2!).slice(58))).toEqual(new Set(['CHAIN_GAP']));
    // The genuine event is still accepted at that position.
    expect(codes(await ledger.submit(b.slice(57)))).toEqual(Array(63).fill('ok'));
  });

  it('the key in force at the position decides, whatever key a signature was checked with ahead', async () => {
    const { ledger, agency } = await world(threads);
    const k1 = agency.key;
    const k2 = generateSigningKey('transport-agency/k2');
    // 1: the agency adds k2 and revokes k1; 2 and 3, submitted before 1 commits: events
    // signed with k1 (checked ahead with k1, the key committed then) and with k2 (unknown then).
    const add = agency.next({
      type: 'key',
      action: 'add',
      subjectOrg: 'transport-agency',
      subjectKey: k2.name,
      publicKey: formatVerifierKey(k2),
    } as never);
    const revoke = agency.next({
      type: 'key',
      action: 'revoke',
      subjectOrg: 'transport-agency',
      subjectKey: k1.name,
    } as never);
    const withK1 = stream(agency, 'old', 70);
    const withK2 = stream(new TestEmitter('transport-agency', { key: k2 }), 'new', 70);
    const [r1, r2, r3] = await Promise.all([
      ledger.submit([add, revoke]),
      ledger.submit(withK1),
      ledger.submit(withK2),
    ]);
    expect(codes(r1!)).toEqual(['ok', 'ok']);
    expect(new Set(codes(r2!))).toEqual(new Set(['KEY_REVOKED']));
    expect(new Set(codes(r3!))).toEqual(new Set(['ok']));
  });

  it('checks claimed times against the clock of the batch, refusing with the decoder error', async () => {
    const { ledger, agency } = await world(threads);
    const e = new TestEmitter('transport-agency', { stream: 'clock', key: agency.key });
    e.time = new Date(NOW + 6 * 60_000).toISOString().replace('.000Z', 'Z'); // 6 min ahead: skew is 5
    const ahead = e.next(collect(1));
    const expected = (() => {
      try {
        decodeSubmission(ahead, { now: NOW });
      } catch (err) {
        return err as Error;
      }
      throw new Error('not refused');
    })();
    // Submitted behind a batch in flight: refused with the decoder's error, for what was
    // submitted even if the caller's object changes before the batch runs.
    const [, [refused]] = await Promise.all([ledger.submit(stream(agency, 'x', 70)), ledger.submit([ahead])]);
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'TIME_IN_FUTURE', message: expected.message },
    });
    const [, [alsoRefused]] = await Promise.all([
      ledger.submit(stream(agency, 'y', 70)),
      (() => {
        const p = ledger.submit([ahead]);
        (ahead.event as { time: string }).time = '2026-11-02T08:00:00Z';
        return p;
      })(),
    ]);
    expect(alsoRefused).toMatchObject({ ok: false, error: { code: 'TIME_IN_FUTURE' } });
    // The clock moves on before the batch runs: the batch's clock decides, so it is accepted.
    (ahead.event as { time: string }).time = e.time;
    const [, [accepted]] = await Promise.all([
      ledger.submit(stream(agency, 'z', 70)),
      (() => {
        const p = ledger.submit([ahead]);
        clock = NOW + 2 * 60_000;
        return p;
      })(),
    ]);
    expect(accepted).toMatchObject({ ok: true });
  });
});
