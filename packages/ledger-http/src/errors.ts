// The service's one error contract: every failure answers `{ code, message, details }` with a
// status that depends only on the code. Ledger codes come from @civic-ledger/ledger-core;
// the HTTP-only codes are this service's.
import type { LedgerErrorCode } from '@civic-ledger/ledger-core';

export type HttpErrorCode =
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'CLOSING'
  | 'BROKER_UNAVAILABLE'
  | 'TOKEN_REQUIRED'
  | 'TOKEN_INVALID'
  | 'SCOPE_INSUFFICIENT'
  | 'ACCESS_LOG_FAILED'
  | 'INTERNAL';

export type ApiErrorCode = LedgerErrorCode | HttpErrorCode;

const STATUS: Record<ApiErrorCode, number> = {
  INVALID_JSON: 400,
  SCHEMA_INVALID: 400,
  NOT_CANONICALIZABLE: 400,
  TIME_IN_FUTURE: 400,
  BAD_REQUEST: 400,
  UNKNOWN_KEY: 401,
  TOKEN_REQUIRED: 401,
  TOKEN_INVALID: 401,
  KEY_REVOKED: 401,
  BAD_SIGNATURE: 401,
  UNKNOWN_EMITTER: 403,
  NOT_PERMITTED: 403,
  SCOPE_INSUFFICIENT: 403,
  NOT_FOUND: 404,
  CHAIN_GAP: 409,
  CHAIN_FORK: 409,
  CHAIN_BAD_PREV: 409,
  ALREADY_REGISTERED: 409,
  BATCH_REFUSED: 409,
  EVENT_TOO_LARGE: 413,
  EXT_TOO_LARGE: 413,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNKNOWN_INPUT: 422,
  UNKNOWN_SUBJECT: 422,
  PURPOSE_INVALID: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  ACCESS_LOG_FAILED: 500,
  CORRUPT: 500,
  NOT_WRITER: 503,
  OVERLOADED: 503,
  STORE_FAILED: 503,
  LEDGER_CLOSED: 503,
  CLOSING: 503,
  BROKER_UNAVAILABLE: 503,
};

/** HTTP status of an error code (500 for a code this table does not know). */
export function statusOf(code: string): number {
  return (STATUS as Record<string, number>)[code] ?? 500;
}

/** An error the service answers as `{ code, message, details }` with the code's status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(
    code: ApiErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
    this.headers = options?.headers ?? {};
  }

  get statusCode(): number {
    return statusOf(this.code);
  }
}
