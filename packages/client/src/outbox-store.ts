// The outbox's storage: one SQLite file (node:sqlite) holding every signed event in the
// exact bytes that are sent, written and synced (WAL, synchronous=FULL) before it is sent,
// and what became of it: pending (not yet receipted: resend it, byte for byte), receipted
// (with the checked receipt) or refused (with the ledger's error).
//
// UNIQUE (emitter, stream, seq) is the local guarantee against forks: once an event is
// written at a seq, no other event can be written at that seq, by this process or another.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SignedReceipt } from '@civic-ledger/receipts';
import { ClientError } from './errors.ts';
import type { PreparedEvent } from './prepare.ts';

export type OutboxState = 'pending' | 'receipted' | 'refused';

export interface OutboxError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

export interface OutboxRow extends PreparedEvent {
  /** Insertion order: the order events are sent in. */
  id: number;
  state: OutboxState;
  receipt: SignedReceipt | undefined;
  duplicate: boolean | undefined;
  error: OutboxError | undefined;
  /** ms since the epoch. */
  created: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hash TEXT NOT NULL UNIQUE,
  emitter TEXT NOT NULL,
  stream TEXT NOT NULL,
  seq INTEGER NOT NULL,
  prev TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'receipted', 'refused')),
  receipt TEXT,
  duplicate INTEGER,
  error TEXT,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  UNIQUE (emitter, stream, seq)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_refused ON outbox(emitter, stream, seq) WHERE state = 'refused';
`;

interface Row {
  id: number;
  hash: string;
  emitter: string;
  stream: string;
  seq: number;
  prev: string;
  body: string;
  state: OutboxState;
  receipt: string | null;
  duplicate: number | null;
  error: string | null;
  created: number;
}

function toRow(r: Row): OutboxRow {
  return {
    id: r.id,
    hash: r.hash,
    emitter: r.emitter,
    stream: r.stream,
    seq: r.seq,
    prev: r.prev,
    body: r.body,
    state: r.state,
    receipt: r.receipt === null ? undefined : (JSON.parse(r.receipt) as SignedReceipt),
    duplicate: r.duplicate === null ? undefined : r.duplicate === 1,
    error: r.error === null ? undefined : (JSON.parse(r.error) as OutboxError),
    created: r.created,
  };
}

const COLUMNS = 'id, hash, emitter, stream, seq, prev, body, state, receipt, duplicate, error, created';

export class OutboxStore {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #s: Record<string, StatementSync>;
  #closed = false;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // WAL + FULL: a commit that returned is on disk, so an event is never sent before it
    // could be resent after a crash or a power cut.
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
    const p = (sql: string) => this.#db.prepare(sql);
    this.#s = {
      insert: p(
        `INSERT INTO outbox (hash, emitter, stream, seq, prev, body, state, created, updated)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      ),
      atSeq: p(`SELECT ${COLUMNS} FROM outbox WHERE emitter = ? AND stream = ? AND seq = ?`),
      byHash: p(`SELECT ${COLUMNS} FROM outbox WHERE hash = ?`),
      pending: p(`SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?`),
      sendable: p(
        `SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' AND NOT EXISTS (
           SELECT 1 FROM outbox r WHERE r.state = 'refused' AND r.emitter = outbox.emitter
             AND r.stream = outbox.stream AND r.seq < outbox.seq)
         ORDER BY id LIMIT ?`,
      ),
      last: p(`SELECT ${COLUMNS} FROM outbox WHERE emitter = ? AND stream = ? ORDER BY seq DESC LIMIT 1`),
      firstRefused: p(
        `SELECT ${COLUMNS} FROM outbox WHERE emitter = ? AND stream = ? AND state = 'refused' ORDER BY seq LIMIT 1`,
      ),
      refusedStreams: p(`SELECT DISTINCT emitter, stream FROM outbox WHERE state = 'refused'`),
      receipted: p(
        `UPDATE outbox SET state = 'receipted', receipt = ?, duplicate = ?, error = NULL, updated = ?
         WHERE hash = ? AND state <> 'receipted'`,
      ),
      refused: p(
        `UPDATE outbox SET state = 'refused', error = ?, updated = ? WHERE hash = ? AND state = 'pending'`,
      ),
      discard: p(`DELETE FROM outbox WHERE emitter = ? AND stream = ? AND seq >= ? AND state <> 'receipted'`),
      prune: p(
        `DELETE FROM outbox WHERE state = 'receipted' AND seq < (
           SELECT MAX(o.seq) FROM outbox o WHERE o.emitter = outbox.emitter AND o.stream = outbox.stream)`,
      ),
      counts: p(`SELECT state, COUNT(*) AS n FROM outbox GROUP BY state`),
    };
  }

  #open(): void {
    if (this.#closed) throw new ClientError('CLOSED', 'the outbox is closed');
  }

  /**
   * Writes events, all or none, in one synced transaction; an event already there (same
   * hash) is kept as it is. OUTBOX_CONFLICT when another event holds one's emitter, stream
   * and seq. Returns the rows, in the order given.
   */
  add(events: readonly PreparedEvent[]): OutboxRow[] {
    this.#open();
    const now = Date.now();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const rows = events.map((e) => {
        const existing = this.#s['atSeq']!.get(e.emitter, e.stream, e.seq) as Row | undefined;
        if (existing) {
          if (existing.hash === e.hash) return toRow(existing);
          throw new ClientError(
            'OUTBOX_CONFLICT',
            `the outbox already holds another event at ${e.emitter}/${e.stream} seq ${e.seq}`,
            { details: { emitter: e.emitter, stream: e.stream, seq: e.seq, existingHash: existing.hash } },
          );
        }
        this.#s['insert']!.run(e.hash, e.emitter, e.stream, e.seq, e.prev, e.body, now, now);
        return toRow(this.#s['byHash']!.get(e.hash) as unknown as Row);
      });
      this.#db.exec('COMMIT');
      return rows;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  /** Runs `fn` in one transaction (one sync for many receipts). */
  transaction<T>(fn: () => T): T {
    this.#open();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  get(hash: string): OutboxRow | undefined {
    this.#open();
    const r = this.#s['byHash']!.get(hash) as Row | undefined;
    return r && toRow(r);
  }

  /** Pending events in the order they were written (the order they must be sent in). */
  pending(limit = 1000): OutboxRow[] {
    this.#open();
    return (this.#s['pending']!.all(limit) as unknown as Row[]).map(toRow);
  }

  /** Pending events not blocked by a refused event of their stream, in the order written. */
  sendable(limit: number): OutboxRow[] {
    this.#open();
    return (this.#s['sendable']!.all(limit) as unknown as Row[]).map(toRow);
  }

  /** The event at the highest seq of a stream, whatever its state. */
  last(emitter: string, stream: string): OutboxRow | undefined {
    this.#open();
    const r = this.#s['last']!.get(emitter, stream) as Row | undefined;
    return r && toRow(r);
  }

  /** The lowest refused event of a stream: it blocks every later one. */
  firstRefused(emitter: string, stream: string): OutboxRow | undefined {
    this.#open();
    const r = this.#s['firstRefused']!.get(emitter, stream) as Row | undefined;
    return r && toRow(r);
  }

  /** Streams with a refused event, as `emitter/stream`. */
  blockedStreams(): Set<string> {
    this.#open();
    const rows = this.#s['refusedStreams']!.all() as unknown as { emitter: string; stream: string }[];
    return new Set(rows.map((r) => `${r.emitter}/${r.stream}`));
  }

  markReceipted(hash: string, receipt: SignedReceipt, duplicate: boolean): void {
    this.#open();
    this.#s['receipted']!.run(JSON.stringify(receipt), duplicate ? 1 : 0, Date.now(), hash);
  }

  markRefused(hash: string, error: OutboxError): void {
    this.#open();
    this.#s['refused']!.run(JSON.stringify(error), Date.now(), hash);
  }

  /** Deletes the unreceipted events of a stream from `seq` on; returns how many. */
  discardFrom(emitter: string, stream: string, seq: number): number {
    this.#open();
    return Number(this.#s['discard']!.run(emitter, stream, seq).changes);
  }

  /** Deletes receipted events except each stream's last (which chain state needs). */
  prune(): number {
    this.#open();
    return Number(this.#s['prune']!.run().changes);
  }

  counts(): Record<OutboxState, number> {
    this.#open();
    const out: Record<OutboxState, number> = { pending: 0, receipted: 0, refused: 0 };
    for (const r of this.#s['counts']!.all() as unknown as { state: OutboxState; n: number }[]) {
      out[r.state] = r.n;
    }
    return out;
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
