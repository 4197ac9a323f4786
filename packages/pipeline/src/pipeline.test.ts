// The message flow on the in-process bus and memory store (logic only: the same flow runs on
// Kafka, NATS JetStream and MongoDB in test/distributed).
import { deadLetterSubject, MemoryBus, type Delivery } from '@civic-ledger/bus';
import {
  formatSigningKey,
  formatVerifierKey,
  generateSigningKey,
  parseVerifierKey,
} from '@civic-ledger/crypto';
import { decodeSubmission } from '@civic-ledger/events';
import { Ledger } from '@civic-ledger/ledger-core';
import { bootstrapEvents, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { verifyReceipt } from '@civic-ledger/receipts';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestGateway, PIPELINE_SUBJECTS, SequencerCore, submissionMessage } from './index.ts';

const ORIGIN = 'ledger.test.example/log';
const logKey = generateSigningKey(ORIGIN);
const SOURCE = 'transport-agency/cameras/north-07';
const DATASET = 'transport-agency/traffic-counts';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const collect = (n: number) =>
  ({
    type: 'collect',
    source: SOURCE,
    dataset: { id: DATASET, version: `sha256:${(n % 16).toString(16).repeat(64)}` },
    inputs: [],
    purpose: 'city:TrafficManagement',
    declaration: 'd'.repeat(64),
    categories: ['city:VehicleCount'],
    personalData: 'none',
    records: n,
  }) as const;

async function world(options: { maxWaitMs?: number } = {}) {
  const store = new MemoryStore();
  const operator = new TestEmitter('ledger');
  const agency = new TestEmitter('transport-agency');
  const ledger = await Ledger.open({
    store,
    origin: ORIGIN,
    logSigner: signerFromKeyText(formatSigningKey(logKey)),
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    signatureThreads: 0,
  });
  const bus = new MemoryBus();
  const dead: Delivery[] = [];
  const core = new SequencerCore({
    ledger,
    outcomes: bus,
    logKey,
    origin: ORIGIN,
    checkpointWithinMs: 60_000,
    requeueDelayMs: 20,
    ...options,
  });
  await bus.subscribeBatch(PIPELINE_SUBJECTS.submissions, core.handler(bus), {
    group: 'sequencer',
    maxAttempts: Infinity,
  });
  await bus.subscribe(deadLetterSubject(PIPELINE_SUBJECTS.submissions), async (m) => void dead.push(m));
  const gateway = new IngestGateway({ submissions: bus, outcomes: bus });
  await gateway.start();
  cleanup.push(async () => {
    await gateway.close();
    await bus.close();
    await ledger.close();
  });
  const boot = bootstrapEvents(operator, [agency], {}, [
    { kind: 'source', id: SOURCE },
    { kind: 'dataset', id: DATASET },
  ]);
  const booted = async () => {
    await gateway.publish(boot.map((e) => decodeSubmission(e)));
    for (const e of boot) expect((await gateway.waitFor(e.hash, 5000))?.ok).toBe(true);
  };
  return { store, ledger, bus, gateway, operator, agency, dead, boot, booted };
}

const logVerifier = parseVerifierKey(formatVerifierKey(logKey));

describe('distributed message flow', () => {
  it('appends what the gateway publishes and answers each submission with a signed receipt', async () => {
    const w = await world();
    const events = [...w.boot, ...Array.from({ length: 20 }, (_, i) => w.agency.next(collect(i)))];
    await w.gateway.publish(events.map((e) => decodeSubmission(e)));
    const outcomes = await Promise.all(events.map((e) => w.gateway.waitFor(e.hash, 5000)));
    for (const [i, o] of outcomes.entries()) {
      expect(o?.ok, JSON.stringify(o)).toBe(true);
      if (!o?.ok) continue;
      expect(o.receipt.eventHash).toBe(events[i]!.hash);
      expect(verifyReceipt(logVerifier, o.receipt)).toBe(true);
    }
    expect(w.ledger.size).toBe(events.length);
    // Chain order kept: the indexes of the agency's events rise with their seq.
    const idx = outcomes.map((o) => (o?.ok ? o.receipt.index : -1));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
  });

  it('dead-letters a message that is not acceptable JSON or fails the schema, with the reason, and moves on', async () => {
    const w = await world();
    await w.booted();
    await w.bus.publish(PIPELINE_SUBJECTS.submissions, new TextEncoder().encode('{"event":'), { key: 'x/y' });
    await w.bus.publish(
      PIPELINE_SUBJECTS.submissions,
      new TextEncoder().encode(JSON.stringify({ event: { v: 1 }, signature: 'A'.repeat(86) + '==' })),
      { key: 'x/y' },
    );
    const next = w.agency.next(collect(1));
    await w.gateway.publish([decodeSubmission(next)]);
    expect((await w.gateway.waitFor(next.hash, 5000))?.ok).toBe(true);
    expect(w.dead.map((m) => m.headers['dead-letter-reason']?.split(':')[0])).toEqual([
      'INVALID_JSON',
      'SCHEMA_INVALID',
    ]);
    expect(new TextDecoder().decode(w.dead[0]!.data)).toBe('{"event":');
  });

  it('a bad signature is refused: outcome with the code, message dead-lettered, nothing appended', async () => {
    const w = await world();
    await w.booted();
    const forged = w.agency.peek(collect(2), {}, generateSigningKey('transport-agency/k1'));
    await w.gateway.publish([decodeSubmission(forged)]);
    const o = await w.gateway.waitFor(forged.hash, 5000);
    expect(o).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
    expect(w.dead).toHaveLength(1);
    expect(w.ledger.size).toBe(w.boot.length);
  });

  it('a successor that arrives before its predecessor waits at the end of the subject and lands after it', async () => {
    const w = await world({ maxWaitMs: 5000 });
    await w.booted();
    const first = w.agency.next(collect(1));
    const second = w.agency.next(collect(2));
    // An agency's own producer sends them in the wrong order.
    for (const e of [second, first]) {
      const m = submissionMessage(decodeSubmission(e), 'kafka');
      await w.bus.publish(PIPELINE_SUBJECTS.submissions, m.data, { key: m.key, headers: m.headers });
    }
    const [a, b] = await Promise.all([
      w.gateway.waitFor(first.hash, 5000),
      w.gateway.waitFor(second.hash, 5000),
    ]);
    expect(a?.ok && b?.ok).toBe(true);
    if (a?.ok && b?.ok) expect(b.receipt.index).toBe(a.receipt.index + 1);
    expect(w.dead).toHaveLength(0);
  });

  it('a gap nobody fills is dead-lettered after the bounded wait, with CHAIN_GAP as the reason', async () => {
    const w = await world({ maxWaitMs: 150 });
    await w.booted();
    w.agency.next(collect(1)); // never sent
    const orphan = w.agency.next(collect(2));
    await w.gateway.publish([decodeSubmission(orphan)]);
    const o = await w.gateway.waitFor(orphan.hash, 5000);
    expect(o).toMatchObject({ ok: false, error: { code: 'CHAIN_GAP' } });
    expect(w.dead[0]!.headers['dead-letter-reason']).toMatch(/^CHAIN_GAP: .*after its first refusal/);
    expect(Number(w.dead[0]!.headers['waiting-since'])).toBeGreaterThan(0);
  });

  it('a duplicate submission gets its original receipt', async () => {
    const w = await world();
    const events = w.boot.map((e) => decodeSubmission(e));
    await w.gateway.publish(events);
    const first = await w.gateway.waitFor(w.boot.at(-1)!.hash, 5000);
    const m = submissionMessage(events.at(-1)!, 'nats');
    const again = new Promise<unknown>(
      (resolve) =>
        void w.bus.subscribe(PIPELINE_SUBJECTS.outcomes, async (x) =>
          resolve(JSON.parse(new TextDecoder().decode(x.data))),
        ),
    );
    await w.bus.publish(PIPELINE_SUBJECTS.submissions, m.data, { key: m.key, headers: m.headers });
    const o = (await again) as { ok: boolean; duplicate: boolean; receipt: { index: number } };
    expect(o.duplicate).toBe(true);
    expect(first?.ok && o.receipt.index).toBe(first?.ok && first.receipt.index);
  });
});
