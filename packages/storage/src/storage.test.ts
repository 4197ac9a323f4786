import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStorageContract } from './contract.ts';
import { MemoryStore, SqliteStore } from './index.ts';

describeStorageContract('memory', async (hooks) => ({ store: new MemoryStore(hooks) }));

describeStorageContract('sqlite', async (hooks) => {
  const dir = mkdtempSync(join(tmpdir(), 'cl-sqlite-'));
  const path = join(dir, 'ledger.db');
  let store = new SqliteStore({ path, ...hooks });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = new SqliteStore({ path });
      return store;
    },
    openSecond: async () => new SqliteStore({ path }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
