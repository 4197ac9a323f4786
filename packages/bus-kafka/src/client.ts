// The kafkajs client as this package configures it: quiet (warnings and errors go to an
// optional callback, never to the console), topics created explicitly, subjects checked
// against Kafka's topic-name rules before anything reaches the broker.
import kafkajs, { type Admin, type LogEntry } from 'kafkajs';
import { deadLetterSubject } from '@civic-ledger/bus';
import { KafkaBusError, kafkaErrorType, messageOf } from './errors.ts';

// kafkajs is CommonJS: Node's ESM loader finds only some of its exports by name.
const { Kafka, logLevel } = kafkajs;

/** A kafkajs warning or error, reduced to fields that never carry credentials. */
export interface KafkaLogEntry {
  level: 'warn' | 'error';
  /** The kafkajs component (`Consumer`, `Producer`, `Runner`, `ConsumerGroup`...). */
  namespace: string;
  message: string;
  error?: string;
  groupId?: string;
  topic?: string;
  broker?: string;
}

export type KafkaLog = (entry: KafkaLogEntry) => void;

export interface ClientOptions {
  brokers: readonly string[];
  clientId: string;
  log?: KafkaLog | undefined;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** kafkajs retries per request (default 5). */
  retries?: number;
}

const pick = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v instanceof Error ? v.message : undefined;

export function kafkaClient(options: ClientOptions): InstanceType<typeof Kafka> {
  const sink = options.log;
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { retries: options.retries ?? 5 },
    // Only warnings and errors are built at all; kafkajs' default prints JSON to the console.
    logLevel: sink ? logLevel.WARN : logLevel.NOTHING,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        if (!sink) return;
        // Each protocol error a request got back, logged by the connection before kafkajs
        // retries it ("coordinator is loading", "topic already exists"): what was not
        // recovered reaches the caller as a thrown error, so these are noise here.
        if (namespace === 'Connection' && log.message.startsWith('Response ')) return;
        const entry: KafkaLogEntry = {
          level: level === logLevel.ERROR ? 'error' : 'warn',
          namespace,
          message: log.message,
        };
        // Named fields only: a log entry never passes on the client config (SASL etc.).
        const error = pick(log.error);
        if (error !== undefined) entry.error = error;
        for (const k of ['groupId', 'topic', 'broker'] as const) {
          const v = pick(log[k]);
          if (v !== undefined) entry[k] = v;
        }
        try {
          sink(entry);
        } catch {
          // a failing log sink must not break the client
        }
      },
  });
}

// Kafka: [a-zA-Z0-9._-], at most 249 characters, not "." or "..". The bus adds
// ".dead-letter" (12 characters) for a subject's dead letters.
const LEGAL = /^[a-zA-Z0-9._-]+$/;
const MAX_TOPIC = 249;

export function checkSubject(subject: string): void {
  if (typeof subject !== 'string' || !LEGAL.test(subject) || subject === '.' || subject === '..')
    throw new KafkaBusError(
      'INVALID_SUBJECT',
      `subject ${JSON.stringify(subject)} is not a Kafka topic name: use only a-z A-Z 0-9 . _ -`,
    );
  if (deadLetterSubject(subject).length > MAX_TOPIC && !subject.endsWith('.dead-letter'))
    throw new KafkaBusError(
      'INVALID_SUBJECT',
      `subject ${JSON.stringify(subject.slice(0, 40))}... is ${subject.length} characters: at most ${MAX_TOPIC - 12}, so that its dead-letter topic fits Kafka's limit of ${MAX_TOPIC}`,
    );
  if (subject.length > MAX_TOPIC)
    throw new KafkaBusError(
      'INVALID_SUBJECT',
      `subject is ${subject.length} characters: Kafka allows ${MAX_TOPIC}`,
    );
}

export interface TopicOptions {
  /** Partitions of each topic created (default 3). Existing topics are left as they are. */
  partitions?: number;
  /** Replicas of each partition (default 1, a single broker). */
  replicationFactor?: number;
}

/** Creates the topics that do not exist yet (idempotent) and waits for their partition leaders. */
export async function createTopics(
  admin: Admin,
  topics: readonly string[],
  options: TopicOptions = {},
): Promise<void> {
  if (topics.length === 0) return;
  for (const t of topics) checkSubject(t);
  let created: boolean;
  try {
    created = await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({
        topic,
        numPartitions: options.partitions ?? 3,
        replicationFactor: options.replicationFactor ?? 1,
      })),
    });
  } catch (e) {
    // Two processes creating the same topics at once: one of them sees TOPIC_ALREADY_EXISTS
    // for part of a batch (kafkajs only tolerates it when every topic of the call existed).
    if (kafkaErrorType(e) !== 'TOPIC_ALREADY_EXISTS' || !allExisting(e))
      throw new KafkaBusError(
        'TOPIC_CREATE_FAILED',
        `could not create topics ${topics.join(', ')}: ${messageOf(e)}`,
        { cause: e },
      );
    const existing = (e as { errors?: unknown[] }).errors?.length ?? topics.length;
    created = existing < topics.length;
  }
  // The metadata names a leader before that broker serves the new partitions: wait until
  // each answers an offsets request, so the first fetch or seek does not trip on it.
  if (created)
    for (const topic of topics)
      await retrying(() => admin.fetchTopicOffsets(topic)).catch((e: unknown) => {
        throw new KafkaBusError(
          'TOPIC_CREATE_FAILED',
          `topic ${topic} was created but its partitions do not answer: ${messageOf(e)}`,
          { cause: e },
        );
      });
}

/**
 * `f`, tried again on errors kafkajs marks retriable (NOT_LEADER_FOR_PARTITION right after a
 * topic was created, for one): its admin client gives up on those at once.
 */
export async function retrying<T>(f: () => Promise<T>, tries = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (i >= tries || (e as { retriable?: unknown }).retriable !== true) throw e;
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** i)));
    }
  }
}

function allExisting(e: unknown): boolean {
  const errors = (e as { errors?: unknown }).errors;
  return !Array.isArray(errors) || errors.every((x) => kafkaErrorType(x) === 'TOPIC_ALREADY_EXISTS');
}

/**
 * Creates `topics` on the cluster at `brokers` where missing (for deployment scripts; the bus
 * creates what it uses by itself).
 */
export async function ensureTopics(
  brokers: readonly string[],
  topics: readonly string[],
  options: TopicOptions & { clientId?: string; log?: KafkaLog } = {},
): Promise<void> {
  const admin = kafkaClient({
    brokers,
    clientId: options.clientId ?? 'civic-ledger-admin',
    log: options.log,
  }).admin();
  await admin.connect();
  try {
    await createTopics(admin, topics, options);
  } finally {
    await admin.disconnect();
  }
}

/** Whether a broker at `brokers` answers a metadata request within `timeoutMs` (for /readyz). */
export async function isKafkaReachable(
  brokers: readonly string[],
  options: { timeoutMs?: number; clientId?: string } = {},
): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const admin = kafkaClient({
    brokers,
    clientId: options.clientId ?? 'civic-ledger-probe',
    connectionTimeoutMs: timeoutMs,
    requestTimeoutMs: timeoutMs,
    retries: 0,
  }).admin();
  try {
    return await withTimeout(
      (async () => {
        await admin.connect();
        const { brokers: found } = await admin.describeCluster();
        return found.length > 0;
      })(),
      timeoutMs,
    );
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** `p`, or false after `ms`. */
export async function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
