// The Emitter against the real standalone service: the envelope filled in, seq/prev across
// restarts, chain state recovered from the ledger when the outbox is lost or stale, a
// refused event blocking its stream, the key file.
import { chmodSync, copyFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { hashEvent } from '@civic-ledger/events';
import { decodeLeaf } from '@civic-ledger/leaf';
import { EXAMPLE_EVENTS, GENESIS_PREV } from '@civic-ledger/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emitter, type EventBody } from './emitter.ts';
import { ClientError } from './errors.ts';
import { Outbox } from './outbox.ts';
import { ledgerWithOrgs, tempDir, type TestLedger } from './test-server.ts';

const ORG = 'transport-agency';
const KEY_NAME = `${ORG}/k1`;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SOURCE = `${ORG}/cameras/north-07`;
const DATASET = `${ORG}/traffic-counts`;

let ledger: TestLedger;
let dir: string;
let keyFile: string;
let verifierKey: string;

beforeAll(async () => {
  dir = tempDir();
  keyFile = join(dir, 'keys', 'agency.key');
  const key = Emitter.loadOrCreateKey(keyFile, KEY_NAME);
  verifierKey = formatVerifierKey(key);
  ledger = await ledgerWithOrgs([{ org: ORG, key, sources: [SOURCE], datasets: [DATASET] }]);
});
afterAll(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function collect(extra: Partial<EventBody> = {}): EventBody {
  n++;
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
    ...extra,
  } as EventBody;
}

function open(stateDir: string, stream: string) {
  return Emitter.open({
    client: ledger.client(),
    stateDir,
    key: Emitter.loadOrCreateKey(keyFile, KEY_NAME),
    stream,
  });
}

/** The events of a chain in the log, from its entries, in seq order. */
async function chainInLog(stream: string) {
  const events: { seq: number; prev: string; hash: string }[] = [];
  for await (const entry of ledger.client().allEntries()) {
    const leaf = decodeLeaf(entry.leaf);
    const e = leaf.event as { emitter: string; stream: string; seq: number; prev: string };
    if (e.emitter === ORG && e.stream === stream)
      events.push({ seq: e.seq, prev: e.prev, hash: leaf.eventHash });
  }
  return events;
}

/** Each seq once, from 1, and each prev the hash before it. */
function expectUnbrokenChain(events: { seq: number; prev: string; hash: string }[], length: number) {
  expect(events.map((e) => e.seq)).toEqual(Array.from({ length }, (_, i) => i + 1));
  events.forEach((e, i) => expect(e.prev).toBe(i === 0 ? GENESIS_PREV : events[i - 1]!.hash));
}

describe('the key file', () => {
  it('is created with mode 0600, loaded again as the same key, and refused when others can read it', () => {
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const again = Emitter.loadOrCreateKey(keyFile, KEY_NAME);
    expect(formatVerifierKey(again)).toBe(verifierKey);
    expect(() => Emitter.loadOrCreateKey(keyFile, `${ORG}/other`)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const loose = join(dir, 'loose.key');
    Emitter.loadOrCreateKey(loose, KEY_NAME);
    chmodSync(loose, 0o644);
    expect(() => Emitter.loadOrCreateKey(loose, KEY_NAME)).toThrow(
      expect.objectContaining({ code: 'KEY_FILE_PERMISSIONS' }),
    );
  });
});

describe('typed events', () => {
  it('fills emitter, stream, seq, prev, time and key; carries the trace id; chains a batch per stream', async () => {
    const stateDir = tempDir();
    const emitter = await open(stateDir, 'typed');
    const first = await emitter.emit(collect({ traceId: TRACE }));
    expect(first.event).toMatchObject({
      v: 1,
      emitter: ORG,
      stream: 'typed',
      seq: 1,
      prev: GENESIS_PREV,
      key: KEY_NAME,
    });
    expect(first.event.traceId).toBe(TRACE);
    expect(Date.parse(first.event.time)).toBeGreaterThan(Date.now() - 60_000);
    // The trace id is in the logged, signed event.
    const entry = await ledger.client().getEvent(first.hash);
    expect(decodeLeaf(entry.leaf).event['traceId']).toBe(TRACE);

    const many = await emitter.emitMany([
      collect(),
      collect({ stream: 'typed.other' }),
      collect(),
      collect({ stream: 'typed.other', traceId: undefined }),
    ]);
    expect(many.every((o) => o.ok)).toBe(true);
    expectUnbrokenChain(await chainInLog('typed'), 3);
    expectUnbrokenChain(await chainInLog('typed.other'), 2);
    emitter.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('builds and signs every event type (the envelope filled in, the event valid)', async () => {
    const stateDir = tempDir();
    const outbox = await Outbox.open({ client: ledger.client(), stateDir, flushOnOpen: false });
    for (const [type, example] of Object.entries(EXAMPLE_EVENTS)) {
      const { v: _v, emitter: org, stream: _s, seq: _q, prev: _p, time: _t, key: _k, ...body } = example;
      const emitter = new Emitter({ outbox, key: generateSigningKey(`${org}/k1`), stream: `types.${type}` });
      const [prepared] = await emitter.enqueue([body as EventBody]);
      const event = JSON.parse(prepared!.body).event as Record<string, unknown>;
      expect(event).toMatchObject({
        type,
        emitter: org,
        stream: `types.${type}`,
        seq: 1,
        prev: GENESIS_PREV,
      });
      expect(hashEvent(event as never).hash).toBe(prepared!.hash);
    }
    expect(outbox.counts().pending).toBe(Object.keys(EXAMPLE_EVENTS).length);
    outbox.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('gives concurrent emits on one stream distinct, chained seqs', async () => {
    const stateDir = tempDir();
    const emitter = await open(stateDir, 'concurrent');
    const done = await Promise.all([1, 2, 3, 4, 5].map(() => emitter.emit(collect())));
    expect(done.map((d) => d.event.seq).sort()).toEqual([1, 2, 3, 4, 5]);
    emitter.close();
    expectUnbrokenChain(await chainInLog('concurrent'), 5);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('refuses an event the schema refuses, before signing or writing it', async () => {
    const stateDir = tempDir();
    const emitter = await open(stateDir, 'invalid');
    const e = await emitter
      .emit(collect({ purpose: 'not a term' } as Partial<EventBody>))
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ClientError);
    expect((e as ClientError).code).toBe('INVALID_EVENT');
    expect(emitter.outbox.counts()).toEqual({ pending: 0, receipted: 0, refused: 0 });
    emitter.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
});

describe('chain state', () => {
  it('continues seq/prev when the Emitter is reopened on its outbox', async () => {
    const stateDir = tempDir();
    let emitter = await open(stateDir, 'restarts');
    await emitter.emitMany([collect(), collect()]);
    // Pruning keeps each stream's last event: chain state still comes from the outbox.
    expect(emitter.outbox.prune()).toBe(1);
    emitter.close();
    emitter = await open(stateDir, 'restarts');
    const third = await emitter.emit(collect());
    expect(third.event.seq).toBe(3);
    emitter.close();
    emitter = await open(stateDir, 'restarts');
    await emitter.emit(collect());
    emitter.close();
    expectUnbrokenChain(await chainInLog('restarts'), 4);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("recovers from the ledger's chain head when the outbox is lost", async () => {
    const stateDir = tempDir();
    let emitter = await open(stateDir, 'lost');
    await emitter.emitMany([collect(), collect(), collect()]);
    emitter.close();
    rmSync(stateDir, { recursive: true, force: true });
    emitter = await open(stateDir, 'lost');
    const next = await emitter.emit(collect());
    expect(next.event.seq).toBe(4);
    emitter.close();
    expectUnbrokenChain(await chainInLog('lost'), 4);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("takes the ledger's head when it is ahead of an outbox restored from an old copy", async () => {
    const stateDir = tempDir();
    const copyDir = tempDir();
    const copy = join(copyDir, 'outbox.db');
    let emitter = await open(stateDir, 'stale');
    await emitter.emit(collect());
    emitter.close();
    copyFileSync(join(stateDir, 'outbox.db'), copy);
    emitter = await open(stateDir, 'stale');
    await emitter.emitMany([collect(), collect()]);
    emitter.close();
    // The old copy, alone: the two later events exist only in the ledger.
    emitter = await open(copyDir, 'stale');
    expect(emitter.outbox.last(ORG, 'stale')?.seq).toBe(1);
    const next = await emitter.emit(collect());
    expect(next.event.seq).toBe(4);
    emitter.close();
    expectUnbrokenChain(await chainInLog('stale'), 4);
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(copyDir, { recursive: true, force: true });
  });

  it('a refused event blocks its stream until discarded; other streams go on', async () => {
    const stateDir = tempDir();
    const emitter = await open(stateDir, 'blocked');
    await emitter.emit(collect());
    const use = {
      type: 'use',
      dataset: { id: DATASET, version: `sha256:${'b'.repeat(64)}` },
      inputs: ['e'.repeat(64)],
      purpose: 'city:TrafficManagement',
      declaration: 'd'.repeat(64),
      action: 'city:Enforcement',
    } as EventBody;
    const refused = (await emitter.emit(use).catch((x: unknown) => x)) as ClientError;
    expect(refused).toMatchObject({ code: 'UNKNOWN_INPUT', details: { input: 'e'.repeat(64) } });
    const blocked = (await emitter.emit(collect()).catch((x: unknown) => x)) as ClientError;
    expect(blocked).toMatchObject({ code: 'STREAM_BLOCKED', details: { seq: 2 } });
    expect((await emitter.emit(collect({ stream: 'blocked.other' }))).event.seq).toBe(1);

    expect(emitter.outbox.discardRefused(ORG, 'blocked')).toBe(1);
    const after = await emitter.emit(collect());
    expect(after.event.seq).toBe(2);
    emitter.close();
    expectUnbrokenChain(await chainInLog('blocked'), 2);
    rmSync(stateDir, { recursive: true, force: true });
  });
});
