// Tests only: a Ledger on SQLite for a demo city (its origin, log key and operator key),
// wired as the standalone service wires it, with a fixed clock after the city's month.
import { formatSigningKey } from '@civic-ledger/crypto';
import type { DemoCityInfo } from '@civic-ledger/demo-city';
import { Ledger, type AppendedEntry } from '@civic-ledger/ledger-core';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import type { SqliteStore } from '@civic-ledger/storage';

export function openCityLedger(
  city: Pick<DemoCityInfo, 'origin' | 'logKey' | 'operatorKey'>,
  store: SqliteStore,
  options: { maxEntries: number; onAppended: (entries: readonly AppendedEntry[]) => void },
): Promise<Ledger> {
  return Ledger.open({
    store,
    origin: city.origin,
    logSigner: signerFromKeyText(formatSigningKey(city.logKey)),
    operatorKey: city.operatorKey,
    signatureThreads: 0,
    checkpoints: { maxEntries: options.maxEntries, maxDelayMs: 60_000 },
    now: () => Date.parse('2026-12-01T00:00:00Z'),
    onAppended: options.onAppended,
  });
}
