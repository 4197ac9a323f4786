export type CryptoErrorCode =
  /** A key name that C2SP signed-note forbids (empty, whitespace, '+') or our syntax refuses. */
  | 'BAD_KEY_NAME'
  /** Key text that is not `name+hexkeyid+base64(type || key)` (or the PRIVATE+KEY+ form). */
  | 'BAD_KEY_TEXT'
  /** A key type byte other than Ed25519 (0x01). */
  | 'UNSUPPORTED_KEY_TYPE'
  /** The key id in the text is not the one derived from its name and key. */
  | 'KEY_ID_MISMATCH'
  /** A digest or signature of the wrong length. */
  | 'BAD_LENGTH'
  /** A private key file that other users can read, or one that would be overwritten. */
  | 'KEY_FILE_PERMISSIONS'
  | 'KEY_FILE_EXISTS';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
