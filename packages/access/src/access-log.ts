// The access log: one record per read of non-public data, append-only and hash-chained.
// Each record carries `prev`, the SHA-256 of the previous record's canonical JSON (RFC 8785),
// so an edit or a deletion anywhere breaks the chain, and a truncated tail is caught against
// a head (size and hash) an oversight body saved earlier. Stored in node:sqlite; appends are
// synchronous and durable (synchronous=FULL) before the read they record is answered.
import { existsSync, writeFileSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { canonicalize } from '@civic-ledger/canonical-json';
import { sha256HexOfUtf8 } from '@civic-ledger/crypto';
import { orgId } from '@civic-ledger/schemas';
import { z } from 'zod';
import { AccessError } from './errors.ts';
import { tokenScopeSchema } from './scopes.ts';

/** The `prev` of the first record, and the hash of the empty log. */
export const ACCESS_LOG_GENESIS = '0'.repeat(64);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex of 32 bytes');

/** What the HTTP layer records about one read. */
export const accessLogEntrySchema = z.strictObject({
  /** When it was answered (ISO 8601, UTC, milliseconds). */
  time: z.iso.datetime({ offset: false }),
  org: orgId,
  scope: tokenScopeSchema,
  /** The token id (never the token). */
  jti: z.string().min(1).max(128),
  method: z.string().regex(/^[A-Z]{1,16}$/),
  /** The route pattern, e.g. /v1/events/:hash. */
  route: z.string().min(1).max(512),
  /** Path and query, with secret-looking query parameters removed (see redactUrl). */
  url: z.string().min(1).max(2048),
  status: z.number().int().min(100).max(599),
  requestId: z.string().min(1).max(128),
});
export type AccessLogEntry = z.infer<typeof accessLogEntrySchema>;

/** A record as stored and hashed: the entry, its position from 1, and the previous record's hash. */
export const accessLogRecordSchema = accessLogEntrySchema.extend({
  seq: z.number().int().min(1),
  prev: hex64,
});
export type AccessLogRecord = z.infer<typeof accessLogRecordSchema>;

/** A record with its own hash, as read back and served. */
export type HashedAccessLogRecord = AccessLogRecord & { hash: string };

/** Where a log stands: its number of records and the hash of the last one (genesis when empty). */
export interface AccessLogHead {
  size: number;
  hash: string;
}

/** SHA-256 (lower-case hex) of the record's canonical JSON, without its `hash` member. */
export function accessLogRecordHash(record: AccessLogRecord): string {
  const { seq, prev, ...entry } = record;
  return sha256HexOfUtf8(canonicalize({ ...entry, seq, prev }));
}

function broken(seq: number, reason: string, message: string): AccessError {
  return new AccessError('ACCESS_LOG_INVALID', `access log record ${seq}: ${message}`, { seq, reason });
}

export interface VerifyAccessLogOptions {
  /** Where the records start: the head before the first of them (default: the empty log). */
  start?: AccessLogHead;
  /** A head saved earlier: the records must reach it and hash to it there (tail truncation, forks). */
  knownHead?: AccessLogHead;
}

/**
 * Checks records in order: each well-formed, numbered on from `start`, linked to the hash of
 * the one before, and (when it carries one) its `hash` right. Returns the head they reach;
 * throws ACCESS_LOG_INVALID naming the record and the reason.
 */
export function verifyAccessLog(
  records: readonly unknown[],
  options: VerifyAccessLogOptions = {},
): AccessLogHead {
  const head = chainRecords(
    records,
    options.start ?? { size: 0, hash: ACCESS_LOG_GENESIS },
    options.knownHead,
  );
  const known = options.knownHead;
  if (known && head.size < known.size)
    throw broken(
      head.size + 1,
      'truncated',
      `the log ends at ${head.size}, before the saved head ${known.size}`,
    );
  return head;
}

/** The chain checks of verifyAccessLog, without the final truncation check (pages). */
function chainRecords(
  records: readonly unknown[],
  start: AccessLogHead,
  known: AccessLogHead | undefined,
): AccessLogHead {
  let head = start;
  const checkKnown = (h: AccessLogHead) => {
    if (known && h.size === known.size && h.hash !== known.hash)
      throw broken(h.size, 'fork', `does not hash to the saved head ${known.hash}`);
  };
  checkKnown(head);
  for (const raw of records) {
    const seq = head.size + 1;
    const { hash, ...rest } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const parsed = accessLogRecordSchema.safeParse(rest);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw broken(seq, 'malformed', `${i.path.join('.') || '(record)'}: ${i.message}`);
    }
    const r = parsed.data;
    if (r.seq !== seq)
      throw broken(seq, 'seq', `expected seq ${seq}, found ${r.seq} (a record is missing or moved)`);
    if (r.prev !== head.hash)
      throw broken(seq, 'prev', `prev ${r.prev} is not the hash of record ${head.size} (${head.hash})`);
    const computed = accessLogRecordHash(r);
    if (hash !== undefined && hash !== computed)
      throw broken(seq, 'hash', `its hash ${String(hash)} is not the hash of its content (${computed})`);
    head = { size: seq, hash: computed };
    checkKnown(head);
  }
  return head;
}

/** Query parameter names whose values are never recorded. */
const SECRET_PARAM = /token|secret|password|passwd|key|auth|signature|sig|credential|session|cookie/i;

/** The path and query of a request URL, without the values of secret-looking parameters, at most 2048 characters. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (q < 0) return path.slice(0, 2048) || '/';
  const params = new URLSearchParams(url.slice(q + 1));
  const kept = [...params].map(([k, v]): [string, string] => [k, SECRET_PARAM.test(k) ? '(redacted)' : v]);
  const query = new URLSearchParams(kept).toString();
  return `${path || '/'}${query ? `?${query}` : ''}`.slice(0, 2048);
}

export interface AccessLogOptions {
  /** Clock for record times, ms since the epoch (tests). */
  now?: () => number;
  /** SQLite synchronous mode (default FULL: a record survives a power cut once appended). */
  synchronous?: 'FULL' | 'NORMAL';
}

/** What the HTTP layer needs of an access log (appends are synchronous: logged before sent). */
export interface AccessLogSink {
  append(entry: Omit<AccessLogEntry, 'time'> & { time?: string }): HashedAccessLogRecord;
  read(page?: { after?: number; limit?: number }): AccessLogPage;
  head(): AccessLogHead;
}

export interface AccessLogPage {
  records: HashedAccessLogRecord[];
  /** `after` of the next page, null at the end. */
  next: number | null;
  /** The whole log's head when the page was read. */
  head: AccessLogHead;
}

export const MAX_ACCESS_LOG_PAGE = 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS access_log (
  seq INTEGER PRIMARY KEY,
  record TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
-- Append-only inside SQLite too; the hash chain catches edits made around these triggers.
CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
  BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
  BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
`;

/** The access log in a node:sqlite file. */
export class AccessLog implements AccessLogSink {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #insert: StatementSync;
  readonly #page: StatementSync;
  readonly #last: StatementSync;
  #head: AccessLogHead;

  private constructor(db: DatabaseSync, options: AccessLogOptions) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#insert = db.prepare('INSERT INTO access_log (seq, record, hash) VALUES (?, ?, ?)');
    this.#page = db.prepare('SELECT record, hash FROM access_log WHERE seq > ? ORDER BY seq LIMIT ?');
    this.#last = db.prepare('SELECT seq, record, hash FROM access_log ORDER BY seq DESC LIMIT 1');
    this.#head = this.#readHead();
  }

  /** Opens (creating) the log at `path`; the last record is checked against its stored hash. */
  static open(path: string, options: AccessLogOptions = {}): AccessLog {
    let db: DatabaseSync;
    try {
      // Who read what is itself sensitive: a new log is readable by its owner only (SQLite
      // gives its -wal and -shm files the database file's mode).
      if (path !== ':memory:' && !existsSync(path)) writeFileSync(path, '', { mode: 0o600, flag: 'wx' });
      db = new DatabaseSync(path);
      db.exec(
        `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous ?? 'FULL'}; PRAGMA busy_timeout = 5000;`,
      );
      db.exec(SCHEMA);
    } catch (e) {
      throw new AccessError(
        'ACCESS_LOG_FAILED',
        `cannot open the access log ${path}: ${(e as Error).message}`,
        { path },
        { cause: e },
      );
    }
    try {
      return new AccessLog(db, options);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  #readHead(): AccessLogHead {
    const row = this.#last.get() as { seq: number; record: string; hash: string } | undefined;
    if (!row) return { size: 0, hash: ACCESS_LOG_GENESIS };
    const record = accessLogRecordSchema.safeParse(JSON.parse(row.record));
    if (!record.success || accessLogRecordHash(record.data) !== row.hash || record.data.seq !== row.seq)
      throw broken(row.seq, 'hash', 'the last record does not match its stored hash');
    return { size: row.seq, hash: row.hash };
  }

  head(): AccessLogHead {
    return { ...this.#head };
  }

  /** Appends one record, durably, and returns it with its hash; ACCESS_LOG_FAILED when it cannot. */
  append(entry: Omit<AccessLogEntry, 'time'> & { time?: string }): HashedAccessLogRecord {
    const parsed = accessLogEntrySchema.safeParse({
      ...entry,
      time: entry.time ?? new Date(this.#now()).toISOString(),
    });
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new AccessError('ACCESS_LOG_FAILED', `access log entry ${i.path.join('.')}: ${i.message}`);
    }
    const write = () => {
      const record: AccessLogRecord = { ...parsed.data, seq: this.#head.size + 1, prev: this.#head.hash };
      const hash = accessLogRecordHash(record);
      this.#insert.run(record.seq, canonicalize(record), hash);
      this.#head = { size: record.seq, hash };
      return { ...record, hash };
    };
    try {
      return write();
    } catch (first) {
      // Another writer on the same file took the next seq: catch up once and chain after it.
      try {
        this.#head = this.#readHead();
        return write();
      } catch (e) {
        throw new AccessError(
          'ACCESS_LOG_FAILED',
          `the access log could not be written: ${(e as Error).message}`,
          {},
          { cause: first },
        );
      }
    }
  }

  /** Records after `after` (a seq; default 0), at most `limit` (default 100, at most 1000). */
  read(page: { after?: number; limit?: number } = {}): AccessLogPage {
    const after = Math.max(0, Math.floor(page.after ?? 0));
    const limit = Math.min(MAX_ACCESS_LOG_PAGE, Math.max(1, Math.floor(page.limit ?? 100)));
    let rows: { record: string; hash: string }[];
    try {
      rows = this.#page.all(after, limit + 1) as typeof rows;
    } catch (e) {
      throw new AccessError(
        'ACCESS_LOG_FAILED',
        `the access log could not be read: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
    const head = this.head();
    const records = rows
      .slice(0, limit)
      .map((r) => ({ ...(JSON.parse(r.record) as AccessLogRecord), hash: r.hash }));
    const last = records.at(-1);
    return { records, next: rows.length > limit && last ? last.seq : null, head };
  }

  /** Reads the whole log and checks its chain; returns its head or throws ACCESS_LOG_INVALID. */
  verify(options: Omit<VerifyAccessLogOptions, 'start'> = {}): AccessLogHead {
    let head: AccessLogHead = { size: 0, hash: ACCESS_LOG_GENESIS };
    for (;;) {
      const rows = this.#page.all(head.size, MAX_ACCESS_LOG_PAGE) as { record: string; hash: string }[];
      if (rows.length === 0) break;
      head = chainRecords(
        rows.map((r) => ({ ...(JSON.parse(r.record) as object), hash: r.hash })),
        head,
        options.knownHead,
      );
    }
    return verifyAccessLog([], { start: head, ...options });
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
