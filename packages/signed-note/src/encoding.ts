// Small exact encodings shared by notes and checkpoints. Base64 and key names are
// @civic-ledger/crypto's (key texts use the same rules); this module gives them this
// package's error type.
import { fromBase64 } from '@civic-ledger/crypto';
import { SignedNoteError } from './errors.ts';

export { isValidKeyName, toBase64 as encodeBase64 } from '@civic-ledger/crypto';

/**
 * Bytes of `text`, which must be exact standard base64: alphabet `A-Z a-z 0-9 + /`, padded
 * with `=` to a multiple of 4, no white space, and canonical (unused trailing bits zero), so
 * every byte string has exactly one accepted encoding. The empty string decodes to no bytes.
 * Throws SignedNoteError INVALID_BASE64 otherwise (crypto's RangeError as `cause`).
 */
export function decodeBase64(text: string): Uint8Array {
  try {
    return fromBase64(text);
  } catch (cause) {
    throw new SignedNoteError('INVALID_BASE64', (cause as Error).message, { cause });
  }
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a well-formed string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Text of exact UTF-8 bytes, or undefined when they are not valid UTF-8 (BOM kept). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Index of the first control character other than newline (U+0000–U+001F but U+000A), or -1. */
export function indexOfControl(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return i;
  }
  return -1;
}

/** Whether `n` is an integer in [0, 2^32). */
export function isUint32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** The unsigned key id in the first 4 bytes (big-endian) of `bytes`: a signature's or crypto's keyId. */
export function keyIdOfBytes(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** Key id as the 8 lower-case hex digits used in key texts and messages. */
export function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}
