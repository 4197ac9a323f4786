// The sequencer's batch handler: decodes each submission message with the HTTP body's
// schemas, appends the good ones in one ledger commit, publishes one outcome per submission
// (a signed receipt or the error) and dead-letters what can never be appended. The bus
// acknowledges the batch only when the handler resolves, i.e. after the durable append.
import { deadLetter, type BatchHandler, type Bus, type Delivery } from '@civic-ledger/bus';
import type { SigningKey } from '@civic-ledger/crypto';
import type { DecodedEvent } from '@civic-ledger/events';
import type { LedgerError } from '@civic-ledger/ledger-core';
import { type Ledger, type SubmitResult } from '@civic-ledger/ledger-core';
import { signReceipt } from '@civic-ledger/receipts';
import { SchemaError } from '@civic-ledger/schemas';
import { encodeOutcome, PIPELINE_SUBJECTS, decodeSubmissionMessage, type Outcome } from './messages.ts';

/**
 * Refusals another submission may cure: the chain's predecessor, an input dataset, a
 * registration or a key can be on its way through another partition or the other bus.
 * Such a message goes back to the end of its subject (headers `waiting-since`, `not-before`),
 * so it never holds up the messages behind it, until `maxWaitMs` have passed since its first
 * refusal; then it is dead-lettered.
 */
export const WAITABLE_CODES: ReadonlySet<string> = new Set([
  'CHAIN_GAP',
  'UNKNOWN_INPUT',
  'UNKNOWN_SUBJECT',
  'UNKNOWN_KEY',
  'UNKNOWN_EMITTER',
]);

/** Failures of this process or its store, never of the message: the batch comes again until they pass. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set(['OVERLOADED', 'STORE_FAILED', 'LEDGER_CLOSED']);

export interface SequencerCoreOptions {
  ledger: Ledger;
  /** Where outcomes are published (NATS in distributed mode). */
  outcomes: Bus;
  /** Their subject (default PIPELINE_SUBJECTS.outcomes). */
  outcomesSubject?: string;
  /** Signs receipts: the log key. */
  logKey: SigningKey;
  origin: string;
  checkpointWithinMs: number;
  /** How long a waitable refusal may wait for what it lacks (default 10 s). */
  maxWaitMs?: number;
  now?: () => number;
  /** The ledger says another process became the writer: stop consuming. */
  onFenced?: (error: LedgerError) => void;
  /** Told of every dead letter (logs, metrics). */
  onDeadLetter?: (message: Delivery, reason: string) => void;
  /** Told of each handled batch (metrics). */
  onBatch?: (stats: {
    messages: number;
    appended: number;
    duplicates: number;
    deadLettered: number;
    requeued: number;
  }) => void;
  /** How long a requeued message rests before it is tried again (default 250 ms). */
  requeueDelayMs?: number;
}

function waitingSince(m: Delivery): number | undefined {
  const v = Number(m.headers['waiting-since']);
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

interface Item {
  message: Delivery;
  decoded?: DecodedEvent;
  /** Set when the message can never be appended. */
  refusal?: { code: string; message: string; details: Record<string, unknown> };
}

export class SequencerCore {
  readonly #o: SequencerCoreOptions;
  readonly #now: () => number;

  constructor(options: SequencerCoreOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** The batch handler for submissions arriving on `source` (dead letters go back to it). */
  handler(source: Bus): BatchHandler {
    return (messages) => this.handle(source, messages);
  }

  async handle(source: Bus, messages: readonly Delivery[]): Promise<void> {
    const o = this.#o;
    // Requeued messages rest a little, so a lone waiting message is not spun on.
    const notBefore = Math.max(0, ...messages.map((m) => Number(m.headers['not-before'] ?? 0) || 0));
    const rest = Math.min(notBefore - this.#now(), 1000);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    const now = this.#now();
    const items: Item[] = messages.map((message) => {
      try {
        return { message, decoded: decodeSubmissionMessage(message, { now }) };
      } catch (e) {
        if (e instanceof SchemaError) {
          return { message, refusal: { code: e.code, message: e.message, details: { issues: e.issues } } };
        }
        throw e;
      }
    });
    const good = items.filter((i) => i.decoded);
    let results: SubmitResult[] = [];
    if (good.length > 0) results = await o.ledger.submitDecoded(good.map((i) => i.decoded!));

    const outcomes: Outcome[] = [];
    const requeue: { message: Delivery; since: number }[] = [];
    let appended = 0;
    let duplicates = 0;
    good.forEach((item, n) => {
      const r = results[n]!;
      const hash = item.decoded!.hash;
      if (r.ok) {
        if (r.duplicate) duplicates++;
        else appended++;
        const receipt = signReceipt(o.logKey, r.receipt, {
          origin: o.origin,
          checkpointWithinMs: o.checkpointWithinMs,
        });
        outcomes.push({ ok: true, eventHash: hash, receipt, duplicate: r.duplicate });
        return;
      }
      const code = r.error.code;
      if (code === 'NOT_WRITER') {
        o.onFenced?.(r.error);
        throw r.error;
      }
      if (TRANSIENT_CODES.has(code)) throw r.error;
      let message = r.error.message;
      if (WAITABLE_CODES.has(code)) {
        const since = waitingSince(item.message) ?? now;
        if (now - since < (o.maxWaitMs ?? 10_000)) {
          requeue.push({ message: item.message, since });
          return;
        }
        message = `${message} (still so ${now - since} ms after its first refusal)`;
      }
      item.refusal = { code, message, details: r.error.details };
    });

    // Back to the end of the subject first: if this fails the batch comes again, and what
    // was appended answers as a duplicate with its original receipt.
    for (const { message, since } of requeue) {
      await source.publish(message.subject, message.data, {
        ...(message.key === undefined ? {} : { key: message.key }),
        headers: {
          ...message.headers,
          'waiting-since': String(since),
          'not-before': String(now + (o.requeueDelayMs ?? 250)),
        },
      });
    }
    let deadLettered = 0;
    for (const item of items) {
      if (!item.refusal) continue;
      const reason = `${item.refusal.code}: ${item.refusal.message}`;
      await deadLetter(source, item.message, reason);
      o.onDeadLetter?.(item.message, reason);
      deadLettered++;
      const hash = item.decoded?.hash ?? item.message.headers['event-hash'];
      if (hash) outcomes.push({ ok: false, eventHash: hash, error: item.refusal });
    }
    // Outcomes are advisory (the log is the record): a failed publish does not undo the append.
    await Promise.all(
      outcomes.map((x) =>
        o.outcomes
          .publish(o.outcomesSubject ?? PIPELINE_SUBJECTS.outcomes, encodeOutcome(x), { key: x.eventHash })
          .catch(() => undefined),
      ),
    );
    o.onBatch?.({ messages: messages.length, appended, duplicates, deadLettered, requeued: requeue.length });
  }
}
