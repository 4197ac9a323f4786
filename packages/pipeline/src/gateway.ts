// The ingest gateway: puts decoded submissions on the submissions bus (one message per event,
// chains kept in order) and remembers the sequencer's outcomes, so a caller can wait for its
// signed receipt or poll for it later. The log is the record; outcomes held here are a cache
// (bounded, lost on restart: a later poll says "unknown" and the query API has the entry).
import type { Bus, Subscription } from '@civic-ledger/bus';
import type { DecodedEvent } from '@civic-ledger/events';
import {
  decodeOutcome,
  PIPELINE_SUBJECTS,
  submissionMessage,
  type Outcome,
  type PipelineSubjects,
} from './messages.ts';

export interface IngestGatewayOptions {
  /** Where submissions go (Kafka). */
  submissions: Bus;
  /** Where outcomes come from (NATS). */
  outcomes: Bus;
  /** The log's subjects (default PIPELINE_SUBJECTS). */
  subjects?: Pick<PipelineSubjects, 'submissions' | 'outcomes'>;
  /** Outcomes remembered for polling (default 100 000; oldest forgotten first). */
  maxRemembered?: number;
  now?: () => number;
}

export class IngestGateway {
  readonly #o: IngestGatewayOptions;
  readonly #outcomes = new Map<string, Outcome>();
  /** Submissions published by this instance and not yet answered (hash -> publish time). */
  readonly #pending = new Map<string, number>();
  readonly #waiters = new Map<string, Set<(o: Outcome) => void>>();
  #sub: Subscription | undefined;

  constructor(options: IngestGatewayOptions) {
    this.#o = options;
  }

  get #subjects(): Pick<PipelineSubjects, 'submissions' | 'outcomes'> {
    return this.#o.subjects ?? PIPELINE_SUBJECTS;
  }

  /** Starts listening for outcomes (before the first publish, so none is missed). */
  async start(): Promise<void> {
    this.#sub = await this.#o.outcomes.subscribe(this.#subjects.outcomes, async (m) => {
      const o = decodeOutcome(m.data);
      if (o) this.#record(o);
    });
  }

  /**
   * Publishes each event as its own message, all at once and in the order given, and
   * resolves once the bus holds all of them (rejects with the first failure). The order
   * given is the submission order: the Kafka bus sends publishes in call order over one
   * idempotent producer, so each organization's partition receives them in that order
   * (a chain's events, and an event after the inputs it names from the organization's
   * other streams).
   */
  async publish(events: readonly DecodedEvent[]): Promise<void> {
    const now = (this.#o.now ?? Date.now)();
    await Promise.all(
      events.map(async (d) => {
        const m = submissionMessage(d, 'http', now);
        await this.#o.submissions.publish(this.#subjects.submissions, m.data, {
          key: m.key,
          partitionKey: m.partitionKey,
          headers: m.headers,
        });
        if (!this.#outcomes.has(d.hash)) {
          if (this.#pending.size >= (this.#o.maxRemembered ?? 100_000)) {
            this.#pending.delete(this.#pending.keys().next().value!);
          }
          this.#pending.set(d.hash, now);
        }
      }),
    );
  }

  /** What is known of a submission: its outcome, "pending" (published here, no answer yet), or undefined. */
  status(eventHash: string): Outcome | 'pending' | undefined {
    return this.#outcomes.get(eventHash) ?? (this.#pending.has(eventHash) ? 'pending' : undefined);
  }

  /** The outcome, waiting up to `timeoutMs` for it; undefined when none came in time. */
  waitFor(eventHash: string, timeoutMs: number): Promise<Outcome | undefined> {
    const known = this.#outcomes.get(eventHash);
    if (known || timeoutMs <= 0) return Promise.resolve(known);
    return new Promise((resolve) => {
      let set = this.#waiters.get(eventHash);
      if (!set) this.#waiters.set(eventHash, (set = new Set()));
      const done = (o: Outcome | undefined) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.#waiters.delete(eventHash);
        resolve(o);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      set.add(done);
    });
  }

  /** Submissions this instance published and has no outcome for. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  async close(): Promise<void> {
    await this.#sub?.close();
    for (const set of this.#waiters.values())
      for (const w of [...set]) (w as (o?: Outcome) => void)(undefined);
  }

  #record(o: Outcome): void {
    // A success is final; a refusal may be followed by a success (the same event resubmitted).
    const had = this.#outcomes.get(o.eventHash);
    if (had?.ok && !o.ok) return;
    this.#outcomes.delete(o.eventHash);
    if (this.#outcomes.size >= (this.#o.maxRemembered ?? 100_000)) {
      this.#outcomes.delete(this.#outcomes.keys().next().value!);
    }
    this.#outcomes.set(o.eventHash, o);
    this.#pending.delete(o.eventHash);
    for (const w of [...(this.#waiters.get(o.eventHash) ?? [])]) w(o);
  }
}
