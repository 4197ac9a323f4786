// The bus contract. Standalone runs the in-process bus; distributed mode runs the same
// contract on Kafka and NATS JetStream. Messages carry bytes untouched (signed events are
// never re-serialized on the way).

/** One message as a subscriber sees it. */
export interface Delivery {
  subject: string;
  /** Ordering key: messages with the same key reach a group in publish order. */
  key: string | undefined;
  data: Uint8Array;
  headers: Readonly<Record<string, string>>;
  /** 1 on first delivery, then 2, 3... after the handler failed. */
  attempt: number;
}

/**
 * Resolving acknowledges the message; throwing asks for redelivery (up to `maxAttempts`,
 * then the message goes to the dead-letter subject with the error as its reason).
 */
export type Handler = (message: Delivery) => Promise<void>;

export interface PublishOptions {
  key?: string;
  /**
   * Where a partitioned bus (Kafka) places the message, instead of by `key`: messages with
   * one partition key keep their publish order. The ledger keys submissions by chain and
   * partitions them by organization, so an organization's events across its streams (an
   * event naming an input of another of its streams) reach the sequencer in submission
   * order. Buses without partitions ignore it; it is not delivered.
   */
  partitionKey?: string;
  headers?: Record<string, string>;
}

export interface SubscribeOptions {
  /**
   * A durable group (consumer group, durable consumer): each message goes to one member and
   * is redelivered until acknowledged. Without a group, every subscriber gets every message
   * published from now on (notifications).
   */
  group?: string;
  /** Deliveries before a message is dead-lettered (default 5). */
  maxAttempts?: number;
}

/**
 * A batch of messages of one group, in the group's order for each key. Resolving acknowledges
 * them all; throwing asks for all of them again (`attempt` + 1). After `maxAttempts` failed
 * deliveries each message of the batch goes to the dead-letter subject. A handler that can
 * tell a bad message from a transient failure dead-letters the bad one itself (see
 * `deadLetter`) and throws only for the transient ones.
 */
export type BatchHandler = (messages: readonly Delivery[]) => Promise<void>;

export interface BatchSubscribeOptions {
  /** The durable group; batches are a work-queue feature. */
  group: string;
  /** Messages per batch at most (default 500). */
  maxMessages?: number;
  /** Deliveries before the batch's messages are dead-lettered (default 5; Infinity: retry until it works). */
  maxAttempts?: number;
  /** Pause before a failed batch is delivered again (default 100 ms). */
  retryDelayMs?: number;
}

export interface Subscription {
  /** Stops delivery; a handler already running finishes first. */
  close(): Promise<void>;
}

export interface Bus {
  /** Resolves once the bus holds the message (as durably as that bus can: see its docs). */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<void>;
  subscribe(subject: string, handler: Handler, options?: SubscribeOptions): Promise<Subscription>;
  /** Like a grouped `subscribe`, but hands over up to `maxMessages` waiting messages at once. */
  subscribeBatch(
    subject: string,
    handler: BatchHandler,
    options: BatchSubscribeOptions,
  ): Promise<Subscription>;
  close(): Promise<void>;
}

/** Where a message that could not be handled goes, with headers `dead-letter-reason` and `dead-letter-subject`. */
export function deadLetterSubject(subject: string): string {
  return `${subject}.dead-letter`;
}

/** Headers of a dead-lettered message: the original headers plus the reason and where it came from. */
export function deadLetterHeaders(message: Delivery, reason: string): Record<string, string> {
  return { ...message.headers, 'dead-letter-reason': reason, 'dead-letter-subject': message.subject };
}

/** Publishes a message to its subject's dead-letter subject with the reason, bytes untouched. */
export async function deadLetter(bus: Bus, message: Delivery, reason: string): Promise<void> {
  await bus.publish(deadLetterSubject(message.subject), message.data, {
    ...(message.key === undefined ? {} : { key: message.key }),
    headers: deadLetterHeaders(message, reason),
  });
}

/**
 * The ledger's subjects under a namespace (`<ns>.civic-ledger.appended`...), so several logs
 * (or test runs) can share one broker without seeing each other's messages.
 */
export function namespacedSubjects(namespace?: string): { -readonly [K in keyof typeof SUBJECTS]: string } {
  if (namespace !== undefined && !/^[a-z0-9][a-z0-9-]{0,31}$/.test(namespace)) {
    throw new Error('namespace: 1 to 32 of a-z 0-9 - (not starting with -)');
  }
  const p = namespace ? `${namespace}.` : '';
  return {
    submissions: `${p}${SUBJECTS.submissions}`,
    appended: `${p}${SUBJECTS.appended}`,
    checkpoint: `${p}${SUBJECTS.checkpoint}`,
    finding: `${p}${SUBJECTS.finding}`,
  };
}

/** The subjects the ledger publishes and consumes. */
export const SUBJECTS = {
  /** Signed events to append (one per message, keyed by emitter/stream). */
  submissions: 'civic-ledger.submissions',
  /** Entries appended, after the commit (JSON: an AppendedEntry without its event). */
  appended: 'civic-ledger.appended',
  /** Signed checkpoints (JSON { size, note }). */
  checkpoint: 'civic-ledger.checkpoint',
  /** Compliance findings (later). */
  finding: 'civic-ledger.finding',
} as const;
