// The monitor's leaf checks on plain arrays (no HTTP): an honest log passes, also when the
// replay is resumed from a snapshot midway; each crafted leaf is refused with the same
// check the independent verifier names for it (verifyLog on the same leaves), and a key
// used after its revocation is reported with its revocation index and a valid signature.
import { formatSigningKey, formatVerifierKey, generateSigningKey, toHex } from '@civic-ledger/crypto';
import { decodeSubmission } from '@civic-ledger/events';
import { encodeLeaf } from '@civic-ledger/leaf';
import { Ledger } from '@civic-ledger/ledger-core';
import { TestEmitter, type TestSubmission } from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { arraySource, verifyLog } from '@civic-ledger/verifier';
import { describe, expect, it } from 'vitest';
import { LogReplay } from './replay.ts';
import { initialState } from './state.ts';
import { bootstrap, cast, collect, rotateAgencyKey, type Cast } from './test-fixtures.ts';

const ORIGIN = 'ledger.replay.test/log';
const logKey = generateSigningKey(ORIGIN);
const LOG_KEY = formatVerifierKey(logKey);
const ADMITTED = '2026-11-02T09:00:00.000Z';

interface Log {
  c: Cast;
  leaves: Uint8Array[];
  root: string;
  revoked: ReturnType<typeof rotateAgencyKey>['revoked'];
}

/** A real ledger's leaves: bootstrap, collects from two emitters, a key rotation and revocation. */
async function honestLog(): Promise<Log> {
  const c = cast();
  const store = new MemoryStore();
  const ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: signerFromKeyText(formatSigningKey(logKey)),
    operatorKey: c.operator.verifierKey,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    signatureThreads: 0,
    now: () => Date.parse(ADMITTED),
  });
  const batches: TestSubmission[][] = [bootstrap(c)];
  batches.push(Array.from({ length: 20 }, (_, i) => (i % 2 ? c.agency : c.police).next(collect(i))));
  const rotation = rotateAgencyKey(c);
  batches.push([...rotation.events, c.agency.next(collect(50))]);
  for (const b of batches) {
    const results = await ledger.submit(b);
    for (const r of results) if (!r.ok) throw new Error(`refused: ${r.error.code}`);
  }
  const head = await store.head();
  const leaves = (await store.getLeaves(0, head.size)).map((l) => l.leaf);
  await ledger.close();
  return { c, leaves, root: toHex(head.rootHash), revoked: rotation.revoked };
}

function leafOf(s: TestSubmission, index: number): Uint8Array {
  const d = decodeSubmission(s);
  return encodeLeaf({
    index,
    admitted: ADMITTED,
    eventCanonical: d.canonical,
    signature: Buffer.from(d.signature).toString('base64'),
  });
}

function replayAll(leaves: readonly Uint8Array[], replay = new LogReplay(initialState(ORIGIN, LOG_KEY))) {
  for (const l of leaves.slice(replay.size)) {
    const v = replay.check(l);
    if (!v.ok) return { replay, failure: v.failure };
  }
  return { replay, failure: undefined };
}

describe('LogReplay', () => {
  it('passes an honest log and ends on its root; resumed from a snapshot it ends the same', async () => {
    const log = await honestLog();
    const whole = replayAll(log.leaves);
    expect(whole.failure).toBeUndefined();
    expect(whole.replay.rootHex()).toBe(log.root);
    expect(whole.replay.head('transport-agency/main')).toMatchObject({ seq: log.c.agency.seq });

    const half = replayAll(log.leaves.slice(0, 13)).replay.snapshot();
    // The snapshot is plain data: it survives JSON (what the state file holds).
    const resumed = new LogReplay(JSON.parse(JSON.stringify(half)) as typeof half);
    expect(resumed.size).toBe(13);
    const rest = replayAll(log.leaves, resumed);
    expect(rest.failure).toBeUndefined();
    expect(rest.replay.rootHex()).toBe(log.root);
    expect(rest.replay.snapshot()).toEqual(whole.replay.snapshot());
    // The registry knows the rotation: k1 revoked, k2 in force.
    expect(rest.replay.registry.key('transport-agency/k1')?.revokedAt).toBeGreaterThan(0);
    expect(rest.replay.registry.key('transport-agency/k2')?.revokedAt).toBeUndefined();
  });

  const cases: [string, string, (log: Log) => TestSubmission | Uint8Array][] = [
    [
      'a key used after its revocation',
      'KEY_REVOKED',
      (log) => {
        const thief = new TestEmitter('transport-agency', { key: log.revoked });
        thief.seq = log.c.agency.seq;
        thief.prev = log.c.agency.prev;
        return thief.next(collect(999));
      },
    ],
    [
      'an unregistered key',
      'UNKNOWN_KEY',
      (log) =>
        log.c.agency.peek(
          collect(999),
          { key: 'transport-agency/k9' },
          generateSigningKey('transport-agency/k9'),
        ),
    ],
    [
      'a forged signature',
      'BAD_SIGNATURE',
      (log) =>
        ({
          ...log.c.agency.peek(collect(999)),
          signature: log.c.agency.peek(collect(998)).signature,
        }) as TestSubmission,
    ],
    [
      'a gap in a chain',
      'CHAIN_BREAK',
      (log) => log.c.agency.peek(collect(999), { seq: log.c.agency.seq + 2 }),
    ],
    [
      'a prev that is not the head',
      'CHAIN_BREAK',
      (log) => log.c.agency.peek(collect(999), { prev: 'e'.repeat(64) }),
    ],
    [
      'an attest by an agency',
      'NOT_PERMITTED',
      (log) =>
        log.c.police.peek({
          type: 'attest',
          about: { event: 'a'.repeat(64) },
          statement: 'verified',
        } as never),
    ],
    [
      'a collect from an unregistered source',
      'UNKNOWN_SUBJECT',
      (log) =>
        log.c.agency.peek({
          ...(collect(999) as object),
          source: 'transport-agency/cameras/south-01',
        } as never),
    ],
    ['a leaf that is not canonical JSON', 'LEAF_MALFORMED', () => new TextEncoder().encode('{"v": 1}')],
  ];

  it.each(cases)('refuses %s (%s), as the verifier does', async (_name, check, make) => {
    const log = await honestLog();
    const made = make(log);
    const extra = made instanceof Uint8Array ? made : leafOf(made, log.leaves.length);
    const { failure } = replayAll([...log.leaves, extra]);
    expect(failure).toMatchObject({ index: log.leaves.length, check });
    const v = await verifyLog(arraySource([...log.leaves, extra]), { logKey: LOG_KEY, origin: ORIGIN });
    expect(v).toMatchObject({ ok: false, index: log.leaves.length, check });
  });

  it('reports a revoked key with where it was revoked and whether it really signed', async () => {
    const log = await honestLog();
    const thief = new TestEmitter('transport-agency', { key: log.revoked });
    thief.seq = log.c.agency.seq;
    thief.prev = log.c.agency.prev;
    const { failure } = replayAll([...log.leaves, leafOf(thief.next(collect(7)), log.leaves.length)]);
    expect(failure).toMatchObject({
      check: 'KEY_REVOKED',
      key: 'transport-agency/k1',
      signatureValid: true,
      revokedAt: log.leaves.length - 2,
      event: { emitter: 'transport-agency', key: 'transport-agency/k1' },
    });
  });

  it('a different event at a seq the chain already holds: EQUIVOCATION when the earlier one is known', async () => {
    const log = await honestLog();
    const at = new TestEmitter('police', { key: log.c.police.key });
    // Police's first collect again, with another body: same seq and prev, another hash.
    const other = at.peek(collect(12345));
    const known = new Map<number, string>();
    // Replay with a memory of earlier positions (as the monitor keeps for the chains it verified).
    const replay = new LogReplay(initialState(ORIGIN, LOG_KEY), {
      hashAt: (chain, seq) => (chain === 'police/main' ? known.get(seq) : undefined),
    });
    for (const l of log.leaves) {
      const v = replay.check(l);
      if (v.ok && v.entry.chain === 'police/main') known.set(v.entry.event.seq, v.entry.eventHash);
    }
    const v = replay.check(leafOf(other, log.leaves.length));
    expect(v).toMatchObject({
      ok: false,
      failure: { check: 'EQUIVOCATION', existing: { seq: 1, hash: known.get(1) }, eventHash: other.hash },
    });
    // Without that memory it is still a chain break.
    const plain = replayAll(
      [...log.leaves, leafOf(other, log.leaves.length)],
      new LogReplay(initialState(ORIGIN, LOG_KEY)),
    );
    expect(plain.failure?.check).toBe('CHAIN_BREAK');
  });

  it('after a failure nothing more is checked, but the tree still grows for the root comparison', async () => {
    const log = await honestLog();
    const bad = new TextEncoder().encode('not a leaf');
    const { replay, failure } = replayAll([...log.leaves.slice(0, 5), bad]);
    expect(failure).toMatchObject({ index: 5, check: 'LEAF_MALFORMED', leaf: 'not a leaf' });
    expect(() => replay.check(log.leaves[6]!)).toThrow(/already failed/);
    for (const l of log.leaves.slice(6)) replay.hashOnly(l);
    // The tree of the leaves actually seen (one replaced): not the honest root.
    expect(replay.size).toBe(log.leaves.length);
    expect(replay.rootHex()).not.toBe(log.root);
  });

  it('the server-derived index and event hash are cross-checked', async () => {
    const log = await honestLog();
    const r = new LogReplay(initialState(ORIGIN, LOG_KEY));
    expect(r.check(log.leaves[0]!, { index: 0 }).ok).toBe(true);
    expect(r.check(log.leaves[1]!, { index: 1, eventHash: 'f'.repeat(64) })).toMatchObject({
      ok: false,
      failure: { check: 'EVENT_HASH', index: 1 },
    });
    const r2 = new LogReplay(initialState(ORIGIN, LOG_KEY));
    expect(r2.check(log.leaves[0]!, { index: 3 })).toMatchObject({
      ok: false,
      failure: { check: 'LEAF_INDEX' },
    });
  });
});
