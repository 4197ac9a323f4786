// Errors of the lineage routes, answered in the API's contract `{ code, message, details }`.
// The lineage library's own codes keep their names; QUERY_INVALID becomes SCHEMA_INVALID,
// the code every other route answers for a bad parameter, with the parameter named.
import type { LineageError } from '@civic-ledger/lineage';

export type LineageHttpErrorCode =
  | 'SCHEMA_INVALID'
  | 'CURSOR_INVALID'
  | 'CURSOR_MISMATCH'
  | 'AS_OF_BEYOND_INDEX'
  | 'NOT_FOUND'
  | 'CHECKPOINT_NOT_FOUND'
  | 'INTERNAL';

const STATUS: Record<LineageHttpErrorCode, number> = {
  SCHEMA_INVALID: 400,
  CURSOR_INVALID: 400,
  AS_OF_BEYOND_INDEX: 400,
  NOT_FOUND: 404,
  CURSOR_MISMATCH: 409,
  CHECKPOINT_NOT_FOUND: 409,
  INTERNAL: 500,
};

export class LineageHttpError extends Error {
  override readonly name = 'LineageHttpError';
  readonly code: LineageHttpErrorCode;
  readonly details: Record<string, unknown>;
  constructor(
    code: LineageHttpErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
  }

  get statusCode(): number {
    return STATUS[this.code];
  }
}

/** Query parameter of each field path of the library's query objects. */
const PARAMS: ReadonlyArray<[RegExp, string]> = [
  [/^from\.(event|dataset|version|source)$/, '$1'],
  [/^from$/, 'event,dataset,source'],
  [/^filters\.purposes(\.\d+)?$/, 'purpose'],
  [/^filters\.organizations(\.\d+)?$/, 'organization'],
  [/^filters\.types(\.\d+)?$/, 'type'],
  [/^filters\.(from|until)$/, '$1'],
  [/^page\.limit$/, 'limit'],
  [/^page\.cursor$/, 'cursor'],
];

/** The query parameter a library field path stands for (`filters.purposes.0` -> `purpose`). */
export function paramOf(path: string): string {
  for (const [re, name] of PARAMS) if (re.test(path)) return path.replace(re, name);
  return path;
}

/** A LineageError as the error the route answers. */
export function fromLineageError(e: LineageError): LineageHttpError {
  if (e.code === 'QUERY_INVALID') {
    const issues = e.issues.map((i) => ({ path: `/${paramOf(i.path)}`, rule: i.rule }));
    const first = issues[0] ?? { path: '/', rule: e.message };
    return new LineageHttpError('SCHEMA_INVALID', `querystring ${first.path}: ${first.rule}`, {
      in: 'querystring',
      issues,
    });
  }
  if (e.code === 'LEAF_INVALID' || e.code === 'OUT_OF_ORDER')
    return new LineageHttpError('INTERNAL', 'the lineage index could not read the log', {}, { cause: e });
  return new LineageHttpError(e.code, e.message);
}
