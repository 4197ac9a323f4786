export type KafkaBusErrorCode =
  /** An option of `KafkaBus.connect` is missing or out of range (the message names it). */
  | 'INVALID_OPTIONS'
  /** A subject that is not a legal Kafka topic name (or too long to have a dead-letter topic). */
  | 'INVALID_SUBJECT'
  /** The bus (or the subscription) is closed. */
  | 'BUS_CLOSED'
  /** The broker refused a message larger than its limit (`max.message.bytes`). */
  | 'MESSAGE_TOO_LARGE'
  /** The broker did not acknowledge a publish in `publishTimeoutMs`; it may still be written. */
  | 'PUBLISH_TIMEOUT'
  /** The broker refused a publish, or kafkajs gave up retrying it. */
  | 'PUBLISH_FAILED'
  /** The topics of a subject could not be created. */
  | 'TOPIC_CREATE_FAILED'
  /** A consumer could not join its group. */
  | 'SUBSCRIBE_FAILED'
  /** No broker answered while connecting. */
  | 'BROKER_UNREACHABLE';

export class KafkaBusError extends Error {
  override readonly name = 'KafkaBusError';
  readonly code: KafkaBusErrorCode;
  constructor(code: KafkaBusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The kafkajs error type (`MESSAGE_TOO_LARGE`, `REBALANCE_IN_PROGRESS`...) anywhere in a cause chain. */
export function kafkaErrorType(e: unknown): string | undefined {
  for (let c = e, depth = 0; c !== null && typeof c === 'object' && depth < 10; depth++) {
    const type = (c as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    const errors = (c as { errors?: unknown }).errors;
    c = Array.isArray(errors) && errors.length > 0 ? errors[0] : (c as { cause?: unknown }).cause;
  }
  return undefined;
}

export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
