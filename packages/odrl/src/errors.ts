export type OdrlErrorCode =
  /** The declaration breaks the `declaration` schema or a cross-field rule; `issues` names each field. */
  | 'DECLARATION_INVALID'
  /** An export option is out of range (a hash, an organization id, a base that is not an absolute IRI). */
  | 'OPTION_INVALID'
  /** The injected `purposeIri` answered something that is not an absolute IRI. */
  | 'PURPOSE_IRI_INVALID'
  /** The local document loader was asked for a URL it does not ship: nothing is ever fetched. */
  | 'CONTEXT_NOT_LOCAL';

/** One problem: the field as a JSON Pointer (from the declaration, or the event), and the rule. */
export interface OdrlIssue {
  path: string;
  rule: string;
}

export class OdrlError extends Error {
  override readonly name = 'OdrlError';
  readonly code: OdrlErrorCode;
  /** The offending field: a JSON Pointer into the input (`/recipients/0`), an option name, or `url`. */
  readonly field: string;
  /** Every problem found (DECLARATION_INVALID lists them all; the others hold one). */
  readonly issues: OdrlIssue[];
  constructor(
    code: OdrlErrorCode,
    field: string,
    rule: string,
    options?: { cause?: unknown; issues?: OdrlIssue[] },
  ) {
    const issues = options?.issues ?? [{ path: field, rule }];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(`${field}: ${rule}${more}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = field;
    this.issues = issues;
  }
}
