// The outbox: every signed event is written (and synced) here before it is sent, and sent
// from here, in the order written, until it has a receipt. After a crash anywhere between
// signing and the receipt, opening the outbox resends the pending events byte for byte:
// the ledger appends one it never got, and answers one it already has with its original
// receipt. So a crash can never make an emitter sign a second event at the same seq.
import { join } from 'node:path';
import { EMPTY_HEAD, type ChainHead } from '@civic-ledger/chain';
import type { SignedEventWire } from '@civic-ledger/events';
import type { SignedReceipt } from '@civic-ledger/receipts';
import type { LedgerClient } from './client.ts';
import { ClientError } from './errors.ts';
import { OutboxStore, type OutboxRow, type OutboxState } from './outbox-store.ts';
import { prepareSigned, type PreparedEvent } from './prepare.ts';
import { backoffDelay, retryOptionsSchema, sleep } from './retry.ts';

export interface OutboxOptions {
  client: LedgerClient;
  /** Directory of the outbox file (`outbox.db`); created if missing. Keep it on durable storage. */
  stateDir: string;
  /** Resend pending events when opening (default true); a ledger out of reach is no error. */
  flushOnOpen?: boolean;
  /** Passes over the pending events when some got a transient refusal (default 5). */
  flushAttempts?: number;
  /** Test hook: runs after events are written to the outbox and before they are sent. */
  afterWrite?: (rows: readonly OutboxRow[]) => void | Promise<void>;
}

/** What became of one event. */
export type EventOutcome =
  | { ok: true; hash: string; receipt: SignedReceipt; duplicate: boolean }
  /** `pending`: still in the outbox, to be resent (network, transient refusal, blocked stream). */
  | { ok: false; hash: string; error: ClientError; pending: boolean };

export interface FlushSummary {
  /** Events sent in this flush. */
  sent: number;
  receipted: number;
  duplicates: number;
  refused: number;
}

const streamKey = (emitter: string, stream: string) => `${emitter}/${stream}`;

export class Outbox {
  readonly client: LedgerClient;
  readonly path: string;
  readonly #store: OutboxStore;
  readonly #afterWrite: OutboxOptions['afterWrite'];
  readonly #flushAttempts: number;
  /** Per stream, the ledger's chain head as read once in this process: a floor for chain state. */
  readonly #floors = new Map<string, Promise<ChainHead | null>>();
  readonly #floorValues = new Map<string, ChainHead>();
  #queue: Promise<unknown> = Promise.resolve();
  /** The error of the last flush that could not finish (kept for pending outcomes). */
  #lastFlushError: ClientError | undefined;

  private constructor(options: OutboxOptions) {
    this.client = options.client;
    this.path = join(options.stateDir, 'outbox.db');
    this.#store = new OutboxStore(this.path);
    this.#afterWrite = options.afterWrite;
    this.#flushAttempts = options.flushAttempts ?? retryOptionsSchema.parse({}).attempts;
  }

  /** Opens (or creates) the outbox and, by default, resends what it holds pending. */
  static async open(options: OutboxOptions): Promise<Outbox> {
    const outbox = new Outbox(options);
    if (options.flushOnOpen ?? true) {
      try {
        await outbox.flush();
      } catch (e) {
        // Out of reach now: the events stay pending and go first on the next flush.
        if (!(e instanceof ClientError && e.retryable)) {
          outbox.close();
          throw e;
        }
      }
    }
    return outbox;
  }

  // ---- writing

  /**
   * Writes prepared events (all or none, synced) without sending them. An event already
   * in the outbox is kept as it is; another event at the same emitter/stream/seq is
   * OUTBOX_CONFLICT.
   */
  async write(events: readonly PreparedEvent[]): Promise<OutboxRow[]> {
    const rows = this.#store.add(events);
    await this.#afterWrite?.(rows);
    return rows;
  }

  /** Writes already-signed events (wire form) to the outbox, sends them, and reports each. */
  async submitSigned(wires: readonly (SignedEventWire | unknown)[]): Promise<EventOutcome[]> {
    const prepared = wires.map((w, i) => prepareSigned(w, `events[${i}]`));
    const rows = await this.write(prepared);
    return this.send(rows.map((r) => r.hash));
  }

  /**
   * Flushes the outbox and reports what became of the given events. A failure to reach the
   * ledger is thrown (the events stay pending); refusals are outcomes.
   */
  async send(hashes: readonly string[]): Promise<EventOutcome[]> {
    try {
      await this.flush();
    } catch (e) {
      if (!(e instanceof ClientError && e.retryable)) throw e;
      const error = new ClientError(
        e.code,
        `${e.message} (the events stay in the outbox and will be resent)`,
        {
          ...(e.status === undefined ? {} : { status: e.status }),
          details: { ...e.details, outboxed: true },
          cause: e,
        },
      );
      throw error;
    }
    return hashes.map((h) => this.outcome(h));
  }

  // ---- sending

  /**
   * Sends every pending event, in the order written, in batch requests, and records each
   * receipt (checked by the client) or refusal. A refusal blocks the rest of its stream
   * (later events chain on the refused one); transient refusals are retried with backoff,
   * a bounded number of passes. Flushes run one at a time.
   */
  flush(): Promise<FlushSummary> {
    const run = this.#queue.then(() => this.#flushOnce());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #flushOnce(): Promise<FlushSummary> {
    const summary: FlushSummary = { sent: 0, receipted: 0, duplicates: 0, refused: 0 };
    let passes = 0;
    for (;;) {
      const rows = this.#store.sendable(this.client.batchSize);
      if (rows.length === 0) {
        this.#lastFlushError = undefined;
        return summary;
      }
      let outcomes;
      try {
        outcomes = await this.client.submitBatch(rows);
      } catch (e) {
        if (e instanceof ClientError) this.#lastFlushError = e;
        throw e;
      }
      summary.sent += rows.length;
      // Receipts are always recorded. A refusal is recorded only when it cannot be the
      // consequence of another event of this batch not being appended: the first refusal
      // of its stream, and none after a transient failure (an event after it may name it
      // as input, or chain on it).
      let transient: ClientError | undefined;
      const stopped = new Set<string>();
      this.#store.transaction(() =>
        outcomes.forEach((o, i) => {
          const row = rows[i]!;
          if (o.ok) {
            this.#store.markReceipted(row.hash, o.receipt, o.duplicate);
            summary.receipted++;
            if (o.duplicate) summary.duplicates++;
            return;
          }
          const key = streamKey(row.emitter, row.stream);
          if (transient || stopped.has(key)) return;
          if (o.error.retryable) {
            transient = o.error;
            return;
          }
          stopped.add(key);
          this.#store.markRefused(row.hash, {
            code: o.error.code,
            message: o.error.message,
            details: o.error.details,
          });
          summary.refused++;
        }),
      );
      if (transient) {
        this.#lastFlushError = transient;
        if (++passes >= this.#flushAttempts) throw transient;
        await sleep(backoffDelay(passes, retryOptionsSchema.parse({})));
      }
    }
  }

  /** What became of an event of this outbox (INVALID_ARGUMENT if it is not in it). */
  outcome(hash: string): EventOutcome {
    const row = this.#store.get(hash);
    if (!row) throw new ClientError('INVALID_ARGUMENT', `event ${hash} is not in the outbox`);
    if (row.state === 'receipted') {
      return { ok: true, hash, receipt: row.receipt!, duplicate: row.duplicate ?? false };
    }
    if (row.state === 'refused') {
      const e = row.error!;
      return {
        ok: false,
        hash,
        pending: false,
        error: new ClientError(e.code, e.message, { details: e.details }),
      };
    }
    const refused = this.#store.firstRefused(row.emitter, row.stream);
    if (refused && refused.seq < row.seq) {
      return { ok: false, hash, pending: true, error: blockedError(refused) };
    }
    const error =
      this.#lastFlushError ?? new ClientError('NETWORK', 'not sent yet: the event is pending in the outbox');
    return { ok: false, hash, pending: true, error };
  }

  // ---- chain state

  /**
   * Reads the ledger's chain head of a stream once per process, as a floor: chain state is
   * then the outbox's last event, or the ledger's head when the ledger is ahead (outbox lost
   * or restored from an old copy). With the ledger out of reach, the outbox alone is used
   * when it knows the stream. CHAIN_DIVERGED when the two disagree about an event.
   */
  async syncChain(emitter: string, stream: string): Promise<void> {
    const key = streamKey(emitter, stream);
    let floor = this.#floors.get(key);
    if (!floor) {
      floor = this.#readFloor(emitter, stream).then((head) => {
        if (head) this.#floorValues.set(key, head);
        // Read again next time when the ledger was out of reach.
        else this.#floors.delete(key);
        return head;
      });
      this.#floors.set(key, floor);
      floor.catch(() => this.#floors.delete(key));
    }
    await floor;
  }

  /** The ledger's head (EMPTY_HEAD: no chain yet); null when out of reach but the outbox knows the stream. */
  async #readFloor(emitter: string, stream: string): Promise<ChainHead | null> {
    let remote;
    try {
      remote = await this.client.chainHead(emitter, stream);
    } catch (e) {
      if (e instanceof ClientError && e.retryable && this.#store.last(emitter, stream)) return null;
      throw e;
    }
    if (!remote) return EMPTY_HEAD;
    const local = this.#store.last(emitter, stream);
    if (local && local.state !== 'refused') {
      if (remote.seq === local.seq && remote.eventHash !== local.hash) {
        throw new ClientError(
          'CHAIN_DIVERGED',
          `the ledger holds another event than the outbox at ${emitter}/${stream} seq ${local.seq}`,
          {
            details: {
              emitter,
              stream,
              seq: local.seq,
              ledgerHash: remote.eventHash,
              outboxHash: local.hash,
            },
          },
        );
      }
      if (remote.seq < local.seq && local.state === 'receipted') {
        throw new ClientError(
          'CHAIN_DIVERGED',
          `the ledger's head of ${emitter}/${stream} (seq ${remote.seq}) is behind receipted seq ${local.seq}`,
          { details: { emitter, stream, ledgerSeq: remote.seq, receiptedSeq: local.seq } },
        );
      }
    }
    return { seq: remote.seq, hash: remote.eventHash };
  }

  /**
   * The chain head to sign the next event of a stream on, now (after syncChain): the
   * outbox's last event, unless the ledger's head read by syncChain is ahead. Synchronous,
   * so that reading it, signing and writing happen with nothing in between.
   */
  chainHeadNow(emitter: string, stream: string): ChainHead {
    const floor = this.#floorValues.get(streamKey(emitter, stream)) ?? EMPTY_HEAD;
    const local = this.#store.last(emitter, stream);
    if (local && local.seq >= floor.seq) return { seq: local.seq, hash: local.hash };
    return floor;
  }

  /** STREAM_BLOCKED when a refused event blocks the stream. */
  assertNotBlocked(emitter: string, stream: string): void {
    const refused = this.#store.firstRefused(emitter, stream);
    if (refused) throw blockedError(refused);
  }

  // ---- maintenance

  /** An event of the outbox by hash. */
  get(hash: string): OutboxRow | undefined {
    return this.#store.get(hash);
  }

  /** Pending events, in the order they will be sent. */
  pending(limit?: number): OutboxRow[] {
    return this.#store.pending(limit);
  }

  /** The outbox's last event of a stream. */
  last(emitter: string, stream: string): OutboxRow | undefined {
    return this.#store.last(emitter, stream);
  }

  counts(): Record<OutboxState, number> {
    return this.#store.counts();
  }

  /**
   * Unblocks a stream after a refusal: deletes its refused event and every later event of
   * the stream (they chain on it, so the ledger can never take them). The next event is
   * signed at the refused one's seq. Returns how many events were deleted.
   */
  discardRefused(emitter: string, stream: string): number {
    const refused = this.#store.firstRefused(emitter, stream);
    return refused ? this.#store.discardFrom(emitter, stream, refused.seq) : 0;
  }

  /** Deletes receipted events but each stream's last (chain state needs it). */
  prune(): number {
    return this.#store.prune();
  }

  close(): void {
    this.#store.close();
  }
}

function blockedError(refused: OutboxRow): ClientError {
  const e = refused.error!;
  return new ClientError(
    'STREAM_BLOCKED',
    `${refused.emitter}/${refused.stream} is blocked: its event at seq ${refused.seq} was refused (${e.code}: ${e.message})`,
    {
      details: {
        emitter: refused.emitter,
        stream: refused.stream,
        seq: refused.seq,
        hash: refused.hash,
        refusal: e,
      },
    },
  );
}
