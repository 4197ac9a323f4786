export type BusNatsErrorCode =
  /** An option of `NatsBus.connect` is missing or out of range (the message names it). */
  | 'INVALID_OPTIONS'
  /** The subject is empty, has an empty token, whitespace or a wildcard. */
  | 'INVALID_SUBJECT'
  /** A header name is not a NATS header token, is reserved, or a value is not well-formed text. */
  | 'INVALID_HEADER'
  /** The first connection failed, or the server has no JetStream. */
  | 'CONNECT_FAILED'
  /** The server did not store the message (no PubAck) within `publishTimeoutMs`. */
  | 'PUBLISH_TIMEOUT'
  /** The server refused the message or the connection failed while publishing. */
  | 'PUBLISH_FAILED'
  /** The subject's stream could not be created: another stream holds an overlapping subject. */
  | 'STREAM_CONFLICT'
  /** A durable consumer with the group's name exists on the stream with another filter subject. */
  | 'CONSUMER_CONFLICT'
  /** A JetStream API call (stream or consumer info, create, update) failed or timed out. */
  | 'JETSTREAM_API'
  /** The bus is closed. */
  | 'CLOSED';

export class BusNatsError extends Error {
  override readonly name = 'BusNatsError';
  readonly code: BusNatsErrorCode;
  constructor(code: BusNatsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
