// Errors of writing bundles and of proof providers. (Verification never throws for what a
// bundle contains: it returns a result naming the failed check.)
export type BundleErrorCode =
  /** Bad options: no events chosen, a malformed hash, an invalid key text... */
  | 'INVALID_OPTIONS'
  /** The target directory exists and is not empty. */
  | 'DIR_NOT_EMPTY'
  /** A chosen event hash is not in the log. */
  | 'EVENT_NOT_FOUND'
  /** A chosen event is not covered by the bundle's checkpoint. */
  | 'NOT_IN_CHECKPOINT'
  /** The provider has no checkpoint of that size, or the source's checkpoint is not one. */
  | 'CHECKPOINT_NOT_FOUND'
  /** The source returned fewer leaves than it claims, a leaf that is not text, or a checkpoint that is not one. */
  | 'SOURCE'
  /** An HTTP request of a provider failed (status, network, body). */
  | 'HTTP';

export class BundleError extends Error {
  override readonly name = 'BundleError';
  readonly code: BundleErrorCode;
  readonly details: Record<string, unknown>;
  constructor(
    code: BundleErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}
