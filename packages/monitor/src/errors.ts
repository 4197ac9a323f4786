// The one error type of this package, for what stops the monitor from working (bad
// configuration, an unreadable state or evidence file, a server that cannot be read).
// What the monitor finds wrong with the log is never thrown: it is an Alert (alerts.ts).

export type MonitorErrorCode =
  /** An option is missing or wrong (`details.option` names it). */
  | 'INVALID_CONFIG'
  /** The state file is not JSON of the state schema (`details.path`, `details.field`). */
  | 'STATE_INVALID'
  /** The state file belongs to another log (another origin). */
  | 'STATE_MISMATCH'
  /** An evidence input (bundle, signed event, receipts file) cannot be read or parsed. */
  | 'EVIDENCE_INVALID'
  /** A request could not be sent or answered (network, timeout). */
  | 'HTTP_NETWORK'
  /** A server answered an unexpected status (`details.status`, `details.code`). */
  | 'HTTP_STATUS'
  /** A server answered a body that is not what its API promises. */
  | 'HTTP_BODY'
  /** pollOnce was called while another poll was running, or after close(). */
  | 'BUSY';

export class MonitorError extends Error {
  override readonly name = 'MonitorError';
  readonly code: MonitorErrorCode;
  readonly details: Record<string, unknown>;
  constructor(
    code: MonitorErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export function isMonitorError(e: unknown): e is MonitorError {
  return e instanceof MonitorError;
}
