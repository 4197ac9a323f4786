// The SDK's one error type. A refusal by the ledger keeps the server's `{ code, message,
// details }` and HTTP status; failures found on this side have the codes below.

/** Failures detected by the SDK itself (the ledger's own codes are passed through as they are). */
export type ClientOwnErrorCode =
  /** No answer: connection refused or reset, DNS, timeout (after every retry). */
  | 'NETWORK'
  /** An error status whose body is not the ledger's `{ code, message, details }` (a proxy, say). */
  | 'HTTP_ERROR'
  /** A 2xx answer that does not have the documented shape. */
  | 'BAD_RESPONSE'
  /** A receipt not signed by the pinned log key, or for another event or log. */
  | 'BAD_RECEIPT'
  /** A checkpoint not signed by the pinned log key, for another origin, or malformed. */
  | 'CHECKPOINT_UNVERIFIED'
  /** An inclusion proof (or the entry it is about) that does not match the checkpoint root. */
  | 'PROOF_INVALID'
  /** No checkpoint covers the entry within the wait. */
  | 'NOT_COVERED'
  /** With a witness policy: the checkpoint's cosignatures do not satisfy its quorum (the message names the group). */
  | 'QUORUM_NOT_MET'
  /** The event is refused here before signing or sending (schema, canonical form, size). */
  | 'INVALID_EVENT'
  /** The outbox already holds a different event at this emitter, stream and seq. */
  | 'OUTBOX_CONFLICT'
  /** A refused event blocks its stream: later events chain on it and can never be accepted. */
  | 'STREAM_BLOCKED'
  /** The ledger's chain head and the outbox disagree on the event at the same seq. */
  | 'CHAIN_DIVERGED'
  /** Bad arguments or options given to the SDK. */
  | 'INVALID_ARGUMENT'
  /** The outbox (or the Emitter using it) is closed. */
  | 'CLOSED';

/** Own codes, or any code the ledger answers with (see the standalone service's error contract). */
export type ClientErrorCode = ClientOwnErrorCode | (string & {});

/** Server codes that mean "try again later": the event was not appended. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'OVERLOADED',
  'NOT_WRITER',
  'STORE_FAILED',
  'LEDGER_CLOSED',
  'CLOSING',
  'RATE_LIMITED',
]);

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  /** HTTP status of the ledger's answer, when there was one. */
  readonly status: number | undefined;
  readonly details: Record<string, unknown>;
  constructor(
    code: ClientErrorCode,
    message: string,
    options: { status?: number; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.details = options.details ?? {};
  }

  /** Whether trying again later may succeed (network, 5xx, 429, transient ledger codes). */
  get retryable(): boolean {
    if (this.code === 'NETWORK' || RETRYABLE_CODES.has(this.code)) return true;
    return this.status !== undefined && (this.status >= 500 || this.status === 429);
  }
}

export function isClientError(e: unknown): e is ClientError {
  return e instanceof ClientError;
}
