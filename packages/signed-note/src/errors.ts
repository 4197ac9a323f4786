// The one error type of this package. Callers (and tests) branch on `code`, a stable
// string literal; `message` is for people and may change.

/** Every failure this package reports, by stable code. */
export type SignedNoteErrorCode =
  /** The note as a whole is not a signed note: not UTF-8, a control character (CR included),
   * no blank line before the signature block, an empty signature block, no final newline,
   * or note text that does not end in a newline. */
  | 'MALFORMED_NOTE'
  /** A line of the signature block is not `— <name> <base64>` with a valid key name and at
   * least 5 decoded bytes, or an existing signature handed to formatNote/signNote is bad. */
  | 'MALFORMED_SIGNATURE_LINE'
  /** Text that must be exact standard base64 (RFC 4648 §4, padded, canonical) is not.
   * Raised directly by decodeBase64; elsewhere it is the `cause` of the container's code. */
  | 'INVALID_BASE64'
  // The five key codes below are also @civic-ledger/crypto's CryptoError codes, for the same
  // failures: verifierFromKeyText / signerFromKeyText rethrow a CryptoError as a
  // SignedNoteError of the same code and message, with the CryptoError as `cause`.
  /** A verifier-key or signer-key text is not of its form (name, key id, base64, length). */
  | 'BAD_KEY_TEXT'
  /** A key text's key id does not match the one computed from its name and public key. */
  | 'KEY_ID_MISMATCH'
  /** A key text names a signature type other than Ed25519 (0x01). */
  | 'UNSUPPORTED_KEY_TYPE'
  /** A signer's key name is empty, not well-formed, or contains Unicode white space, '+' or a
   * control character (crypto's isValidKeyName). */
  | 'INVALID_KEY_NAME'
  /** Key material is unusable: a signer's or verifier's key id is not a uint32. */
  | 'INVALID_KEY'
  /** Two trusted verifiers share a key name and key id and a signature line names them. */
  | 'AMBIGUOUS_KEY'
  /** A signature from a trusted key does not verify: the whole note is rejected. */
  | 'SIGNATURE_INVALID'
  /** No signature from a trusted key is on the note. */
  | 'NO_VERIFIED_SIGNATURE'
  /** A NoteSigner threw or returned something other than a non-empty Uint8Array. */
  | 'SIGNING_FAILED'
  /** The note is larger than the byte limit. */
  | 'TOO_LARGE'
  /** The note has more signature lines than the limit. */
  | 'TOO_MANY_SIGNATURES'
  /** A checkpoint body is not of the tlog-checkpoint form. */
  | 'MALFORMED_CHECKPOINT'
  /** A verified checkpoint is for another origin than the expected one. */
  | 'ORIGIN_MISMATCH';

/** Error thrown by every function of @civic-ledger/signed-note. */
export class SignedNoteError extends Error {
  readonly code: SignedNoteErrorCode;

  constructor(code: SignedNoteErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignedNoteError';
    this.code = code;
  }
}

/** Whether `err` is a SignedNoteError, optionally of the given code. */
export function isSignedNoteError(err: unknown, code?: SignedNoteErrorCode): err is SignedNoteError {
  return err instanceof SignedNoteError && (code === undefined || err.code === code);
}
