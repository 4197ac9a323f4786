// One subscription = one kafkajs consumer in one consumer group. Every handler call sees the
// messages of one partition in offset order; its offsets are committed only after it
// resolved (or after its messages went to the dead-letter topic), so a consumer that stops or
// dies mid-way leaves the rest for the group's next member: at-least-once.
import type { BatchHandler, Delivery, Subscription } from '@civic-ledger/bus';
import type { Admin, Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { retrying } from './client.ts';
import { KafkaBusError, messageOf } from './errors.ts';

export interface ConsumerSettings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxWaitTimeMs: number;
}

export interface SubscriptionSpec {
  subject: string;
  /** The Kafka consumer group id. */
  groupId: string;
  /** A fan-out subscriber: starts at the end offsets of now, and its group is deleted on close. */
  fanOut: boolean;
  handler: BatchHandler;
  maxMessages: number;
  maxAttempts: number;
  retryDelayMs: number;
  /** Partitions whose batches are handled at the same time. */
  concurrency: number;
}

export interface SubscriptionContext {
  kafka: Kafka;
  admin: Admin;
  settings: ConsumerSettings;
  deadLetter(message: Delivery, reason: string): Promise<void>;
  onClosed(sub: KafkaSubscription): void;
}

export class KafkaSubscription implements Subscription {
  readonly spec: SubscriptionSpec;
  readonly #ctx: SubscriptionContext;
  readonly #consumer: Consumer;
  readonly #stop = new AbortController();
  #closed: Promise<void> | undefined;

  constructor(ctx: SubscriptionContext, spec: SubscriptionSpec) {
    this.#ctx = ctx;
    this.spec = spec;
    const s = ctx.settings;
    this.#consumer = ctx.kafka.consumer({
      groupId: spec.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      rebalanceTimeout: Math.max(60_000, s.sessionTimeoutMs),
      heartbeatInterval: s.heartbeatIntervalMs,
      // The fetch long-poll: also how long an idle member takes to notice a rebalance.
      maxWaitTimeInMs: s.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    });
  }

  /** Joins the group; resolves once the consumer owns its partitions and knows where to start. */
  async start(): Promise<void> {
    const { subject, fanOut } = this.spec;
    const consumer = this.#consumer;
    try {
      // Fan-out: the end offsets as of now. Whatever is published once subscribe() resolved
      // lies at or beyond them, so the seek below delivers it even if it lands before the
      // consumer's first fetch.
      const ends = fanOut ? await retrying(() => this.#ctx.admin.fetchTopicOffsets(subject)) : undefined;
      await consumer.connect();
      // A new group with no committed offsets starts at the earliest one: a work queue keeps
      // what was published before its first member came.
      await consumer.subscribe({ topics: [subject], fromBeginning: !fanOut });
      let crash: unknown;
      const offCrash = consumer.on(consumer.events.CRASH, (e) => (crash = e.payload.error));
      const running = consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.spec.concurrency,
        eachBatch: (payload) => this.#eachBatch(payload),
      });
      // run() has created the consumer group synchronously; the seeks apply at its first fetch.
      for (const { partition, high } of ends ?? [])
        consumer.seek({ topic: subject, partition, offset: high });
      await running; // kafkajs resolves run() once the member joined and got its assignment
      offCrash();
      if (crash !== undefined) throw crash;
    } catch (e) {
      this.#stop.abort();
      await consumer.disconnect().catch(() => undefined);
      if (e instanceof KafkaBusError) throw e;
      throw new KafkaBusError(
        'SUBSCRIBE_FAILED',
        `could not join consumer group ${this.spec.groupId} on ${subject}: ${messageOf(e)}`,
        { cause: e },
      );
    }
  }

  close(): Promise<void> {
    return (this.#closed ??= this.#close());
  }

  async #close(): Promise<void> {
    this.#stop.abort(); // no further tries; a handler already running finishes first
    try {
      await this.#consumer.disconnect(); // waits for the running batch, commits, leaves the group
    } catch {
      // already disconnected by a crash
    }
    // A fan-out group served this subscription only: drop it and its offsets.
    if (this.spec.fanOut) await this.#ctx.admin.deleteGroups([this.spec.groupId]).catch(() => undefined);
    this.#ctx.onClosed(this);
  }

  async #eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const { topic, partition, messages } = batch;
    // Stop at a partition this member may no longer own (kafkajs is stopping or rejoining),
    // or that was sought elsewhere: what is not committed goes to its next owner.
    const live = () => p.isRunning() && !p.isStale() && !this.#stop.signal.aborted;
    const commits = new Committer((offset) =>
      p.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] }),
    );
    const size = this.spec.maxMessages;
    try {
      for (let i = 0; i < messages.length; i += size) {
        if (!live()) return;
        const chunk = messages.slice(i, i + size);
        if (!(await this.#deliver(chunk, p.heartbeat, live))) return;
        const last = i + size >= messages.length ? batch.lastOffset() : chunk[chunk.length - 1]!.offset;
        p.resolveOffset(last);
        commits.add((BigInt(last) + 1n).toString());
        // Throws when the group is rebalancing: kafkajs rejoins, the rest is fetched again.
        await p.heartbeat();
      }
    } finally {
      // Before kafkajs may rejoin or leave: this member still owns the partition, so the
      // next owner starts right after the last message handled here.
      await commits.settled();
    }
    commits.throwIfFailed();
  }

  /** Hands the chunk over until it is acknowledged or dead-lettered (true), or stopped (false). */
  async #deliver(
    chunk: KafkaMessage[],
    heartbeat: () => Promise<void>,
    live: () => boolean,
  ): Promise<boolean> {
    const { subject, maxAttempts, retryDelayMs, handler } = this.spec;
    let deliveries = chunk.map((m) => toDelivery(subject, m, 1));
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) deliveries = deliveries.map((d) => ({ ...d, attempt }));
      try {
        await handler(deliveries);
        return true;
      } catch (e) {
        if (attempt >= maxAttempts) {
          const reason = messageOf(e);
          await Promise.all(deliveries.map((d) => this.#ctx.deadLetter(d, reason)));
          return true;
        }
        // Closing: leave the chunk unacknowledged for the group's next member.
        if (!live()) return false;
        if (retryDelayMs > 0) await sleep(retryDelayMs, this.#stop.signal);
        await heartbeat(); // a long retry keeps the membership (and notices a rebalance)
        if (!live()) return false;
      }
    }
  }
}

/**
 * Commits a partition's offsets as handlers acknowledge them, one commit request at a time:
 * offsets acknowledged while one is in flight go out together in the next (a commit takes a
 * few ms on Kafka 4, whose group coordinator batches its log appends). Only offsets of handled
 * messages are ever committed; a crash redelivers at most those of the request in flight.
 */
class Committer {
  readonly #commit: (offset: string) => Promise<void>;
  #next: string | undefined;
  #inflight: Promise<void> | undefined;
  #failure: unknown;

  constructor(commit: (offset: string) => Promise<void>) {
    this.#commit = commit;
  }

  add(offset: string): void {
    this.#next = offset;
    this.#kick();
    this.throwIfFailed();
  }

  async settled(): Promise<void> {
    while (this.#inflight) await this.#inflight;
  }

  throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  #kick(): void {
    if (this.#inflight || this.#next === undefined || this.#failure !== undefined) return;
    const offset = this.#next;
    this.#next = undefined;
    this.#inflight = this.#commit(offset)
      .catch((e: unknown) => {
        this.#failure = e; // a rebalance took the partition: stop, kafkajs rejoins
      })
      .finally(() => {
        this.#inflight = undefined;
        this.#kick();
      });
  }
}

export function toDelivery(subject: string, m: KafkaMessage, attempt: number): Delivery {
  const v = m.value;
  return {
    subject,
    key: m.key === null ? undefined : m.key.toString('utf8'),
    // A copy: a view would keep the whole fetch response alive while a handler keeps the data.
    data: v === null ? new Uint8Array(0) : new Uint8Array(v),
    headers: fromHeaders(m.headers),
    attempt,
  };
}

function fromHeaders(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    // A repeated header key arrives as an array; the bus has one value per key: the last.
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (last !== undefined) out[k] = typeof last === 'string' ? last : last.toString('utf8');
  }
  return out;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
