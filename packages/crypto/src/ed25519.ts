// Ed25519 keys, key names, key ids, key texts and domain-separated signatures on
// node:crypto (OpenSSL). This module is the one owner of key material in the repository;
// @civic-ledger/signed-note builds its note signers and verifiers on these keys.
//
// Key text follows C2SP signed-note (https://c2sp.org/signed-note) and Go's
// golang.org/x/mod/sumdb/note, so the same key can sign our events and our checkpoints and
// every tool in that ecosystem reads it:
//   public:  <name>+<hex key id>+<base64(0x01 || 32-byte public key)>
//   private: PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>
// key id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
import {
  KeyObject,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { fromBase64, toBase64 } from './base64.ts';
import { CryptoError } from './errors.ts';
import { sha256Parts } from './hash.ts';
import { toHex } from './portable.ts';

/** Signature type byte of Ed25519 keys in key texts and key ids. */
export const ED25519_TYPE = 0x01;

/**
 * Fixed context strings that prefix every signed message, so a signature made for one
 * purpose can never be replayed as another, nor in another protocol. The NUL ends the
 * context so no context is a prefix of another's message.
 */
export const SIGNATURE_CONTEXTS = {
  /** An emitter's signature over an event hash. */
  event: 'Civic Ledger v1 event signature\0',
  /** The log's signature over a receipt hash. */
  receipt: 'Civic Ledger v1 admission receipt\0',
  /** A gateway or oversight body's attestation over a hash. */
  attestation: 'Civic Ledger v1 attestation\0',
} as const;
export type SignaturePurpose = keyof typeof SIGNATURE_CONTEXTS;

const CONTEXT_BYTES: Record<SignaturePurpose, Buffer> = {
  event: Buffer.from(SIGNATURE_CONTEXTS.event, 'utf8'),
  receipt: Buffer.from(SIGNATURE_CONTEXTS.receipt, 'utf8'),
  attestation: Buffer.from(SIGNATURE_CONTEXTS.attestation, 'utf8'),
};

/** The exact bytes signed for `purpose` over a 32-byte digest. */
export function signedMessage(purpose: SignaturePurpose, digest: Uint8Array): Buffer {
  if (digest.length !== 32)
    throw new CryptoError('BAD_LENGTH', `digest must be 32 bytes, got ${digest.length}`);
  return Buffer.concat([CONTEXT_BYTES[purpose], digest]);
}

// --- Key names and key ids --------------------------------------------------------------

const WHITE_SPACE = /\p{White_Space}/u;

/**
 * Whether `name` may name a key: non-empty, well-formed Unicode, no Unicode white space (the
 * White_Space property, as Go's unicode.IsSpace) and no '+' (Go's note.isValidName), and no
 * control character U+0000–U+001F: Go allows those, but a signed note may not contain them,
 * so such a key could never sign a valid note. Our own ledger keys are narrower still
 * (`<organization>/<label>`, see KEY_NAME in @civic-ledger/schemas).
 */
export function isValidKeyName(name: string): boolean {
  if (typeof name !== 'string' || name === '' || !name.isWellFormed()) return false;
  if (WHITE_SPACE.test(name) || name.includes('+')) return false;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) < 0x20) return false;
  return true;
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new CryptoError(
      'INVALID_KEY_NAME',
      `invalid key name ${JSON.stringify(name)}: it must be non-empty, without white space, '+' or control characters`,
    );
  }
}

/**
 * The key id of a key named `name`: SHA-256(name || "\n" || type || public key)[0:4], 4 bytes
 * (big-endian when read as a number). `keyType` defaults to Ed25519; another type byte only
 * serves to check key texts of other algorithms. Throws INVALID_KEY_NAME, INVALID_KEY.
 */
export function keyIdOf(name: string, publicKey: Uint8Array, keyType = ED25519_TYPE): Uint8Array {
  checkName(name);
  if (!Number.isInteger(keyType) || keyType < 0 || keyType > 255)
    throw new CryptoError('INVALID_KEY', `key type ${keyType} is not one byte`);
  return sha256Parts(Buffer.from(name, 'utf8'), Uint8Array.of(0x0a, keyType), publicKey).slice(0, 4);
}

// --- Keys -------------------------------------------------------------------------------

export interface VerifierKey {
  readonly name: string;
  /** 4-byte key id, as C2SP signed-note derives it. */
  readonly keyId: Uint8Array;
  /** The key id as 8 lower-case hex digits, as in key texts. */
  readonly keyIdHex: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Prebuilt node:crypto key, so verification never re-parses the key. */
  readonly keyObject: KeyObject;
}

export interface SigningKey extends VerifierKey {
  /** The private key; its seed leaves it only through formatSigningKey. */
  readonly privateKeyObject: KeyObject;
}

// DER prefixes that wrap a raw 32-byte Ed25519 key as SPKI / PKCS#8 (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function publicKeyObjectOf(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32)
    throw new CryptoError('INVALID_KEY', `an Ed25519 public key is 32 bytes, got ${publicKey.length}`);
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new CryptoError('INVALID_KEY', 'not an Ed25519 public key', { cause });
  }
}

function privateKeyObjectOf(seed: Uint8Array): KeyObject {
  if (seed.length !== 32)
    throw new CryptoError('INVALID_KEY', `an Ed25519 seed is 32 bytes, got ${seed.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(publicKeyObject: KeyObject): Uint8Array {
  return publicKeyObject.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

function rawSeed(privateKeyObject: KeyObject): Uint8Array {
  const der = privateKeyObject.export({ format: 'der', type: 'pkcs8' });
  if (der.length !== PKCS8_PREFIX.length + 32 || !der.subarray(0, PKCS8_PREFIX.length).equals(PKCS8_PREFIX)) {
    throw new CryptoError('INVALID_KEY', 'unexpected Ed25519 PKCS#8 encoding');
  }
  return der.subarray(PKCS8_PREFIX.length);
}

function requireEd25519(key: unknown, kind: 'private' | 'public or private'): asserts key is KeyObject {
  if (!(key instanceof KeyObject) || key.asymmetricKeyType !== 'ed25519') {
    throw new CryptoError('INVALID_KEY', 'not an Ed25519 KeyObject');
  }
  if (kind === 'private' && key.type !== 'private') {
    throw new CryptoError('INVALID_KEY', `expected an Ed25519 private key, got a ${key.type} key`);
  }
}

// Callers have checked the name.
function verifierKey(name: string, publicKey: Uint8Array, keyObject: KeyObject): VerifierKey {
  const keyId = keyIdOf(name, publicKey);
  return { name, keyId, keyIdHex: toHex(keyId), publicKey: Uint8Array.from(publicKey), keyObject };
}

function signingKey(name: string, privateKeyObject: KeyObject): SigningKey {
  const publicKeyObject = createPublicKey(privateKeyObject);
  return { ...verifierKey(name, rawPublicKey(publicKeyObject), publicKeyObject), privateKeyObject };
}

/** A verifier key from a raw 32-byte public key. Throws INVALID_KEY_NAME, INVALID_KEY. */
export function verifierKeyFromRaw(name: string, publicKey: Uint8Array): VerifierKey {
  checkName(name);
  return verifierKey(name, publicKey, publicKeyObjectOf(publicKey));
}

/** A signing key from a raw 32-byte seed (the Ed25519 private key). Throws INVALID_KEY_NAME, INVALID_KEY. */
export function signingKeyFromSeed(name: string, seed: Uint8Array): SigningKey {
  checkName(name);
  return signingKey(name, privateKeyObjectOf(seed));
}

/**
 * A verifier key from an Ed25519 KeyObject: a public key, or a private key whose public
 * half is used. Throws INVALID_KEY_NAME, INVALID_KEY (another key type).
 */
export function verifierKeyFromKeyObject(name: string, key: KeyObject): VerifierKey {
  checkName(name);
  requireEd25519(key, 'public or private');
  const publicKeyObject = key.type === 'private' ? createPublicKey(key) : key;
  return verifierKey(name, rawPublicKey(publicKeyObject), publicKeyObject);
}

/** A signing key from an Ed25519 private KeyObject. Throws INVALID_KEY_NAME, INVALID_KEY. */
export function signingKeyFromKeyObject(name: string, privateKey: KeyObject): SigningKey {
  checkName(name);
  requireEd25519(privateKey, 'private');
  return signingKey(name, privateKey);
}

/** A fresh signing key named `name`. Throws INVALID_KEY_NAME. */
export function generateSigningKey(name: string): SigningKey {
  checkName(name);
  return signingKey(name, generateKeyPairSync('ed25519').privateKey);
}

// --- Key texts --------------------------------------------------------------------------

const PRIVATE_PREFIX = 'PRIVATE+KEY+';
const KEY_ID_HEX = /^[0-9a-f]{8}$/;

/** `name+hexkeyid+base64(0x01 || public key)` (C2SP signed-note verifier key). */
export function formatVerifierKey(key: VerifierKey): string {
  return `${key.name}+${key.keyIdHex}+${toBase64(Buffer.concat([Uint8Array.of(ED25519_TYPE), key.publicKey]))}`;
}

/** `PRIVATE+KEY+name+hexkeyid+base64(0x01 || seed)` (C2SP signed-note signer key). Secret: never log it. */
export function formatSigningKey(key: SigningKey): string {
  const seed = rawSeed(key.privateKeyObject);
  return `${PRIVATE_PREFIX}${key.name}+${key.keyIdHex}+${toBase64(Buffer.concat([Uint8Array.of(ED25519_TYPE), seed]))}`;
}

// The `<name>+<hex key id>+<base64(type || key)>` of both texts, checked for form only.
function splitKeyText(
  text: string,
  what: string,
): { name: string; idHex: string; keyType: number; key: Uint8Array } {
  // Base64 may itself contain '+': split at the first two only, as Go's note package does.
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw new CryptoError('BAD_KEY_TEXT', `${what} must be name+hexkeyid+base64key`);
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  if (!isValidKeyName(name))
    throw new CryptoError('BAD_KEY_TEXT', `${what}: invalid key name ${JSON.stringify(name)}`);
  // Go also accepts upper-case hex; we write and accept lower case only.
  if (!KEY_ID_HEX.test(idHex))
    throw new CryptoError('BAD_KEY_TEXT', `${what}: key id must be 8 lower-case hex digits`);
  let raw: Uint8Array;
  try {
    raw = fromBase64(text.slice(second + 1));
  } catch (cause) {
    throw new CryptoError('BAD_KEY_TEXT', `${what}: key is not exact base64`, { cause });
  }
  if (raw.length === 0) throw new CryptoError('BAD_KEY_TEXT', `${what}: no key data`);
  return { name, idHex, keyType: raw[0]!, key: raw.subarray(1) };
}

/**
 * Parses verifier-key text, exactly (no surrounding white space). Checks in the order of Go's
 * note.NewVerifier: form (BAD_KEY_TEXT), key id over type and key (KEY_ID_MISMATCH), type
 * (UNSUPPORTED_KEY_TYPE), length (BAD_KEY_TEXT).
 */
export function parseVerifierKey(text: string): VerifierKey {
  if (typeof text !== 'string') throw new CryptoError('BAD_KEY_TEXT', 'verifier key must be a string');
  const { name, idHex, keyType, key } = splitKeyText(text, 'verifier key');
  const computed = toHex(keyIdOf(name, key, keyType));
  if (computed !== idHex) {
    throw new CryptoError(
      'KEY_ID_MISMATCH',
      `verifier key id ${idHex} does not match its name and key (${computed})`,
    );
  }
  if (keyType !== ED25519_TYPE) {
    throw new CryptoError(
      'UNSUPPORTED_KEY_TYPE',
      `verifier key: key type ${keyType} is not Ed25519 (type 0x01), the only one supported`,
    );
  }
  if (key.length !== 32) throw new CryptoError('BAD_KEY_TEXT', 'verifier key: an Ed25519 key is 32 bytes');
  return verifierKeyFromRaw(name, key);
}

/**
 * Parses signer-key text, exactly (no surrounding white space). Checks in the order of Go's
 * note.NewSigner: form (BAD_KEY_TEXT), type (UNSUPPORTED_KEY_TYPE), length (BAD_KEY_TEXT),
 * key id against the derived public key (KEY_ID_MISMATCH).
 */
export function parseSigningKey(text: string): SigningKey {
  if (typeof text !== 'string') throw new CryptoError('BAD_KEY_TEXT', 'signer key must be a string');
  if (!text.startsWith(PRIVATE_PREFIX))
    throw new CryptoError('BAD_KEY_TEXT', `signer key must start with ${PRIVATE_PREFIX}`);
  const { name, idHex, keyType, key } = splitKeyText(text.slice(PRIVATE_PREFIX.length), 'signer key');
  if (keyType !== ED25519_TYPE) {
    throw new CryptoError(
      'UNSUPPORTED_KEY_TYPE',
      `signer key: key type ${keyType} is not Ed25519 (type 0x01), the only one supported`,
    );
  }
  if (key.length !== 32) throw new CryptoError('BAD_KEY_TEXT', 'signer key: an Ed25519 seed is 32 bytes');
  const signer = signingKeyFromSeed(name, key);
  if (signer.keyIdHex !== idHex) {
    throw new CryptoError(
      'KEY_ID_MISMATCH',
      `signer key id ${idHex} does not match its name and key (${signer.keyIdHex})`,
    );
  }
  return signer;
}

// --- Signatures -------------------------------------------------------------------------

/** Signs `digest` (32 bytes) for `purpose`; returns the 64-byte Ed25519 signature. */
export function signDigest(key: SigningKey, purpose: SignaturePurpose, digest: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign(null, signedMessage(purpose, digest), key.privateKeyObject));
}

/** True when `signature` is `key`'s signature over `digest` for `purpose`. Never throws on bad input. */
export function verifyDigest(
  key: VerifierKey,
  purpose: SignaturePurpose,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (digest.length !== 32 || signature.length !== 64) return false;
  return nodeVerify(null, Buffer.concat([CONTEXT_BYTES[purpose], digest]), key.keyObject, signature);
}

/** Signs arbitrary bytes with no context (for formats that define their own, like signed notes). */
export function signRaw(key: SigningKey, message: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign(null, message, key.privateKeyObject));
}

/** Verifies a signature over arbitrary bytes with no context. Never throws on bad input. */
export function verifyRaw(key: VerifierKey, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  return nodeVerify(null, message, key.keyObject, signature);
}
