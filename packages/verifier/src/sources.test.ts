import { formatSigningKey, formatVerifierKey, generateSigningKey } from '@civic-ledger/crypto';
import { Ledger } from '@civic-ledger/ledger-core';
import { bootstrapEvents, registerOrg, TestEmitter } from '@civic-ledger/ledger-core/testing';
import { signerFromKeyText } from '@civic-ledger/signed-note';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MemoryStore, SqliteStore } from '@civic-ledger/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { storeSource, verifyLog } from './index.ts';

const ORIGIN = 'sources.test.example/log';
const logKey = generateSigningKey(ORIGIN);
const open: Ledger[] = [];
afterEach(async () => {
  for (const l of open.splice(0)) await l.close();
});

describe('storeSource', () => {
  it('verifies the log as it stood when its size was read, even while the ledger keeps writing', async () => {
    const store = new MemoryStore();
    const operator = new TestEmitter('ledger');
    const ledger = await Ledger.open({
      store,
      origin: ORIGIN,
      logSigner: signerFromKeyText(formatSigningKey(logKey)),
      operatorKey: operator.verifierKey,
      checkpoints: { maxEntries: 2, maxDelayMs: 60_000 },
      signatureThreads: 0,
    });
    open.push(ledger);
    const submit = async (events: Parameters<Ledger['submit']>[0]) => {
      for (const r of await ledger.submit(events)) expect(r.ok).toBe(true);
    };
    await submit(bootstrapEvents(operator, [new TestEmitter('transport-agency')]));
    const source = storeSource(store);
    const size = await source.size();
    // Written after the size was read: a later checkpoint beyond it is not a truncation.
    await submit([registerOrg(operator, 'police', 'agency'), registerOrg(operator, 'vendor-a', 'vendor')]);
    expect((await store.latestCheckpoint())!.size).toBeGreaterThan(size);
    const r = await verifyLog(source, { logKey: formatVerifierKey(logKey), origin: ORIGIN });
    expect(r).toMatchObject({ ok: true });
    expect(r.ok ? r.newState?.size : undefined).toBe(size);
  });
});

describe('storeSource on a store whose head went back', () => {
  it('keeps the signed checkpoints beyond the head: a truncated log is caught without a saved state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-sources-'));
    try {
      const path = join(dir, 'ledger.db');
      const store = new SqliteStore({ path });
      const operator = new TestEmitter('ledger');
      const ledger = await Ledger.open({
        store,
        origin: ORIGIN,
        logSigner: signerFromKeyText(formatSigningKey(logKey)),
        operatorKey: operator.verifierKey,
        checkpoints: { maxEntries: 2, maxDelayMs: 60_000 },
        signatureThreads: 0,
      });
      for (const r of await ledger.submit(bootstrapEvents(operator, [new TestEmitter('transport-agency')])))
        expect(r.ok).toBe(true);
      expect((await store.latestCheckpoint())!.size).toBe(3);
      await ledger.close();
      await store.close();
      // An insider cuts the last entry: the head says 2, a signed checkpoint says 3.
      const db = new DatabaseSync(path);
      db.exec('UPDATE head SET size = 2; DELETE FROM leaves WHERE idx = 2');
      db.close();
      const reopened = new SqliteStore({ path });
      const r = await verifyLog(storeSource(reopened), { logKey: formatVerifierKey(logKey), origin: ORIGIN });
      await reopened.close();
      expect(r).toMatchObject({ ok: false, check: 'LOG_TRUNCATED' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
