// A bootstrapped ledger for benchmarks: operator genesis, one agency with a key, and the
// sources and dataset the bench events (chain-events.ts) name.
import { formatSigningKey, signingKeyFromSeed, type SigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import {
  addKey,
  genesisEvent,
  registerDataset,
  registerOrg,
  registerSource,
  TestEmitter,
} from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import type { LedgerStore } from '@civic-ledger/storage';
import { benchDatasetId, benchSourceIds } from './chain-events.ts';

export const AGENCY = 'transport-agency';
export const agencyKey: SigningKey = signingKeyFromSeed(`${AGENCY}/k1`, new Uint8Array(32).fill(7));
const logKey = signingKeyFromSeed('bench.example/log', new Uint8Array(32).fill(9));

const operatorKey = signingKeyFromSeed('ledger/k1', new Uint8Array(32).fill(3));
/** The operator's verifier key text (the ledger's trust anchor). */
export const benchOperatorKey = new TestEmitter('ledger', { key: operatorKey }).verifierKey;

/**
 * Genesis, the agency and the statistics office, the agency's key (a fresh operator chain),
 * then the agency's cameras and its dataset, registered on its `main` stream (the bench
 * events use other streams).
 */
export function benchBootstrapEvents() {
  const operator = new TestEmitter('ledger', { key: operatorKey });
  const agency = new TestEmitter(AGENCY, { key: agencyKey });
  return [
    genesisEvent(operator),
    registerOrg(operator, AGENCY, 'agency'),
    registerOrg(operator, 'statistics-office', 'agency'),
    addKey(operator, AGENCY, agency.verifierKey, agencyKey.name),
    ...benchSourceIds(AGENCY).map((id) => registerSource(agency, id)),
    registerDataset(agency, benchDatasetId(AGENCY)),
  ];
}

export async function benchLedger(
  store: LedgerStore,
  options: { threads?: number; maxBatch?: number } = {},
): Promise<Ledger> {
  const ledger = await Ledger.open({
    store,
    origin: 'bench.example/log',
    logSigner: signerFromKeyText(formatSigningKey(logKey)),
    operatorKey: benchOperatorKey,
    checkpoints: { maxEntries: 100_000, maxDelayMs: 1000 },
    ...(options.threads === undefined ? {} : { signatureThreads: options.threads }),
    ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
  });
  const results = await ledger.submit(benchBootstrapEvents());
  for (const r of results)
    if (!r.ok) throw new Error(`bench setup refused: ${r.error.code} ${r.error.message}`);
  return ledger;
}
