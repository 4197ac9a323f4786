// Every failure of this package is an AccessError with a stable code; the HTTP layer maps
// the token codes to 401/403 and the access-log codes to 500, tests assert on `code`.

export type AccessErrorCode =
  /** A non-public route was asked for without a bearer token (401). */
  | 'TOKEN_REQUIRED'
  /** The token failed a check: `details.reason` says which (401). */
  | 'TOKEN_INVALID'
  /** The token is valid but its scope does not cover the route (403). */
  | 'SCOPE_INSUFFICIENT'
  /** Issuing a token with a wrong organization id, scope, lifetime or origin. */
  | 'TOKEN_OPTIONS_INVALID'
  /** An access-log record is malformed or the hash chain is broken (`details.seq`, `details.reason`). */
  | 'ACCESS_LOG_INVALID'
  /** The access log could not be written or read (the read it records is refused). */
  | 'ACCESS_LOG_FAILED';

/** Why a token was refused: one stable word per check. */
export type TokenInvalidReason =
  | 'malformed'
  | 'too-large'
  | 'type'
  | 'algorithm'
  | 'unknown-key'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'lifetime'
  | 'unknown-organization'
  | 'scope-not-allowed';

export class AccessError extends Error {
  override readonly name = 'AccessError';
  readonly code: AccessErrorCode;
  readonly details: Record<string, unknown>;
  constructor(
    code: AccessErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
  }
}

export function tokenInvalid(
  reason: TokenInvalidReason,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): AccessError {
  return new AccessError('TOKEN_INVALID', message, { reason, ...details }, { cause });
}
