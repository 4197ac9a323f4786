// Where the verifier reads a log from. A source is untrusted: everything it returns is
// checked. Leaves are read in bounded chunks, in index order.
import type { LedgerStore } from '@civic-ledger/storage';
// The subpath: a worker loads the reader alone, not the whole store.
import { SqliteLeafReader } from '@civic-ledger/storage/sqlite-reader';

/** One leaf as a source returns it: the leaf bytes and, optionally, what the store derived. */
export interface SourceLeaf {
  /** The exact leaf bytes the tree commits to. */
  leaf: Uint8Array;
  /** The store's index of the row (checked against the position when given). */
  index?: number;
  /** The store's event hash of the row (checked against the recomputed hash when given). */
  eventHash?: string;
  /** The store's chain key and seq of the row (checked when given). */
  chain?: string;
  seq?: number;
}

export interface LogSource {
  /** Number of leaves the log claims to hold. */
  size(): Promise<number>;
  /** Leaves with from <= index < to, in index order (fewer if the log has fewer). */
  leaves(from: number, to: number): Promise<readonly SourceLeaf[]>;
  /** Signed checkpoint notes (C2SP tlog-checkpoint), ascending by tree size. */
  checkpoints(): Promise<readonly string[]>;
  /**
   * Optional: where worker threads can read the same leaves themselves (then the calling
   * thread reads a chunk only when one of its leaves needs the reference path).
   */
  workerReader?: WorkerReader;
}

/** A leaf store a worker thread can open on its own: a SqliteStore's database file. */
export interface WorkerReader {
  kind: 'sqlite';
  path: string;
}

/** A source over a ledger store (SqliteStore, MemoryStore...): its head, leaves and checkpoints. */
export function storeSource(store: LedgerStore): LogSource {
  // The size is read once: on a store that is still being written to, checkpoints signed
  // after that moment are beyond what is verified, not evidence of a truncated log. A
  // checkpoint beyond the store's head as it is now is such evidence, and is kept.
  let size: Promise<number> | undefined;
  const fixedSize = () => (size ??= store.head().then((h) => h.size));
  return {
    size: fixedSize,
    leaves: (from, to) => store.getLeaves(from, to),
    checkpoints: async () => {
      const upTo = await fixedSize();
      const now = (await store.head()).size;
      return (await store.listCheckpoints(0, Number.MAX_SAFE_INTEGER))
        .filter((c) => c.size <= upTo || c.size > now)
        .map((c) => c.note);
    },
  };
}

/**
 * A source over a SqliteStore's database file at `path`, opened read-only (the store itself
 * is not opened). Same rows and checks as `storeSource` over that store; with worker
 * threads, each worker reads its chunks itself. Call `close()` when done.
 */
export function sqliteSource(path: string): LogSource & { close(): void } {
  const reader = new SqliteLeafReader(path);
  // As storeSource: the size is fixed at the first call; checkpoints beyond the head as it
  // is now are kept (evidence of a truncated log), those signed after that call are not.
  let size: number | undefined;
  const fixedSize = () => (size ??= reader.size());
  return {
    size: async () => fixedSize(),
    leaves: async (from, to) => reader.leaves(from, to),
    checkpoints: async () => {
      const upTo = fixedSize();
      const now = reader.size();
      return reader
        .checkpoints()
        .filter((c) => c.size <= upTo || c.size > now)
        .map((c) => c.note);
    },
    workerReader: { kind: 'sqlite', path },
    close: () => reader.close(),
  };
}

/** A source over plain arrays: leaf bytes (or leaf text) in order, and checkpoint notes. */
export function arraySource(
  leaves: readonly (Uint8Array | string | SourceLeaf)[],
  checkpoints: readonly string[] = [],
): LogSource {
  const encoder = new TextEncoder();
  const toLeaf = (l: Uint8Array | string | SourceLeaf): SourceLeaf =>
    typeof l === 'string' ? { leaf: encoder.encode(l) } : l instanceof Uint8Array ? { leaf: l } : l;
  return {
    size: async () => leaves.length,
    leaves: async (from, to) => leaves.slice(Math.max(0, from), Math.max(0, to)).map(toLeaf),
    checkpoints: async () => checkpoints,
  };
}
