// A read-only LogSource over a standalone data directory's SQLite file (`ledger.db`).
// The verifier must not change the evidence it checks, so this opens the database
// read-only rather than through SqliteStore (which creates tables and rows on open). It
// reads the rows of SqliteStore's layout and, like the store, only rows below the head.
// The whole run reads one snapshot (a read transaction), so a server appending to the same
// file meanwhile cannot make the checkpoints and the leaves disagree.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { LogSource, SourceLeaf } from '@civic-ledger/verifier';
import { CliError } from './errors.ts';

export interface ClosableSource extends LogSource {
  close(): void;
}

// Column values as SQLite returns them; a tampered file may hold any type in any column.
interface LeafRow {
  idx: number | bigint;
  leaf: Uint8Array | string | null;
  ehash: unknown;
  chain: unknown;
  seq: unknown;
}

const encoder = new TextEncoder();

function toSourceLeaf(r: LeafRow): SourceLeaf {
  const leaf = r.leaf instanceof Uint8Array ? r.leaf : encoder.encode(String(r.leaf ?? ''));
  return {
    leaf,
    index: Number(r.idx),
    ...(typeof r.ehash === 'string' ? { eventHash: r.ehash } : {}),
    ...(typeof r.chain === 'string' ? { chain: r.chain } : {}),
    ...(typeof r.seq === 'number' || typeof r.seq === 'bigint' ? { seq: Number(r.seq) } : {}),
  };
}

/** Opens `<dataDir>/ledger.db` read-only. */
export function sqliteSource(dataDir: string): ClosableSource {
  const path = join(dataDir, 'ledger.db');
  if (!existsSync(path)) {
    throw new CliError('USAGE', `--data-dir: ${dataDir} holds no ledger (no ledger.db)`);
  }
  let db: DatabaseSync;
  let s: { head: StatementSync; leaves: StatementSync; checkpoints: StatementSync };
  try {
    db = new DatabaseSync(path, { readOnly: true });
    db.exec('PRAGMA busy_timeout = 5000');
    s = {
      head: db.prepare('SELECT size FROM head WHERE id = 1'),
      leaves: db.prepare(
        'SELECT idx, leaf, ehash, chain, seq FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx',
      ),
      checkpoints: db.prepare('SELECT note FROM checkpoints ORDER BY size'),
    };
    db.exec('BEGIN');
  } catch (e) {
    throw new CliError('IO_ERROR', `--data-dir: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  let size: number | undefined;
  const head = (): number => {
    if (size === undefined) {
      const row = s.head.get() as { size: number } | undefined;
      size = row?.size ?? 0;
    }
    return size;
  };
  return {
    size: async () => head(),
    leaves: async (from, to) => {
      const rows = s.leaves.all(Math.max(0, from), Math.min(to, head())) as unknown as LeafRow[];
      return rows.map(toSourceLeaf);
    },
    checkpoints: async () => (s.checkpoints.all() as { note: string }[]).map((r) => r.note),
    close: () => {
      try {
        db.exec('COMMIT');
      } finally {
        db.close();
      }
    },
  };
}

export interface DataDirInfo {
  /** Entries in the log. */
  size: number;
  /** The operator's first key, from the genesis leaf (verifier key text). */
  operatorKey: string | undefined;
  /** The origin line of the latest signed checkpoint. */
  origin: string | undefined;
}

/**
 * What an existing data directory already holds (read-only), or undefined when it has no
 * ledger.db yet. Used by `start` to keep restarting with the log's own operator key and origin.
 */
export function inspectDataDir(dataDir: string): DataDirInfo | undefined {
  const path = join(dataDir, 'ledger.db');
  if (!existsSync(path)) return undefined;
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const size = Number(
      (db.prepare('SELECT size FROM head WHERE id = 1').get() as { size: number } | undefined)?.size ?? 0,
    );
    let operatorKey: string | undefined;
    if (size > 0) {
      const row = db.prepare('SELECT leaf FROM leaves WHERE idx = 0').get() as
        { leaf: Uint8Array } | undefined;
      if (row) {
        const leaf = JSON.parse(Buffer.from(row.leaf).toString('utf8')) as {
          event?: { publicKey?: unknown };
        };
        if (typeof leaf.event?.publicKey === 'string') operatorKey = leaf.event.publicKey;
      }
    }
    const cp = db.prepare('SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1').get() as
      { note: string } | undefined;
    const origin = cp?.note.split('\n', 1)[0] || undefined;
    return { size, operatorKey, origin };
  } finally {
    db.close();
  }
}
