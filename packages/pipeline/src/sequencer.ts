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
    /** Why they were requeued: refusal code -> count. */
    requeuedFor: Record<string, number>;
    /** Time in the handler, ms (the rest pause included). */
    ms: number;
  }) => void;
  /** How long a batch keeps retrying its waiting submissions before requeueing them (default 500 ms). */
  holdMs?: number;
  /** How long a requeued message rests before it is tried again (default 250 ms). */
  requeueDelayMs?: number;
}

/** Sets a key in a bounded map (oldest forgotten first): memory stays bounded. */
function remember(map: Map<string, number>, key: string, value: number): void {
  map.delete(key);
  if (map.size >= 100_000) map.delete(map.keys().next().value!);
  map.set(key, value);
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
  /** Chains whose event at this seq waits at the end of the subject (successors go behind it). */
  readonly #parked = new Map<string, number>();
  /** Chains whose event at this seq was dead-lettered (successors can never be appended). */
  readonly #deadChains = new Map<string, number>();

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
    const started = this.#now();
    // A batch of nothing but requeued messages not yet due rests a little, so a lone
    // waiting message is not spun on; any other batch goes at once.
    const due = messages.map((m) => Number(m.headers['not-before'] ?? 0) || 0);
    const rest = Math.min(Math.min(...due) - this.#now(), 1000);
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
    // Successors of a chain whose head is requeued go straight after it, in order, and a
    // chain whose head was dead-lettered loses its successors too: no one is tried before
    // its predecessor.
    const behind: Item[] = [];
    const orphans: { item: Item; seq: number }[] = [];
    const candidates = items.filter((i) => {
      if (!i.decoded) return false;
      const chain = `${i.decoded.event.emitter}/${i.decoded.event.stream}`;
      const seq = i.decoded.event.seq;
      const dead = this.#deadChains.get(chain);
      if (dead !== undefined && seq > dead) {
        orphans.push({ item: i, seq: dead });
        return false;
      }
      const parked = this.#parked.get(chain);
      if (parked !== undefined && seq > parked) {
        behind.push(i);
        return false;
      }
      return true;
    });
    for (const { item, seq } of orphans) {
      item.refusal = {
        code: 'CHAIN_GAP',
        message: `its chain's event at seq ${seq} was dead-lettered: nothing after it can be appended`,
        details: { deadLetteredSeq: seq },
      };
    }
    const good = candidates;
    const results: SubmitResult[] = [];
    // What another partition's batch, handled at the same time, may supply (an input, a
    // registration) is often there a few ms later: the waiting ones are tried again, in
    // order, for up to `holdMs` before they go back to the end of the subject.
    let pending = good.map((_, n) => n);
    const holdUntil = this.#now() + (o.holdMs ?? 200);
    while (pending.length > 0) {
      const answers = await o.ledger.submitDecoded(pending.map((n) => good[n]!.decoded!));
      pending.forEach((n, k) => (results[n] = answers[k]!));
      pending = pending.filter((n) => {
        const r = results[n]!;
        return !r.ok && WAITABLE_CODES.has(r.error.code);
      });
      if (pending.length === 0 || this.#now() >= holdUntil) break;
      await new Promise((r) => setTimeout(r, 20));
    }

    const outcomes: Outcome[] = [];
    const requeue: { message: Delivery; since: number }[] = [];
    const requeuedFor: Record<string, number> = {};
    let appended = 0;
    let duplicates = 0;
    good.forEach((item, n) => {
      const r = results[n]!;
      const hash = item.decoded!.hash;
      const chain = `${item.decoded!.event.emitter}/${item.decoded!.event.stream}`;
      if (r.ok && this.#parked.get(chain) === item.decoded!.event.seq) this.#parked.delete(chain);
      // The dead-lettered event was sent again and appended: its successors may follow.
      if (r.ok && (this.#deadChains.get(chain) ?? Infinity) <= item.decoded!.event.seq)
        this.#deadChains.delete(chain);
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
          requeuedFor[code] = (requeuedFor[code] ?? 0) + 1;
          const seq = item.decoded!.event.seq;
          const parked = this.#parked.get(chain);
          if (parked === undefined || seq < parked) remember(this.#parked, chain, seq);
          return;
        }
        message = `${message} (still so ${now - since} ms after its first refusal)`;
        if (this.#parked.get(chain) === item.decoded!.event.seq) this.#parked.delete(chain);
        remember(this.#deadChains, chain, item.decoded!.event.seq);
      }
      item.refusal = { code, message, details: r.error.details };
    });

    for (const item of behind) {
      requeue.push({ message: item.message, since: waitingSince(item.message) ?? now });
      requeuedFor['BEHIND_WAITING'] = (requeuedFor['BEHIND_WAITING'] ?? 0) + 1;
    }
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
    o.onBatch?.({
      messages: messages.length,
      appended,
      duplicates,
      deadLettered,
      requeued: requeue.length,
      requeuedFor,
      ms: this.#now() - started,
    });
  }
}
