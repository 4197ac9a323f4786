// The real proof: a real ledger accepts the whole city, every event, signatures checked.
import { formatSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { MemoryStore } from '@civic-ledger/storage';
import { describe, expect, it } from 'vitest';
import { generateDemoCity } from './index.ts';

describe('a real ledger', () => {
  it('accepts a 2,000-event city in full', async () => {
    const city = generateDemoCity({ seed: 'ledger', size: 2000 });
    const store = new MemoryStore();
    const ledger = await Ledger.open({
      store,
      origin: city.origin,
      logSigner: signerFromKeyText(formatSigningKey(city.logKey)),
      operatorKey: city.operatorKey,
      signatureThreads: 0,
      checkpoints: { maxEntries: 1000, maxDelayMs: 60_000 },
      // A clock after the generated month, so no claimed time is in the future.
      now: () => Date.parse(city.end) + 60_000,
    });
    try {
      let submitted = 0;
      const refused: string[] = [];
      for await (const batch of city.batches()) {
        const results = await ledger.submit(batch);
        results.forEach((r, i) => {
          if (!r.ok) refused.push(`${submitted + i}: ${r.error.code} ${r.error.message}`);
          else expect(r.duplicate).toBe(false);
        });
        submitted += batch.length;
      }
      expect(refused).toEqual([]);
      expect(submitted).toBe(2000);
      expect(ledger.size).toBe(2000);
      expect((await store.head()).size).toBe(2000);
    } finally {
      await ledger.close();
    }
  }, 60_000);
});
