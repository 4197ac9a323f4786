// The bus contract on Apache Kafka (kafkajs): a topic per subject, the key as the Kafka
// message key (one key, one partition, in order), headers as Kafka headers, groups as
// consumer groups, offsets committed after the handler. See README.md for the guarantees.
import { randomUUID } from 'node:crypto';
import {
  deadLetterHeaders,
  deadLetterSubject,
  type BatchHandler,
  type BatchSubscribeOptions,
  type Bus,
  type Delivery,
  type Handler,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from '@civic-ledger/bus';
import kafkajs, { type Admin, type ICustomPartitioner, type Message, type Producer } from 'kafkajs';
import { checkSubject, createTopics, kafkaClient, withTimeout, type KafkaLog } from './client.ts';
import { KafkaBusError, messageOf } from './errors.ts';
import { Publisher } from './publisher.ts';
import { KafkaSubscription, type ConsumerSettings } from './subscription.ts';

const { Partitioners } = kafkajs; // CommonJS: see client.ts

export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** Names this process to the brokers (logs, quotas) and in fan-out group ids. */
  clientId: string;
  /** Partitions of each topic the bus creates (default 3). Existing topics keep theirs. */
  partitions?: number;
  /** Replicas of each partition of the topics the bus creates (default 1: one broker). */
  replicationFactor?: number;
  /** kafkajs warnings and errors (default: dropped). Nothing is printed to the console. */
  log?: KafkaLog;
  /** Partitions a `subscribeBatch` consumer handles at once (default: `partitions`). */
  partitionsConsumedConcurrently?: number;
  /** A publish not acknowledged by then rejects with PUBLISH_TIMEOUT (default 30 000 ms). */
  publishTimeoutMs?: number;
  /** Bytes of message values per produce request at most (default 512 KiB). */
  maxBatchBytes?: number;
  /** A member that has not heartbeat for this long leaves its group (default 30 000 ms). */
  sessionTimeoutMs?: number;
  /** Heartbeats at most this often (default 1000 ms). */
  heartbeatIntervalMs?: number;
  /** Fetch long-poll; also how long an idle member takes to notice a rebalance (default 1000 ms). */
  maxWaitTimeMs?: number;
  /** TCP connect timeout (default 3000 ms). */
  connectionTimeoutMs?: number;
  /** Request timeout (default 30 000 ms). */
  requestTimeoutMs?: number;
}

type Resolved = Required<Omit<KafkaBusOptions, 'log'>> & { log: KafkaLog | undefined };

const BROKER = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/;

function resolveOptions(o: KafkaBusOptions): Resolved {
  const bad = (field: string, rule: string): never => {
    throw new KafkaBusError('INVALID_OPTIONS', `${field}: ${rule}`);
  };
  if (typeof o !== 'object' || o === null) bad('options', 'an object is required');
  if (!Array.isArray(o.brokers) || o.brokers.length === 0)
    bad('brokers', 'at least one "host:port" is required');
  o.brokers.forEach((b, i) => {
    if (typeof b !== 'string' || !BROKER.test(b))
      bad(`brokers[${i}]`, `${JSON.stringify(b)} is not "host:port"`);
  });
  if (typeof o.clientId !== 'string' || !/^[a-zA-Z0-9._-]{1,100}$/.test(o.clientId))
    bad('clientId', '1 to 100 characters of a-z A-Z 0-9 . _ -');
  if (o.log !== undefined && typeof o.log !== 'function') bad('log', 'a function');
  const int = (field: keyof KafkaBusOptions, fallback: number, min: number, max: number): number => {
    const v = o[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      bad(field, `an integer from ${min} to ${max} (got ${String(v)})`);
    return v as number;
  };
  const partitions = int('partitions', 3, 1, 10_000);
  return {
    brokers: [...o.brokers],
    clientId: o.clientId,
    log: o.log,
    partitions,
    replicationFactor: int('replicationFactor', 1, 1, 100),
    partitionsConsumedConcurrently: int('partitionsConsumedConcurrently', partitions, 1, 10_000),
    publishTimeoutMs: int('publishTimeoutMs', 30_000, 1, 3_600_000),
    maxBatchBytes: int('maxBatchBytes', 512 * 1024, 1024, 64 * 1024 * 1024),
    sessionTimeoutMs: int('sessionTimeoutMs', 30_000, 1000, 3_600_000),
    heartbeatIntervalMs: int('heartbeatIntervalMs', 1000, 10, 3_600_000),
    maxWaitTimeMs: int('maxWaitTimeMs', 1000, 10, 60_000),
    connectionTimeoutMs: int('connectionTimeoutMs', 3000, 10, 600_000),
    requestTimeoutMs: int('requestTimeoutMs', 30_000, 100, 3_600_000),
  };
}

/** `partitionKey` of a message being published, for the partitioner (never sent). */
const partitionKeys = new WeakMap<Message, string>();

/**
 * The default (Java-compatible murmur2) partitioner, hashing a message's `partitionKey` when
 * the publisher gave one and its key otherwise.
 */
const partitionKeyPartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  return ({ topic, partitionMetadata, message }) => {
    const pk = partitionKeys.get(message);
    return byKey({ topic, partitionMetadata, message: pk === undefined ? message : { ...message, key: pk } });
  };
};

export class KafkaBus implements Bus {
  readonly options: Readonly<Resolved>;
  readonly #kafka;
  readonly #admin: Admin;
  readonly #producer: Producer;
  readonly #publisher: Publisher;
  readonly #settings: ConsumerSettings;
  /** Topics known to exist (or being created), so each is created once per bus. */
  readonly #topics = new Map<string, Promise<void>>();
  readonly #subscriptions = new Set<KafkaSubscription>();
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Connects an admin client and an idempotent producer (acks all). */
  static async connect(options: KafkaBusOptions): Promise<KafkaBus> {
    const bus = new KafkaBus(resolveOptions(options));
    try {
      await bus.#admin.connect();
      await bus.#producer.connect();
    } catch (e) {
      await bus.#producer.disconnect().catch(() => undefined);
      await bus.#admin.disconnect().catch(() => undefined);
      throw new KafkaBusError(
        'BROKER_UNREACHABLE',
        `no Kafka broker answered at ${options.brokers.join(', ')}: ${messageOf(e)}`,
        { cause: e },
      );
    }
    return bus;
  }

  private constructor(o: Resolved) {
    this.options = o;
    this.#kafka = kafkaClient({
      brokers: o.brokers,
      clientId: o.clientId,
      log: o.log,
      connectionTimeoutMs: o.connectionTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
    });
    this.#admin = this.#kafka.admin();
    // Idempotent: a produce request kafkajs retries is written once and keeps its place in
    // the partition. It implies acks=all and unbounded retries (bounded for callers by
    // publishTimeoutMs). The default partitioner hashes keys like Java clients (murmur2).
    this.#producer = this.#kafka.producer({
      idempotent: true,
      // Unbounded, as idempotence needs: a send given up on could leave the producer's
      // sequence numbers behind the broker's, and the broker would take the next batch for a
      // duplicate. (kafkajs documents this default but only applies it without a client-wide
      // retry setting.)
      retry: { retries: Number.MAX_SAFE_INTEGER },
      allowAutoTopicCreation: false,
      createPartitioner: partitionKeyPartitioner,
    });
    this.#publisher = new Publisher(this.#producer, this.#admin, {
      maxBatchBytes: o.maxBatchBytes,
      maxBatchMessages: 10_000,
      timeoutMs: o.publishTimeoutMs,
    });
    this.#settings = {
      sessionTimeoutMs: o.sessionTimeoutMs,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      maxWaitTimeMs: o.maxWaitTimeMs,
    };
  }

  /**
   * Resolves once the broker acknowledged the message with acks=all: with replication factor
   * 1 it is in the one broker's page cache (survives a process crash, not a power cut).
   */
  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    this.#open();
    checkSubject(subject);
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    await this.#ensure([subject]);
    const message: Message = {
      key: options.key ?? null,
      // A copy: the bytes go out as they were at the call, even if the caller reuses its buffer.
      value: Buffer.from(data),
      headers: { ...options.headers },
    };
    if (options.partitionKey !== undefined) partitionKeys.set(message, options.partitionKey);
    return this.#publisher.publish(subject, message, data.byteLength);
  }

  async subscribe(subject: string, handler: Handler, options: SubscribeOptions = {}): Promise<Subscription> {
    return this.#subscribe(subject, options.group, (ms) => handler(ms[0]!), {
      maxMessages: 1,
      maxAttempts: attempts(options.maxAttempts),
      retryDelayMs: 0,
      // One message at a time per consumer, as on the in-process bus.
      concurrency: 1,
    });
  }

  async subscribeBatch(
    subject: string,
    handler: BatchHandler,
    options: BatchSubscribeOptions,
  ): Promise<Subscription> {
    if (typeof options?.group !== 'string')
      throw new KafkaBusError('INVALID_OPTIONS', 'group: required for batches');
    return this.#subscribe(subject, options.group, handler, {
      maxMessages: Math.max(1, Math.floor(options.maxMessages ?? 500)),
      maxAttempts: attempts(options.maxAttempts),
      retryDelayMs: Math.max(0, options.retryDelayMs ?? 100),
      concurrency: this.options.partitionsConsumedConcurrently,
    });
  }

  /** Whether the broker answers a metadata request within `timeoutMs` (for /readyz). */
  async ready(timeoutMs = 2000): Promise<boolean> {
    if (this.#closed) return false;
    try {
      return await withTimeout(
        this.#admin.describeCluster().then((d) => d.brokers.length > 0),
        timeoutMs,
      );
    } catch {
      return false;
    }
  }

  /** Stops every consumer (running handlers finish first), then flushes and disconnects. */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    this.#closed = true;
    // Consumers first: they may still dead-letter through the producer.
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    const drained = this.#publisher.drain().then(() => true);
    await withTimeout(drained, this.options.publishTimeoutMs);
    await this.#producer.disconnect().catch(() => undefined);
    await this.#admin.disconnect().catch(() => undefined);
  }

  #open(): void {
    if (this.#closed) throw new KafkaBusError('BUS_CLOSED', 'the bus is closed');
  }

  async #subscribe(
    subject: string,
    group: string | undefined,
    handler: BatchHandler,
    retry: { maxMessages: number; maxAttempts: number; retryDelayMs: number; concurrency: number },
  ): Promise<Subscription> {
    this.#open();
    checkSubject(subject);
    if (group !== undefined && (typeof group !== 'string' || group.length === 0 || group.length > 200))
      throw new KafkaBusError('INVALID_OPTIONS', 'group: 1 to 200 characters');
    // Its dead-letter topic too, so a poison message never waits for a topic to be created.
    await this.#ensure(subject.endsWith('.dead-letter') ? [subject] : [subject, deadLetterSubject(subject)]);
    const fanOut = group === undefined;
    const sub = new KafkaSubscription(
      {
        kafka: this.#kafka,
        admin: this.#admin,
        settings: this.#settings,
        deadLetter: (m, reason) => this.#deadLetter(m, reason),
        onClosed: (s) => this.#subscriptions.delete(s),
      },
      {
        subject,
        // Kafka groups span topics; the bus's groups are per subject, so the id names both.
        groupId: fanOut
          ? `${subject}/fanout-${this.options.clientId}-${randomUUID()}`
          : `${subject}/${group}`,
        fanOut,
        handler,
        ...retry,
      },
    );
    this.#subscriptions.add(sub);
    try {
      await sub.start();
    } catch (e) {
      this.#subscriptions.delete(sub);
      throw e;
    }
    if (this.#closed) {
      await sub.close(); // the bus closed while this one was joining
      this.#open();
    }
    return sub;
  }

  async #deadLetter(message: Delivery, reason: string): Promise<void> {
    await this.#ensure([deadLetterSubject(message.subject)]);
    await this.#publisher.publish(
      deadLetterSubject(message.subject),
      {
        key: message.key ?? null,
        value: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength),
        headers: deadLetterHeaders(message, reason),
      },
      message.data.byteLength,
    );
  }

  #ensure(topics: string[]): Promise<void> {
    const missing = topics.filter((t) => !this.#topics.has(t));
    if (missing.length > 0) {
      const created = createTopics(this.#admin, missing, this.options);
      for (const t of missing) {
        this.#topics.set(
          t,
          created.catch((e: unknown) => {
            this.#topics.delete(t); // try again next time
            throw e;
          }),
        );
      }
    }
    const waits = topics.map((t) => this.#topics.get(t)!);
    return Promise.all(waits).then(() => undefined);
  }
}

function attempts(n: number | undefined): number {
  const v = n ?? 5;
  if (v !== Infinity && (!Number.isInteger(v) || v < 1))
    throw new KafkaBusError(
      'INVALID_OPTIONS',
      `maxAttempts: a positive integer or Infinity (got ${String(n)})`,
    );
  return v;
}
