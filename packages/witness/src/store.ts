// The witness's state on embedded SQLite (node:sqlite): per origin, the latest checkpoint it
// cosigned; and the alarms it raised, with their evidence. The old-size check and the write
// happen in one IMMEDIATE transaction (compareAndSet), so two requests racing for the same
// origin, in this process or another one on the same file, can never both win: the race
// the tlog-witness spec warns about (a rollback by a slower request) cannot happen.
import { DatabaseSync } from 'node:sqlite';
import { fromBase64, toBase64 } from '@civic-ledger/crypto';
import { WitnessError } from './errors.ts';

const SCHEMA_VERSION = '1';

/** The latest checkpoint the witness cosigned for one origin. */
export interface WitnessState {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The checkpoint note as the witness serves it: the log's signature(s) and its cosignature. */
  readonly note: string;
  /** Timestamp (POSIX seconds) of that cosignature. */
  readonly cosignedAt: number;
  /** When the row was written (ms since the epoch). */
  readonly updatedAt: number;
}

/** What an alarm is about. */
export type AlarmKind =
  /** A log-signed checkpoint of the same size as the witness's latest, with another root hash:
   * two views of the log that no consistency proof can join (a split view). Conclusive. */
  | 'FORK'
  /** A log-signed checkpoint smaller than the witness's latest (a rollback attempt, or an old
   * checkpoint replayed). Needs review. */
  | 'ROLLBACK'
  /** A log-signed checkpoint whose consistency proof from the witness's latest does not
   * verify. Needs review: the log, or someone replaying its checkpoint, sent a bad proof. */
  | 'BAD_PROOF';

export interface CheckpointEvidence {
  readonly size: number;
  /** Base64 root hash. */
  readonly rootHash: string;
  /** The signed checkpoint note. */
  readonly note: string;
}

/** An alarm and the evidence anyone can check: both checkpoints (log-signed) and the proof. */
export interface Alarm {
  readonly id: number;
  readonly kind: AlarmKind;
  readonly severity: 'critical' | 'warning';
  readonly origin: string;
  /** ISO 8601. */
  readonly raisedAt: string;
  readonly message: string;
  readonly evidence: {
    /** The witness's latest cosigned checkpoint at the time. */
    readonly latest: CheckpointEvidence;
    /** The checkpoint submitted. */
    readonly submitted: CheckpointEvidence;
    /** The request's old size and consistency proof (base64). */
    readonly oldSize: number;
    readonly proof: readonly string[];
  };
}

interface CheckpointRow {
  origin: string;
  size: number;
  root_hash: string;
  note: string;
  cosigned_at: number;
  updated_at: number;
}

interface AlarmRow {
  id: number;
  kind: string;
  origin: string;
  raised_at: string;
  message: string;
  evidence: string;
}

function corrupt(message: string, cause?: unknown): WitnessError {
  return new WitnessError('STORE_CORRUPT', message, {}, cause === undefined ? undefined : { cause });
}

function stateOf(row: CheckpointRow): WitnessState {
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(row.root_hash);
  } catch (cause) {
    throw corrupt(`the root hash stored for ${row.origin} is not base64`, cause);
  }
  if (!Number.isSafeInteger(row.size) || row.size < 0 || rootHash.length !== 32) {
    throw corrupt(`the checkpoint stored for ${row.origin} is not valid`);
  }
  return {
    origin: row.origin,
    size: row.size,
    rootHash,
    note: row.note,
    cosignedAt: row.cosigned_at,
    updatedAt: row.updated_at,
  };
}

const ALARM_KINDS: ReadonlySet<string> = new Set<AlarmKind>(['FORK', 'ROLLBACK', 'BAD_PROOF']);

function alarmOf(row: AlarmRow): Alarm {
  if (!ALARM_KINDS.has(row.kind)) throw corrupt(`alarm ${row.id} has an unknown kind`);
  const kind = row.kind as AlarmKind;
  let evidence: Alarm['evidence'];
  try {
    evidence = JSON.parse(row.evidence) as Alarm['evidence'];
  } catch (cause) {
    throw corrupt(`alarm ${row.id} has unreadable evidence`, cause);
  }
  return {
    id: row.id,
    kind,
    severity: kind === 'FORK' ? 'critical' : 'warning',
    origin: row.origin,
    raisedAt: row.raised_at,
    message: row.message,
    evidence,
  };
}

/** The witness database. One instance per connection; several may share a file. */
export class WitnessStore {
  readonly #db: DatabaseSync;
  #closed = false;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens (creating if needed) the database at `path` (':memory:' for tests). */
  static open(path: string): WitnessStore {
    const db = new DatabaseSync(path);
    try {
      // FULL: a cosignature is sent only after its state is on disk, even across a power loss.
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(`
          CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
          CREATE TABLE IF NOT EXISTS checkpoints (
            origin TEXT PRIMARY KEY,
            size INTEGER NOT NULL CHECK (size >= 0),
            root_hash TEXT NOT NULL,
            note TEXT NOT NULL,
            cosigned_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
          ) STRICT;
          CREATE TABLE IF NOT EXISTS alarms (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            fingerprint TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            origin TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            message TEXT NOT NULL,
            evidence TEXT NOT NULL
          ) STRICT;
        `);
        const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
          { value: string } | undefined;
        if (row === undefined) {
          db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(SCHEMA_VERSION);
        } else if (row.value !== SCHEMA_VERSION) {
          throw corrupt(`database schema version ${row.value} is not ${SCHEMA_VERSION}`);
        }
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    } catch (e) {
      db.close();
      throw e;
    }
    return new WitnessStore(db);
  }

  /** The latest cosigned checkpoint of `origin`, if any. */
  get(origin: string): WitnessState | undefined {
    const row = this.#db
      .prepare(
        'SELECT origin, size, root_hash, note, cosigned_at, updated_at FROM checkpoints WHERE origin = ?',
      )
      .get(origin) as CheckpointRow | undefined;
    return row === undefined ? undefined : stateOf(row);
  }

  /** Every origin's latest cosigned checkpoint, by origin. */
  list(): WitnessState[] {
    const rows = this.#db
      .prepare(
        'SELECT origin, size, root_hash, note, cosigned_at, updated_at FROM checkpoints ORDER BY origin',
      )
      .all() as unknown as CheckpointRow[];
    return rows.map(stateOf);
  }

  /**
   * Writes `next` as the latest checkpoint of `origin` only if the stored one is still
   * `expected` (same size and root; undefined: none stored), atomically. Otherwise writes
   * nothing and returns the stored state.
   */
  compareAndSet(
    origin: string,
    expected: { size: number; rootHash: Uint8Array } | undefined,
    next: { size: number; rootHash: Uint8Array; note: string; cosignedAt: number; updatedAt: number },
  ): { ok: true } | { ok: false; current: WitnessState | undefined } {
    const db = this.#db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const row = db.prepare('SELECT size, root_hash FROM checkpoints WHERE origin = ?').get(origin) as
        { size: number; root_hash: string } | undefined;
      const matches =
        expected === undefined
          ? row === undefined
          : row !== undefined && row.size === expected.size && row.root_hash === toBase64(expected.rootHash);
      if (!matches) {
        db.exec('ROLLBACK');
        return { ok: false, current: this.get(origin) };
      }
      db.prepare(
        `INSERT INTO checkpoints (origin, size, root_hash, note, cosigned_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root_hash = excluded.root_hash,
           note = excluded.note, cosigned_at = excluded.cosigned_at, updated_at = excluded.updated_at`,
      ).run(origin, next.size, toBase64(next.rootHash), next.note, next.cosignedAt, next.updatedAt);
      db.exec('COMMIT');
      return { ok: true };
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }

  /**
   * Records an alarm once per `fingerprint` (a replayed request raises nothing new).
   * Returns the stored alarm, or undefined when that evidence was already recorded.
   */
  recordAlarm(alarm: Omit<Alarm, 'id' | 'severity'>, fingerprint: string): Alarm | undefined {
    const result = this.#db
      .prepare(
        `INSERT INTO alarms (fingerprint, kind, origin, raised_at, message, evidence) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (fingerprint) DO NOTHING`,
      )
      .run(
        fingerprint,
        alarm.kind,
        alarm.origin,
        alarm.raisedAt,
        alarm.message,
        JSON.stringify(alarm.evidence),
      );
    if (result.changes === 0) return undefined;
    return {
      ...alarm,
      id: Number(result.lastInsertRowid),
      severity: alarm.kind === 'FORK' ? 'critical' : 'warning',
    };
  }

  /** Alarms with id > `after` (default 0), oldest first, at most `limit` (default 100). */
  alarms(options: { after?: number; limit?: number } = {}): Alarm[] {
    const rows = this.#db
      .prepare(
        'SELECT id, kind, origin, raised_at, message, evidence FROM alarms WHERE id > ? ORDER BY id LIMIT ?',
      )
      .all(options.after ?? 0, options.limit ?? 100) as unknown as AlarmRow[];
    return rows.map(alarmOf);
  }

  /** Number of alarms recorded, by kind. */
  alarmCounts(): Record<AlarmKind, number> {
    const counts: Record<AlarmKind, number> = { FORK: 0, ROLLBACK: 0, BAD_PROOF: 0 };
    for (const r of this.#db.prepare('SELECT kind, count(*) AS n FROM alarms GROUP BY kind').all() as {
      kind: string;
      n: number;
    }[]) {
      if (ALARM_KINDS.has(r.kind)) counts[r.kind as AlarmKind] = r.n;
    }
    return counts;
  }

  /** Throws unless the database answers (readiness). */
  ping(): void {
    this.#db.prepare('SELECT 1').get();
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
