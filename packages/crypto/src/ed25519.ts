// Ed25519 keys and domain-separated signatures on node:crypto (OpenSSL).
//
// Key text follows C2SP signed-note (https://c2sp.org/signed-note), so the same key can
// sign our events and our checkpoints and every tool in that ecosystem reads it:
//   public:  <name>+<hex key id>+<base64(0x01 || 32-byte public key)>
//   private: PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>
// key id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { CryptoError } from './errors.ts';
import { sha256Parts } from './hash.ts';
import { toHex } from './portable.ts';

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

// DER prefixes that wrap a raw 32-byte Ed25519 key as SPKI / PKCS#8 (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

// Key names: printable ASCII without spaces or '+' (C2SP signed-note forbids those), and
// short. Our own names are `<organization>/<label>`; see @civic-ledger/schemas.
const KEY_NAME = /^[\x21-\x2a\x2c-\x7e]{1,128}$/;

export interface VerifierKey {
  readonly name: string;
  /** 4-byte key id, as C2SP signed-note derives it. */
  readonly keyId: Uint8Array;
  readonly keyIdHex: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Prebuilt node:crypto key, so verification never re-parses the key. */
  readonly keyObject: KeyObject;
}

export interface SigningKey extends VerifierKey {
  readonly privateKeyObject: KeyObject;
}

function checkName(name: string): void {
  if (!KEY_NAME.test(name)) {
    throw new CryptoError(
      'BAD_KEY_NAME',
      `key name ${JSON.stringify(name)} must be 1-128 printable ASCII characters without spaces or '+'`,
    );
  }
}

/** The C2SP signed-note key id of an Ed25519 key: SHA-256(name || "\n" || 0x01 || key)[0:4]. */
export function keyIdOf(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256Parts(Buffer.from(name, 'utf8'), Uint8Array.of(0x0a, ED25519_TYPE), publicKey).slice(0, 4);
}

/** A verifier key from a raw 32-byte public key. */
export function verifierKeyFromRaw(name: string, publicKey: Uint8Array): VerifierKey {
  checkName(name);
  if (publicKey.length !== 32)
    throw new CryptoError('BAD_LENGTH', `Ed25519 public key must be 32 bytes, got ${publicKey.length}`);
  const keyId = keyIdOf(name, publicKey);
  const keyObject = createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
  return { name, keyId, keyIdHex: toHex(keyId), publicKey: Uint8Array.from(publicKey), keyObject };
}

/** A signing key from a raw 32-byte seed (the Ed25519 private key). */
export function signingKeyFromSeed(name: string, seed: Uint8Array): SigningKey {
  checkName(name);
  if (seed.length !== 32)
    throw new CryptoError('BAD_LENGTH', `Ed25519 seed must be 32 bytes, got ${seed.length}`);
  const privateKeyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(privateKeyObject).export({ format: 'der', type: 'spki' });
  return { ...verifierKeyFromRaw(name, spki.subarray(SPKI_PREFIX.length)), privateKeyObject };
}

/** A fresh signing key named `name`. */
export function generateSigningKey(name: string): SigningKey {
  checkName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return signingKeyFromSeed(name, pkcs8.subarray(PKCS8_PREFIX.length));
}

function seedOf(key: SigningKey): Buffer {
  return key.privateKeyObject.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
}

/** `name+hexkeyid+base64(0x01 || public key)` (C2SP signed-note verifier key). */
export function formatVerifierKey(key: VerifierKey): string {
  return `${key.name}+${key.keyIdHex}+${Buffer.concat([Uint8Array.of(ED25519_TYPE), key.publicKey]).toString('base64')}`;
}

/** `PRIVATE+KEY+name+hexkeyid+base64(0x01 || seed)` (C2SP signed-note signer key). Secret: never log it. */
export function formatSigningKey(key: SigningKey): string {
  return `PRIVATE+KEY+${key.name}+${key.keyIdHex}+${Buffer.concat([Uint8Array.of(ED25519_TYPE), seedOf(key)]).toString('base64')}`;
}

function decodeKeyText(text: string, what: string): { name: string; idHex: string; raw: Uint8Array } {
  // Base64 may itself contain '+': split at the first two only, as Go's note package does.
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw new CryptoError('BAD_KEY_TEXT', `${what} must be name+hexkeyid+base64key`);
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  const b64 = text.slice(second + 1);
  checkName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex))
    throw new CryptoError('BAD_KEY_TEXT', `${what}: key id must be 8 lower-case hex digits`);
  const raw = Buffer.from(b64, 'base64');
  if (raw.toString('base64') !== b64)
    throw new CryptoError('BAD_KEY_TEXT', `${what}: key is not canonical base64`);
  if (raw.length < 1 || raw[0] !== ED25519_TYPE) {
    throw new CryptoError('UNSUPPORTED_KEY_TYPE', `${what}: only Ed25519 keys (type 0x01) are supported`);
  }
  if (raw.length !== 33) throw new CryptoError('BAD_KEY_TEXT', `${what}: Ed25519 key must be 32 bytes`);
  return { name, idHex, raw: raw.subarray(1) };
}

/** Parses verifier-key text; the key id must match the name and key. */
export function parseVerifierKey(text: string): VerifierKey {
  const { name, idHex, raw } = decodeKeyText(text.trim(), 'verifier key');
  const key = verifierKeyFromRaw(name, raw);
  if (key.keyIdHex !== idHex)
    throw new CryptoError('KEY_ID_MISMATCH', `verifier key id ${idHex} does not match its name and key`);
  return key;
}

/** Parses signer-key text; the key id must match the name and the derived public key. */
export function parseSigningKey(text: string): SigningKey {
  const t = text.trim();
  if (!t.startsWith('PRIVATE+KEY+'))
    throw new CryptoError('BAD_KEY_TEXT', 'signer key must start with PRIVATE+KEY+');
  const { name, idHex, raw } = decodeKeyText(t.slice('PRIVATE+KEY+'.length), 'signer key');
  const key = signingKeyFromSeed(name, raw);
  if (key.keyIdHex !== idHex)
    throw new CryptoError('KEY_ID_MISMATCH', `signer key id ${idHex} does not match its name and key`);
  return key;
}

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
