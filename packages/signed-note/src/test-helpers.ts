// Helpers shared by this package's tests (not exported from the package).
import { SignedNoteError } from './errors.ts';
import type { SignedNoteErrorCode } from './errors.ts';

/** The code of the SignedNoteError that `f` throws, or 'NO_ERROR'; rethrows anything else. */
export function codeOf(f: () => unknown): SignedNoteErrorCode | 'NO_ERROR' {
  try {
    f();
  } catch (err) {
    if (err instanceof SignedNoteError) return err.code;
    throw err;
  }
  return 'NO_ERROR';
}

/** The SignedNoteError that `f` throws; fails when it throws nothing or something else. */
export function errorOf(f: () => unknown): SignedNoteError {
  try {
    f();
  } catch (err) {
    if (err instanceof SignedNoteError) return err;
    throw err;
  }
  throw new Error('expected a SignedNoteError');
}

/** The code of the SignedNoteError in `err.cause`, if any. */
export function causeCode(err: SignedNoteError): SignedNoteErrorCode | undefined {
  return err.cause instanceof SignedNoteError ? err.cause.code : undefined;
}
