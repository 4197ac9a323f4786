import type { SchemaErrorCode } from '@civic-ledger/schemas';

/** Why a submission was refused. Stable: HTTP statuses and clients map these. */
export type LedgerErrorCode =
  | SchemaErrorCode
  /** The event names a key that is not registered (at this ledger position). */
  | 'UNKNOWN_KEY'
  /** The key was revoked at an earlier ledger position. */
  | 'KEY_REVOKED'
  /** The signature does not verify with the named key. */
  | 'BAD_SIGNATURE'
  /** The emitter organization is not registered. */
  | 'UNKNOWN_EMITTER'
  /** The emitter may not emit this event (role, namespace). */
  | 'NOT_PERMITTED'
  /** seq skips ahead; details.expectedSeq names the next acceptable seq. */
  | 'CHAIN_GAP'
  /** Another event is already at this seq; details.existingHash names it. */
  | 'CHAIN_FORK'
  /** prev does not name the chain head; details.expectedPrev names it. */
  | 'CHAIN_BAD_PREV'
  /** The organization, resource or key is already registered (or already revoked). */
  | 'ALREADY_REGISTERED'
  /** An input hash is not in the log. */
  | 'UNKNOWN_INPUT'
  /** The subject of a registration or key event does not exist. */
  | 'UNKNOWN_SUBJECT'
  /** A declaration's custom purpose has an unknown parent, forms a cycle, or redefines one. */
  | 'PURPOSE_INVALID'
  /** Another event of an all-or-nothing batch was refused, so this one was not appended. */
  | 'BATCH_REFUSED'
  /** Too much queued work; retry later. */
  | 'OVERLOADED'
  /** This process is no longer the log's writer (another took over). */
  | 'NOT_WRITER'
  /** The store failed; nothing of the batch was written. */
  | 'STORE_FAILED'
  | 'LEDGER_CLOSED'
  /** The stored log does not match its own derivation (rebuild found a different root). */
  | 'CORRUPT';

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  readonly code: LedgerErrorCode;
  readonly details: Record<string, unknown>;
  constructor(
    code: LedgerErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}
