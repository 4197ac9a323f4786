// Errors of the compliance runner. HTTP routes answer in the API's own contract (ApiError of
// @civic-ledger/ledger-http); these are the library's.

export type ComplianceRunnerErrorCode =
  /** An option of `ComplianceRunner.open` breaks its rule (`issues` names each). */
  | 'OPTIONS_INVALID'
  /** The runner was closed: no more catch-ups, retention runs or submissions. */
  | 'CLOSED';

export class ComplianceRunnerError extends Error {
  override readonly name = 'ComplianceRunnerError';
  readonly code: ComplianceRunnerErrorCode;
  readonly issues: { path: string; rule: string }[];
  constructor(
    code: ComplianceRunnerErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: { path: string; rule: string }[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options?.issues ?? [];
  }
}

/**
 * How the runner treats a refused finding submission, by the refusal's code (the ledger's
 * codes; `TIMEOUT` and `SUBMIT_FAILED` are the runner's own for an unanswered or thrown
 * submit). `drop`: the finding itself can never be accepted (a bug: it is counted and
 * reported, the queue goes on); `resign`: the findings chain moved under us (another writer,
 * or a lost predecessor): read its head again and sign the rest anew; `retry`: anything else
 * (the ledger busy or closing, the broker down, the compliance key not registered yet): the
 * same signed events again after a pause, so one that did land is answered as a duplicate.
 */
export function refusalAction(code: string): 'drop' | 'resign' | 'retry' {
  switch (code) {
    case 'INVALID_JSON':
    case 'SCHEMA_INVALID':
    case 'NOT_CANONICALIZABLE':
    case 'EVENT_TOO_LARGE':
    case 'EXT_TOO_LARGE':
      return 'drop';
    case 'CHAIN_GAP':
    case 'CHAIN_BAD_PREV':
    case 'CHAIN_FORK':
      return 'resign';
    default:
      return 'retry';
  }
}
