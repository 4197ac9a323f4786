export type LineageErrorCode =
  /** A query object breaks its schema; `issues` names each field and rule. */
  | 'QUERY_INVALID'
  /** A page cursor that this library did not write, or that was altered. */
  | 'CURSOR_INVALID'
  /** A cursor written for another query (start, direction, depth, filters or as-of size). */
  | 'CURSOR_MISMATCH'
  /** `asOf` is larger than the number of leaves the index has read. */
  | 'AS_OF_BEYOND_INDEX'
  /** No event, dataset (version) or source matching the start exists as of the size. */
  | 'NOT_FOUND'
  /** A leaf that does not decode, or whose event lacks a lineage field. */
  | 'LEAF_INVALID'
  /** Leaves must be added in ledger order without gaps (index === size). */
  | 'OUT_OF_ORDER';

/** One problem in a query: the field path (dotted) and the rule it breaks. */
export interface QueryIssue {
  path: string;
  rule: string;
}

export class LineageError extends Error {
  override readonly name = 'LineageError';
  readonly code: LineageErrorCode;
  readonly issues: QueryIssue[];
  constructor(code: LineageErrorCode, message: string, options?: { cause?: unknown; issues?: QueryIssue[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options?.issues ?? [];
  }
}
