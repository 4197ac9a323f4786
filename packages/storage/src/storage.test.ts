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

// The same store with its appends on a thread of their own (the test hook runs on this
// thread while the writer thread waits inside its transaction).
describeStorageContract('sqlite, writer thread', async (hooks) => {
  const dir = mkdtempSync(join(tmpdir(), 'cl-sqlite-thread-'));
  const path = join(dir, 'ledger.db');
  let store = new SqliteStore({ path, writerThread: true, ...hooks });
  const others: SqliteStore[] = [];
  return {
    store,
    reopen: async () => {
      await store.close();
      store = new SqliteStore({ path, writerThread: true });
      others.push(store);
      return store;
    },
    openSecond: async () => {
      const second = new SqliteStore({ path, writerThread: true });
      others.push(second);
      return second;
    },
    cleanup: async () => {
      for (const s of [store, ...others]) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
