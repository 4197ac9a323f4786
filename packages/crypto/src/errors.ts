// Failures of @civic-ledger/crypto, by stable code. The key codes are the ones
// @civic-ledger/signed-note reports for the same failures (it wraps a CryptoError into a
// SignedNoteError of the same code, with the CryptoError as `cause`).
export type CryptoErrorCode =
  /** A key name that is empty, not well-formed Unicode, or holds Unicode white space, '+' or
   * a control character (U+0000–U+001F), given to a key constructor or to keyIdOf. */
  | 'INVALID_KEY_NAME'
  /** Key text that is not `name+hexkeyid+base64(type || key)` (or the PRIVATE+KEY+ form):
   * a bad name, key id, base64 or key length in the text. */
  | 'BAD_KEY_TEXT'
  /** A key text whose type byte is not Ed25519 (0x01). */
  | 'UNSUPPORTED_KEY_TYPE'
  /** The key id in the text is not the one derived from its name and key. */
  | 'KEY_ID_MISMATCH'
  /** Unusable key material: a raw key or seed that is not 32 bytes, a KeyObject that is not
   * an Ed25519 key of the right kind, a key type that is not one byte. */
  | 'INVALID_KEY'
  /** A digest of the wrong length. */
  | 'BAD_LENGTH'
  /** A private key file that other users can read. */
  | 'KEY_FILE_PERMISSIONS'
  /** A private key file that would be overwritten. */
  | 'KEY_FILE_EXISTS';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
