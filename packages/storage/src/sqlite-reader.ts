// Reads a SqliteStore's database file directly, read-only, without opening the store (which
// would run its migrations and load its indexes): the head size, the checkpoints and the leaf
// rows with the columns the store derived. For readers that only stream the log, e.g. the
// verifier's worker threads, each with its own connection; nothing read is trusted by them.
// It lives here, beside the writer, so the layout is known in one place (sqlite.ts's tables
// head, leaves, checkpoints; sqlite-reader.test.ts reads what SqliteStore wrote).
import { DatabaseSync, type StatementSync } from 'node:sqlite';

/** A leaf row with the columns the store derived from it. */
export interface StoredLeafRow {
  index: number;
  leaf: Uint8Array;
  eventHash: string;
  chain: string;
  seq: number;
}

/** A leaf row as read: idx, leaf, ehash, chain, seq (types as the store writes them; checked). */
export type LeafRow = [unknown, unknown, unknown, unknown, unknown];

export class SqliteLeafReader {
  readonly #db: DatabaseSync;
  readonly #leaves: StatementSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path, { readOnly: true });
    // A writer may hold the file briefly (WAL checkpoints): wait rather than fail.
    this.#db.exec('PRAGMA busy_timeout = 5000');
    this.#leaves = this.#db.prepare(
      // As SqliteStore.getLeaves: rows at or above the head are not (yet) in the log.
      `SELECT idx, leaf, ehash, chain, seq FROM leaves
       WHERE idx >= ? AND idx < ? AND idx < (SELECT size FROM head WHERE id = 1) ORDER BY idx`,
    );
    // Rows as arrays: no object (and no five property stores) per row.
    this.#leaves.setReturnArrays(true);
  }

  /** The head's size (the leaves the log holds). */
  size(): number {
    const row = this.#db.prepare('SELECT size FROM head WHERE id = 1').get() as { size: number } | undefined;
    return row?.size ?? 0;
  }

  /** Checkpoint notes with their sizes, ascending by size. */
  checkpoints(): { size: number; note: string }[] {
    return this.#db.prepare('SELECT size, note FROM checkpoints ORDER BY size').all() as {
      size: number;
      note: string;
    }[];
  }

  /** The rows with from <= idx < to, in index order, as [idx, leaf, ehash, chain, seq]. */
  rows(from: number, to: number): LeafRow[] {
    return this.#leaves.all(Math.max(0, from), to) as unknown as LeafRow[];
  }

  /** The rows with from <= idx < to, in index order. */
  leaves(from: number, to: number): StoredLeafRow[] {
    const rows = this.rows(from, to);
    const out: StoredLeafRow[] = new Array<StoredLeafRow>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = {
        index: r[0] as number,
        leaf: r[1] as Uint8Array,
        eventHash: r[2] as string,
        chain: r[3] as string,
        seq: r[4] as number,
      };
    }
    return out;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
