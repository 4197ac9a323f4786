// Test support (not exported): a signed demo city with the violation hooks on a real Ledger,
// a clock the tests move, and the compliance organization's key, wired as the standalone
// service wires a runner (ledger.submitDecoded, the append hook calls notify).
import { formatSigningKey, type SigningKey } from '@civic-ledger/crypto';
import {
  generateDemoCity,
  violationHooks,
  type DemoCity,
  type DemoSubmission,
  type ViolationKind,
} from '@civic-ledger/demo-city';
import { Ledger } from '@civic-ledger/ledger-core';
import { TestEmitter } from '@civic-ledger/ledger-core/testing';
import type { Event } from '@civic-ledger/schemas';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { ComplianceRunner, type ComplianceRunnerOptions } from './runner.ts';

export interface TestCity {
  city: DemoCity;
  store: MemoryStore;
  ledger: Ledger;
  /** The clock of the ledger and the runners (ms); tests move it forward. */
  clock: { now: number };
  complianceKey: SigningKey;
  /** Every event of the city in ledger order. */
  events: { event: Event; hash: string }[];
  /** The violations the hooks wrote. */
  violations: Map<string, ViolationKind>;
  /** The runner the append hook notifies (set by `openRunner`). */
  runner: ComplianceRunner | undefined;
  openRunner(options?: Partial<ComplianceRunnerOptions>): Promise<ComplianceRunner>;
  /** An extra event of `org` on a stream of its own, signed with the city's key for it. */
  emitter(org: string, stream: string): TestEmitter;
  close(): Promise<void>;
}

export async function openTestCity(seed: string, size: number, perHour: number): Promise<TestCity> {
  const violations = new Map<string, ViolationKind>();
  const city = generateDemoCity({
    seed,
    size,
    batchSize: 500,
    now: Date.parse('2026-12-01T00:00:00Z'),
    hooks: violationHooks({ perHour, onViolation: (v) => violations.set(v.hash, v.kind) }),
  });
  const clock = { now: Date.parse(city.end) + 3_600_000 };
  const store = new MemoryStore();
  const t: Partial<TestCity> & { runner: ComplianceRunner | undefined } = { runner: undefined };
  const ledger = await Ledger.open({
    store,
    origin: city.origin,
    logSigner: signerFromKeyText(formatSigningKey(city.logKey)),
    operatorKey: city.operatorKey,
    signatureThreads: 0,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    now: () => clock.now,
    onAppended: () => t.runner?.notify(),
  });
  const events: { event: Event; hash: string }[] = [];
  for await (const batch of city.batches()) {
    const results = await ledger.submit(batch);
    const bad = results.find((r) => !r.ok);
    if (bad && !bad.ok) throw new Error(`the city was refused: ${bad.error.code} ${bad.error.message}`);
    for (const s of batch as DemoSubmission[])
      events.push({ event: s.event as unknown as Event, hash: s.hash });
  }
  const complianceKey = city.keys.get('compliance')!;
  return Object.assign(t, {
    city,
    store,
    ledger,
    clock,
    complianceKey,
    events,
    violations,
    async openRunner(options: Partial<ComplianceRunnerOptions> = {}) {
      const runner = await ComplianceRunner.open({
        source: store,
        key: complianceKey,
        submit: (e) => ledger.submitDecoded(e),
        now: () => clock.now,
        retentionIntervalMs: 0,
        retryDelayMs: 5,
        ...options,
      });
      t.runner = runner;
      return runner;
    },
    emitter(org: string, stream: string) {
      const e = new TestEmitter(org, { key: city.keys.get(org)!, stream });
      e.time = new Date(clock.now).toISOString();
      return e;
    },
    async close() {
      await t.runner?.close();
      await ledger.close();
      await store.close();
    },
  }) as TestCity;
}

/** Every leaf of the store as { index, hash, event, signature }. */
export async function leavesOf(
  store: MemoryStore,
): Promise<{ index: number; hash: string; event: Event & Record<string, unknown>; signature: string }[]> {
  const size = (await store.head()).size;
  return (await store.getLeaves(0, size)).map((r) => {
    const leaf = JSON.parse(Buffer.from(r.leaf).toString('utf8')) as {
      event: Event & Record<string, unknown>;
      signature: string;
    };
    return { index: r.index, hash: r.eventHash, event: leaf.event, signature: leaf.signature };
  });
}
