export type SchemaErrorCode =
  /** The bytes are not acceptable JSON (syntax, duplicate keys, lone surrogates, ...); see the cause. */
  | 'INVALID_JSON'
  /** The value breaks the schema or a cross-field rule; `issues` names each field and rule. */
  | 'SCHEMA_INVALID'
  /** The value cannot be expressed in canonical JSON (NaN, undefined, lone surrogate, ...). */
  | 'NOT_CANONICALIZABLE'
  /** Canonical event larger than LIMITS.maxEventBytes. */
  | 'EVENT_TOO_LARGE'
  /** Canonical `ext` larger than LIMITS.maxExtBytes. */
  | 'EXT_TOO_LARGE'
  /** Claimed time further ahead of the ledger clock than LIMITS.maxFutureSkewMs. */
  | 'TIME_IN_FUTURE';

/** One problem: the field as a JSON Pointer, the rule it breaks, and the rule's code. */
export interface SchemaIssue {
  path: string;
  rule: string;
  code: string;
}

export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  readonly code: SchemaErrorCode;
  readonly issues: SchemaIssue[];
  constructor(code: SchemaErrorCode, message: string, issues: SchemaIssue[], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.issues = issues;
  }
}
