export type PurposeErrorCode =
  /** A custom purpose breaks its schema (id syntax, label, parents list); `issues` names each field. */
  | 'PURPOSE_INVALID'
  /** A custom purpose names a parent that is neither in the vocabulary nor in the same batch. */
  | 'UNKNOWN_PARENT'
  /** A custom purpose reuses an id that the vocabulary (or the same batch) already has. */
  | 'DUPLICATE_PURPOSE'
  /** Custom purposes whose parents lead back to themselves. */
  | 'PURPOSE_CYCLE';

/** One problem with one custom purpose: which purpose, which field, which rule. */
export interface PurposeIssue {
  purpose: string;
  path: string;
  rule: string;
}

export class PurposeError extends Error {
  override readonly name = 'PurposeError';
  readonly code: PurposeErrorCode;
  /** The purpose the error is about (the first one, when several are). */
  readonly purpose: string;
  readonly issues: PurposeIssue[];
  constructor(code: PurposeErrorCode, issues: PurposeIssue[], options?: { cause?: unknown }) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(
      first ? `${first.purpose}: ${first.path}: ${first.rule}${more}` : code,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.purpose = first?.purpose ?? '';
    this.issues = issues;
  }
}
