// Note signers and verifiers: the abstractions signNote and openNote work with, and their
// Ed25519 adapters over @civic-ledger/crypto keys. Key material, key names, key ids and the
// key texts of Go's golang.org/x/mod/sumdb/note package are @civic-ledger/crypto's; this
// module adapts them and reports crypto's key failures as SignedNoteErrors.
import {
  CryptoError,
  formatVerifierKey,
  parseSigningKey,
  parseVerifierKey,
  signRaw,
  verifyRaw,
} from '@civic-ledger/crypto';
import type { CryptoErrorCode, SigningKey, VerifierKey } from '@civic-ledger/crypto';
import { SignedNoteError } from './errors.ts';
import type { SignedNoteErrorCode } from './errors.ts';
import { keyIdOfBytes } from './encoding.ts';

/** Something that signs note texts with one key. */
export interface NoteSigner {
  /** Key name written in the signature line. */
  readonly name: string;
  /** 32-bit key id (unsigned), written big-endian before the signature. */
  readonly keyId: number;
  /** Signature of `message` (the UTF-8 note text, final newline included). */
  sign(message: Uint8Array): Uint8Array;
}

/** Something that checks note signatures of one key. */
export interface NoteVerifier {
  readonly name: string;
  /** 32-bit key id (unsigned). */
  readonly keyId: number;
  /** Whether `signature` (key id removed) is a valid signature of `message`. */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** An Ed25519 NoteSigner; `verifierKey` is the matching verifier-key text. */
export interface Ed25519NoteSigner extends NoteSigner {
  readonly verifierKey: string;
}

/** An Ed25519 NoteVerifier; `verifierKey` is its verifier-key text. */
export interface Ed25519NoteVerifier extends NoteVerifier {
  readonly verifierKey: string;
}

/** NoteSigner of a @civic-ledger/crypto signing key. */
export function ed25519Signer(key: SigningKey): Ed25519NoteSigner {
  return Object.freeze({
    name: key.name,
    keyId: keyIdOfBytes(key.keyId),
    verifierKey: formatVerifierKey(key),
    sign: (message: Uint8Array): Uint8Array => signRaw(key, message),
  });
}

/** NoteVerifier of a @civic-ledger/crypto verifier key (of a signing key, only its public half is kept). */
export function ed25519Verifier(key: VerifierKey): Ed25519NoteVerifier {
  const { name, keyId, keyIdHex, publicKey, keyObject } = key;
  const publicHalf: VerifierKey = { name, keyId, keyIdHex, publicKey, keyObject };
  return Object.freeze({
    name,
    keyId: keyIdOfBytes(keyId),
    verifierKey: formatVerifierKey(publicHalf),
    verify: (message: Uint8Array, signature: Uint8Array): boolean =>
      verifyRaw(publicHalf, message, signature),
  });
}

/** The key failures that crypto and this package both report, under the same codes. */
type KeyErrorCode = CryptoErrorCode & SignedNoteErrorCode;
const KEY_ERROR_CODES: ReadonlySet<CryptoErrorCode> = new Set<KeyErrorCode>([
  'BAD_KEY_TEXT',
  'KEY_ID_MISMATCH',
  'UNSUPPORTED_KEY_TYPE',
  'INVALID_KEY_NAME',
  'INVALID_KEY',
]);

function isKeyErrorCode(code: CryptoErrorCode): code is KeyErrorCode {
  return KEY_ERROR_CODES.has(code);
}

// Runs a crypto key parser; its CryptoError becomes a SignedNoteError of the same code.
function parseKeyText<K>(parse: (text: string) => K, text: string): K {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof CryptoError && isKeyErrorCode(err.code)) {
      throw new SignedNoteError(err.code, err.message, { cause: err });
    }
    throw err;
  }
}

/**
 * NoteVerifier from a verifier-key text (crypto's parseVerifierKey). Throws SignedNoteError
 * BAD_KEY_TEXT, KEY_ID_MISMATCH or UNSUPPORTED_KEY_TYPE, with the CryptoError as `cause`.
 */
export function verifierFromKeyText(verifierKey: string): Ed25519NoteVerifier {
  return ed25519Verifier(parseKeyText(parseVerifierKey, verifierKey));
}

/**
 * NoteSigner from a signer-key text (crypto's parseSigningKey). Throws SignedNoteError
 * BAD_KEY_TEXT, UNSUPPORTED_KEY_TYPE or KEY_ID_MISMATCH, with the CryptoError as `cause`.
 */
export function signerFromKeyText(signerKey: string): Ed25519NoteSigner {
  return ed25519Signer(parseKeyText(parseSigningKey, signerKey));
}
