// The lineage contract on the embedded stores; the MongoDB adapter runs it in
// store-trace.int.test.ts against a real server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, SqliteStore } from '@civic-ledger/storage';
import { describeLineageStoreContract } from './store-contract.ts';

describeLineageStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lineage-contract-'));
  return {
    store: new SqliteStore({ path: join(dir, 'ledger.db') }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describeLineageStoreContract('memory', async () => ({ store: new MemoryStore() }));
