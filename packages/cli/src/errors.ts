// The CLI's failures. Each carries a stable code and the exit code it maps to, so every
// command reports the same way: 0 ok, 1 verification failed, 2 usage, 3 could not run.

export const EXIT = {
  OK: 0,
  /** Something was checked and found wrong (a log, a proof, a receipt, a bundle). */
  VERIFICATION_FAILED: 1,
  /** The command line, the config file or a flag's value is wrong; nothing was checked. */
  USAGE: 2,
  /** The command could not do its job: server unreachable or refusing, file unreadable. */
  FAILED: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type CliErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'LOG_KEY_MISSING'
  | 'VERIFICATION_FAILED'
  | 'SERVER_ERROR'
  | 'IO_ERROR'
  | 'REFUSED';

const EXIT_OF: Record<CliErrorCode, ExitCode> = {
  USAGE: EXIT.USAGE,
  CONFIG_INVALID: EXIT.USAGE,
  LOG_KEY_MISSING: EXIT.USAGE,
  VERIFICATION_FAILED: EXIT.VERIFICATION_FAILED,
  SERVER_ERROR: EXIT.FAILED,
  IO_ERROR: EXIT.FAILED,
  REFUSED: EXIT.FAILED,
};

export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  readonly exitCode: ExitCode;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = EXIT_OF[code];
  }
}

/** A usage error: the message names the flag and the rule. */
export function usage(message: string): CliError {
  return new CliError('USAGE', message);
}

/** An error's message with the codes of its causes (`fetch failed (ECONNREFUSED)`). */
export function describe(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const codes: string[] = [];
  let cause = e instanceof Error ? e.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && !message.includes(code)) codes.push(code);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return codes.length ? `${message} (${codes.join(', ')})` : message;
}
