export type OpenLineageIngestErrorCode =
  /** The body is not an OpenLineage 2-0-2 event (RunEvent, DatasetEvent or JobEvent) or a facet is invalid. */
  | 'RUN_EVENT_INVALID'
  /** No bearer token, or one no pipeline is registered with. */
  | 'UNAUTHORIZED'
  /** Too many events from one pipeline. */
  | 'RATE_LIMITED'
  /** A dataset name does not normalise to a Civic Ledger dataset id: map it explicitly. */
  | 'DATASET_UNMAPPABLE'
  /** The COMPLETE run names no input dataset (a derive needs at least one input). */
  | 'NO_INPUTS'
  /** An input dataset has no movement in the ledger to derive from. */
  | 'UNKNOWN_INPUT_DATASET'
  /** More than the ledger's limit of 64 inputs or 16 outputs. */
  | 'TOO_MANY_DATASETS'
  /** A pipeline registration or converter mapping is invalid. */
  | 'MAPPING_INVALID'
  /** The ledger refused the derive event (details.ledgerCode says why). */
  | 'LEDGER_REFUSED';

const STATUS: Record<OpenLineageIngestErrorCode, number> = {
  RUN_EVENT_INVALID: 400,
  UNAUTHORIZED: 401,
  RATE_LIMITED: 429,
  DATASET_UNMAPPABLE: 422,
  NO_INPUTS: 422,
  UNKNOWN_INPUT_DATASET: 422,
  TOO_MANY_DATASETS: 422,
  MAPPING_INVALID: 500,
  LEDGER_REFUSED: 502,
};

/** One failing rule: a JSON pointer into the event, the rule, and the schema keyword or check. */
export interface IngestIssue {
  path: string;
  rule: string;
  code: string;
  /** Where in the schema the rule is (for schema failures). */
  schemaPath?: string;
}

export class OpenLineageIngestError extends Error {
  override readonly name = 'OpenLineageIngestError';
  readonly code: OpenLineageIngestErrorCode;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(
    code: OpenLineageIngestErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown; headers?: Record<string, string>; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
    this.headers = options?.headers ?? {};
    this.#status = options?.status;
  }

  readonly #status: number | undefined;

  /** The code's status; LEDGER_REFUSED answers the ledger's own status for its code. */
  get statusCode(): number {
    return this.#status ?? STATUS[this.code];
  }
}
