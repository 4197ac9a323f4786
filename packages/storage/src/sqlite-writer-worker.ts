// The SQLite writer thread (sqlite-writer.ts): SqliteStore.append on a connection of its
// own, one message at a time, in the order they come.
import { parentPort, workerData } from 'node:worker_threads';
import { StorageError } from './errors.ts';
import { SqliteStore } from './sqlite.ts';
import type { LedgerHead, WriterLease } from './types.ts';
import { unpackBatch, type PackedBatch, type WriterReply } from './sqlite-writer.ts';

const { store: options, hook } = workerData as {
  store: { path: string; lookupKeyBits?: number; upperLevel?: number };
  hook: SharedArrayBuffer | undefined;
};
const port = parentPort!;

/** The test hook: asks the calling thread to run it, and waits for its answer. */
function askHook(): void {
  const state = new Int32Array(hook!, 0, 2);
  Atomics.store(state, 0, 0);
  port.postMessage({ hook: true } satisfies WriterReply);
  Atomics.wait(state, 0, 0);
  if (state[1] === 1) {
    const length = new Int32Array(hook!, 8, 1)[0]!;
    throw new Error(Buffer.from(new Uint8Array(hook!, 12, length)).toString());
  }
}

const store = new SqliteStore({ ...options, ...(hook ? { beforeHeadUpdate: askHook } : {}) });

port.on('message', (m: { id: number; lease: WriterLease; expectedSize: number; batch: PackedBatch }) => {
  // SqliteStore.append does its work synchronously: messages are handled one at a time.
  // In the executor, so that anything thrown is answered, not the end of this thread.
  new Promise<LedgerHead>((done) => done(store.append(m.lease, m.expectedSize, unpackBatch(m.batch)))).then(
    (head) => port.postMessage({ id: m.id, head } satisfies WriterReply),
    (e: unknown) =>
      port.postMessage({
        id: m.id,
        error: {
          code: e instanceof StorageError ? e.code : undefined,
          message: e instanceof Error ? e.message : String(e),
        },
      } satisfies WriterReply),
  );
});
