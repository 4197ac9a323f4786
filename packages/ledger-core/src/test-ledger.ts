// Test support for this package's own tests: a Ledger on a MemoryStore with the operator,
// the given organizations and resources registered, a fixed clock, and an assertion that a
// batch was accepted in full.
import { formatSigningKey, generateSigningKey } from '@civic-ledger/crypto';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { Ledger, type SubmitResult } from './ledger.ts';
import { bootstrapEvents, TestEmitter } from './testing.ts';

/** Throws naming the first refusal, if any. */
export function expectAccepted(results: readonly SubmitResult[]): void {
  for (const r of results) if (!r.ok) throw new Error(`refused: ${r.error.code} ${r.error.message}`);
}

/** A bootstrapped ledger; close it after the test. */
export async function openTestLedger(options: {
  origin: string;
  orgs: readonly string[];
  resources?: readonly { kind: 'source' | 'dataset'; id: string }[];
}): Promise<{ ledger: Ledger; store: MemoryStore; operator: TestEmitter; emitters: TestEmitter[] }> {
  const store = new MemoryStore();
  const operator = new TestEmitter('ledger');
  const ledger = await Ledger.open({
    store,
    origin: options.origin,
    logSigner: signerFromKeyText(formatSigningKey(generateSigningKey(options.origin))),
    operatorKey: operator.verifierKey,
    checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
    signatureThreads: 0,
    now: () => Date.parse('2026-11-02T09:00:00Z'),
  });
  const emitters = options.orgs.map((org) => new TestEmitter(org));
  expectAccepted(await ledger.submit(bootstrapEvents(operator, emitters, {}, options.resources ?? [])));
  return { ledger, store, operator, emitters };
}
