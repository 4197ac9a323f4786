export type ComplianceErrorCode =
  /** `add` was given a ledger index that is not larger than the previous one. */
  | 'OUT_OF_ORDER'
  /** `add` was given an event hash it already has. */
  | 'DUPLICATE_EVENT'
  /** `evaluate` was asked about an event hash that was never added. */
  | 'UNKNOWN_EVENT'
  /** `toFinding` was given a compliant outcome: only violations, undetermined and overdue outcomes are recorded. */
  | 'NOT_A_FINDING'
  /** A `decide` query or an `overdue` time breaks its schema; `issues` names each field and rule. */
  | 'QUERY_INVALID';

/** One problem in a query: the field path (JSON Pointer) and the rule it breaks. */
export interface ComplianceIssue {
  path: string;
  rule: string;
}

export class ComplianceError extends Error {
  override readonly name = 'ComplianceError';
  readonly code: ComplianceErrorCode;
  readonly issues: ComplianceIssue[];
  constructor(
    code: ComplianceErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: ComplianceIssue[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options?.issues ?? [];
  }
}
