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

export interface Subscription {
  /** Stops delivery; a handler already running finishes first. */
  close(): Promise<void>;
}

export interface Bus {
  /** Resolves once the bus holds the message (as durably as that bus can: see its docs). */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<void>;
  subscribe(subject: string, handler: Handler, options?: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}

/** Where a message that could not be handled goes, with headers `dead-letter-reason` and `dead-letter-subject`. */
export function deadLetterSubject(subject: string): string {
  return `${subject}.dead-letter`;
}

/** The subjects the ledger publishes and consumes. */
export const SUBJECTS = {
  /** Signed events to append (one per message, keyed by emitter/stream). */
  submissions: 'civic-ledger.submissions',
  /** Entries appended, after the commit (JSON AppendedEntry). */
  appended: 'civic-ledger.appended',
  /** Signed checkpoints (JSON { size, note }). */
  checkpoint: 'civic-ledger.checkpoint',
  /** Compliance findings (later). */
  finding: 'civic-ledger.finding',
} as const;
