// The one error type of this package. Callers (and tests) branch on `code`, a stable string
// literal; `message` is for people and may change. `details` carries what a caller needs to
// act (a policy line number, an HTTP status, a witness's latest size).

/** Every failure this package throws, by stable code. */
export type WitnessErrorCode =
  // ---- cosigner keys and cosignatures (c2sp.org/tlog-cosignature)
  /** A cosigner verifier-key text is not `<name>+<8 hex key id>+<base64(0x04 || 32-byte key)>`. */
  | 'BAD_KEY_TEXT'
  /** A key text's key id is not SHA-256(name || 0x0A || type || key)[:4]. */
  | 'KEY_ID_MISMATCH'
  /** A key text of another signature type than the one expected (0x04 for witnesses, 0x01 for logs). */
  | 'UNSUPPORTED_KEY_TYPE'
  /** A cosigner name that is not a valid note key name. */
  | 'INVALID_KEY_NAME'
  /** A timestamp to cosign with that is not an integer in [0, 2^53 - 1] seconds. */
  | 'INVALID_TIMESTAMP'
  /** A cosignature that is not keyid(4) || timestamp(8) || Ed25519 signature(64), or whose
   * timestamp is at or above 2^63 (or beyond 2^53 - 1, which JavaScript cannot hold exactly). */
  | 'MALFORMED_COSIGNATURE'
  /** A cosignature from a known witness key that does not verify. */
  | 'COSIGNATURE_INVALID'
  /** A cosignature from a known witness timestamped further in the future than allowed. */
  | 'COSIGNATURE_FROM_FUTURE'
  /** A text to cosign that is not a checkpoint body. */
  | 'MALFORMED_CHECKPOINT'
  // ---- policies (c2sp.org/tlog-policy); `details.line` is the 1-based line
  /** A byte or character the policy format does not allow (control characters other than tab
   * and newline, DEL, invalid UTF-8). */
  | 'POLICY_CHARACTER'
  /** More bytes, logs, witnesses or groups than this implementation accepts. */
  | 'POLICY_TOO_LARGE'
  /** A line that does not start with log, witness, group or quorum. */
  | 'POLICY_UNKNOWN_KEYWORD'
  /** A line with the wrong number of items. */
  | 'POLICY_ARGUMENTS'
  /** A key that does not parse, or of the wrong signature type for its role. */
  | 'POLICY_BAD_KEY'
  /** A URL that is not an absolute http(s) URL. */
  | 'POLICY_BAD_URL'
  /** Two log or witness lines wrapping the same public key. */
  | 'POLICY_DUPLICATE_KEY'
  /** A witness or group name defined twice (witnesses and groups share one namespace). */
  | 'POLICY_DUPLICATE_NAME'
  /** Defining the predefined name `none`, or listing it as a group member. */
  | 'POLICY_RESERVED_NAME'
  /** A group member or quorum naming nothing defined on a preceding line. */
  | 'POLICY_UNDEFINED_NAME'
  /** A group threshold that is not all, any or a decimal k with 1 <= k <= n. */
  | 'POLICY_BAD_THRESHOLD'
  /** A name listed as a group member more than once in the whole policy. */
  | 'POLICY_DUPLICATE_MEMBER'
  /** No quorum line (when one is required). */
  | 'POLICY_QUORUM_MISSING'
  /** More than one quorum line. */
  | 'POLICY_QUORUM_REPEATED'
  // ---- checking a cosigned checkpoint against a policy
  /** The checkpoint note is not a signed note with a checkpoint body. */
  | 'MALFORMED_NOTE'
  /** The policy lists no log for the checkpoint's origin. */
  | 'UNKNOWN_LOG'
  /** No signature of the origin's log key on the note. */
  | 'LOG_SIGNATURE_MISSING'
  /** A signature of the origin's log key does not verify. */
  | 'LOG_SIGNATURE_INVALID'
  /** The cosignatures that verified do not satisfy the policy's quorum. */
  | 'QUORUM_NOT_MET'
  // ---- the add-checkpoint request format and the client
  /** An add-checkpoint request body that is not of the tlog-witness form. */
  | 'MALFORMED_REQUEST'
  /** The witness did not answer within the timeout. */
  | 'WITNESS_TIMEOUT'
  /** The witness could not be reached (connection refused, DNS, TLS). */
  | 'WITNESS_UNREACHABLE'
  /** The witness answered with a status other than 200 or 409 (`details.status`, `details.body`). */
  | 'WITNESS_REFUSED'
  /** The witness answered 200 or 409 with a body that is not what the protocol says. */
  | 'WITNESS_BAD_RESPONSE'
  // ---- the witness itself
  /** Witness options that cannot work (no logs, a log key of the wrong type, ...). */
  | 'INVALID_CONFIG'
  /** A row of the witness database that does not hold what the witness wrote. */
  | 'STORE_CORRUPT';

/** Error thrown by every function of @civic-ledger/witness. */
export class WitnessError extends Error {
  override readonly name = 'WitnessError';
  readonly code: WitnessErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: WitnessErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/** Whether `err` is a WitnessError, optionally of the given code. */
export function isWitnessError(err: unknown, code?: WitnessErrorCode): err is WitnessError {
  return err instanceof WitnessError && (code === undefined || err.code === code);
}

/**
 * Why a witness refused an add-checkpoint request, and the HTTP status the tlog-witness
 * protocol gives it. Returned (not thrown) by Witness.addCheckpoint.
 */
export const REFUSAL_STATUS = {
  /** The body is not `old <size>`, proof lines, a blank line and a signed checkpoint. */
  MALFORMED_REQUEST: 400,
  /** The old size is larger than the checkpoint's size. */
  OLD_SIZE_TOO_LARGE: 400,
  /** No trusted signature of the origin's log on the checkpoint. */
  LOG_SIGNATURE_MISSING: 403,
  /** A signature of the origin's log key does not verify. */
  LOG_SIGNATURE_INVALID: 403,
  /** The witness knows no log of that origin. */
  UNKNOWN_ORIGIN: 404,
  /** The old size is not the size of the latest checkpoint the witness cosigned (body: that size). */
  OLD_SIZE_MISMATCH: 409,
  /** Same size as the witness's latest checkpoint, different root hash: a fork (body: the size). */
  ROOT_MISMATCH: 409,
  /** The consistency proof does not prove the checkpoint extends the witness's latest one. */
  BAD_CONSISTENCY_PROOF: 422,
} as const;

export type RefusalCode = keyof typeof REFUSAL_STATUS;
