// Ed25519 cosignatures, c2sp.org/tlog-cosignature ("cosignature/v1", signature type 0x04).
//
//   signed message  = "cosignature/v1\n" || "time " || <decimal POSIX seconds> || "\n" || checkpoint body
//   signature line  = — <cosigner name> base64(key id (4) || timestamp (8, big-endian) || Ed25519 signature (64))
//   key id          = SHA-256(<name> || 0x0A || 0x04 || 32-byte public key)[:4]
//   verifier key    = <name>+<8 hex key id>+base64(0x04 || 32-byte public key)
//
// The same Ed25519 key pair as a note key (type 0x01): only the key id and the signed
// message differ, and the "cosignature/v1" header keeps a cosignature from ever being a
// valid plain note signature (and back).
import {
  fromBase64,
  isValidKeyName,
  keyIdOf,
  signRaw,
  signingKeyFromKeyObject,
  toBase64,
  toHex,
  verifierKeyFromRaw,
  verifyRaw,
  type SigningKey,
  type VerifierKey,
} from '@civic-ledger/crypto';
import {
  parseCheckpoint,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
} from '@civic-ledger/signed-note';
import { WitnessError } from './errors.ts';

/** Signature type byte of Ed25519 cosignature/v1 keys (in key ids and verifier-key texts). */
export const COSIGNATURE_V1_TYPE = 0x04;
/** Bytes of a cosignature/v1 signature after the key id: timestamp (8) and Ed25519 signature (64). */
export const COSIGNATURE_V1_BYTES = 8 + 64;

const ED25519_SIGNATURE_BYTES = 64;
const MAX_U63 = 2n ** 63n;

/** A parsed cosignature line. */
export interface Cosignature {
  /** The cosigner's key name, as on the signature line. */
  readonly name: string;
  /** Key id (unsigned 32-bit). */
  readonly keyId: number;
  /** POSIX seconds at which the cosigner signed. */
  readonly timestamp: number;
  /** The 64-byte Ed25519 signature. */
  readonly signature: Uint8Array;
}

/** Checks cosignature/v1 signatures of one cosigner key; also a NoteVerifier for openNote. */
export interface CosignatureVerifier extends NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** The key id as 8 lower-case hex digits. */
  readonly keyIdHex: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The verifier-key text, type 0x04. */
  readonly verifierKey: string;
  /** NoteVerifier: `message` is the note text (checkpoint body), `signature` timestamp || signature. */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** Makes cosignature/v1 signatures with one Ed25519 key; also a NoteSigner (timestamp: now). */
export interface Cosigner extends NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly verifierKey: string;
  readonly verifier: CosignatureVerifier;
  /** The cosignature of `checkpointBody` at `timestamp` (POSIX seconds). */
  cosign(checkpointBody: string, timestamp: number): NoteSignature;
}

function keyIdNumber(keyId: Uint8Array): number {
  return new DataView(keyId.buffer, keyId.byteOffset, 4).getUint32(0);
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new WitnessError('INVALID_KEY_NAME', `invalid cosigner name ${JSON.stringify(name)}`, { name });
  }
}

function checkTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new WitnessError(
      'INVALID_TIMESTAMP',
      'a cosignature timestamp is an integer of POSIX seconds >= 0',
      {
        timestamp,
      },
    );
  }
}

/** The exact bytes a cosigner signs over `checkpointBody` at `timestamp`. */
export function cosignatureMessage(
  checkpointBody: string | Uint8Array,
  timestamp: number | bigint,
): Uint8Array {
  const header = Buffer.from(`cosignature/v1\ntime ${timestamp.toString()}\n`, 'utf8');
  const body = typeof checkpointBody === 'string' ? Buffer.from(checkpointBody, 'utf8') : checkpointBody;
  return Buffer.concat([header, body]);
}

/** The verifier-key text (type 0x04) of a cosigner named `name` with this public key. */
export function formatCosignatureVerifierKey(name: string, publicKey: Uint8Array): string {
  checkName(name);
  const keyId = keyIdOf(name, publicKey, COSIGNATURE_V1_TYPE);
  return `${name}+${toHex(keyId)}+${toBase64(Buffer.concat([Uint8Array.of(COSIGNATURE_V1_TYPE), publicKey]))}`;
}

/**
 * The cosignature verifier of an Ed25519 key, under its own name or `name` (the cosigner
 * name; the key id covers it). Throws INVALID_KEY_NAME.
 */
export function cosignatureVerifier(key: VerifierKey, name: string = key.name): CosignatureVerifier {
  checkName(name);
  const publicKey = Uint8Array.from(key.publicKey);
  const vk = verifierKeyFromRaw(name, publicKey);
  const keyId = keyIdOf(name, publicKey, COSIGNATURE_V1_TYPE);
  return Object.freeze({
    name,
    keyId: keyIdNumber(keyId),
    keyIdHex: toHex(keyId),
    publicKey,
    verifierKey: formatCosignatureVerifierKey(name, publicKey),
    verify(message: Uint8Array, signature: Uint8Array): boolean {
      if (!(signature instanceof Uint8Array) || signature.length !== COSIGNATURE_V1_BYTES) return false;
      const timestamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
      if (timestamp >= MAX_U63) return false;
      return verifyRaw(vk, cosignatureMessage(message, timestamp), signature.subarray(8));
    },
  });
}

/**
 * Parses a cosigner verifier-key text `<name>+<8 lower-case hex key id>+<base64(0x04 || key)>`,
 * exactly. Throws BAD_KEY_TEXT (form, base64, length), KEY_ID_MISMATCH, UNSUPPORTED_KEY_TYPE
 * (another type byte: a plain Ed25519 note key is 0x01; convert it with cosignatureVerifier).
 */
export function parseCosignatureVerifierKey(text: string): CosignatureVerifier {
  if (typeof text !== 'string') throw new WitnessError('BAD_KEY_TEXT', 'a verifier key must be a string');
  // Base64 may contain '+': split at the first two only, as Go's note package does.
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0)
    throw new WitnessError('BAD_KEY_TEXT', 'a verifier key is <name>+<hex key id>+<base64 key>');
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  if (!isValidKeyName(name))
    throw new WitnessError('BAD_KEY_TEXT', `invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(idHex))
    throw new WitnessError('BAD_KEY_TEXT', 'the key id must be 8 lower-case hex digits');
  let raw: Uint8Array;
  try {
    raw = fromBase64(text.slice(second + 1));
  } catch (cause) {
    throw new WitnessError('BAD_KEY_TEXT', 'the key is not exact base64', {}, { cause });
  }
  if (raw.length === 0) throw new WitnessError('BAD_KEY_TEXT', 'no key data');
  const type = raw[0]!;
  const key = raw.subarray(1);
  if (toHex(keyIdOf(name, key, type)) !== idHex) {
    throw new WitnessError('KEY_ID_MISMATCH', `key id ${idHex} does not match the name and key`, { name });
  }
  if (type !== COSIGNATURE_V1_TYPE) {
    throw new WitnessError(
      'UNSUPPORTED_KEY_TYPE',
      `key type 0x${type.toString(16).padStart(2, '0')} is not a cosignature/v1 key (0x04)`,
      { name, type },
    );
  }
  if (key.length !== 32) throw new WitnessError('BAD_KEY_TEXT', 'an Ed25519 public key is 32 bytes');
  return cosignatureVerifier(verifierKeyFromRaw(name, key));
}

/**
 * A cosigner over an Ed25519 signing key (the witness key: a plain PRIVATE+KEY+ file of
 * @civic-ledger/crypto), named `options.name` (default: the key's name). `now` (ms, default
 * Date.now) gives the timestamp when it is used as a NoteSigner. Throws INVALID_KEY_NAME.
 */
export function cosignerFromKey(
  key: SigningKey,
  options: { name?: string; now?: () => number } = {},
): Cosigner {
  const name = options.name ?? key.name;
  checkName(name);
  const signing = name === key.name ? key : signingKeyFromKeyObject(name, key.privateKeyObject);
  const verifier = cosignatureVerifier(signing, name);
  const now = options.now ?? Date.now;
  const signAt = (checkpointBody: string, timestamp: number): Uint8Array => {
    checkTimestamp(timestamp);
    try {
      parseCheckpoint(checkpointBody);
    } catch (cause) {
      throw new WitnessError('MALFORMED_CHECKPOINT', 'only checkpoint bodies are cosigned', {}, { cause });
    }
    const out = new Uint8Array(COSIGNATURE_V1_BYTES);
    new DataView(out.buffer).setBigUint64(0, BigInt(timestamp));
    out.set(signRaw(signing, cosignatureMessage(checkpointBody, timestamp)), 8);
    return out;
  };
  return Object.freeze({
    name,
    keyId: verifier.keyId,
    verifierKey: verifier.verifierKey,
    verifier,
    sign: (message: Uint8Array): Uint8Array =>
      signAt(Buffer.from(message).toString('utf8'), Math.floor(now() / 1000)),
    cosign(checkpointBody: string, timestamp: number): NoteSignature {
      const signed = signAt(checkpointBody, timestamp);
      const raw = new Uint8Array(4 + signed.length);
      new DataView(raw.buffer).setUint32(0, verifier.keyId);
      raw.set(signed, 4);
      return { name, keyId: verifier.keyId, base64: toBase64(raw) };
    },
  });
}

/** The cosignature of `checkpointBody` at `timestamp` by `key` (cosignerFromKey(key).cosign). */
export function cosign(key: SigningKey | Cosigner, checkpointBody: string, timestamp: number): NoteSignature {
  const cosigner = 'cosign' in key ? key : cosignerFromKey(key);
  return cosigner.cosign(checkpointBody, timestamp);
}

/**
 * The parts of a cosignature line (nothing verified). Throws MALFORMED_COSIGNATURE when the
 * base64 is not 4 + 8 + 64 bytes, the key id does not match, or the timestamp is 2^63 or
 * more (the spec's bound) or beyond 2^53 - 1.
 */
export function parseCosignature(sig: NoteSignature): Cosignature {
  let raw: Uint8Array;
  try {
    raw = fromBase64(sig.base64);
  } catch (cause) {
    throw new WitnessError(
      'MALFORMED_COSIGNATURE',
      'the signature is not exact base64',
      { name: sig.name },
      { cause },
    );
  }
  if (raw.length !== 4 + COSIGNATURE_V1_BYTES) {
    throw new WitnessError(
      'MALFORMED_COSIGNATURE',
      `a cosignature/v1 Ed25519 signature is ${4 + COSIGNATURE_V1_BYTES} bytes, got ${raw.length}`,
      { name: sig.name },
    );
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const keyId = view.getUint32(0);
  if (keyId !== sig.keyId) {
    throw new WitnessError('MALFORMED_COSIGNATURE', 'the key id does not match the signature bytes', {
      name: sig.name,
    });
  }
  const timestamp = view.getBigUint64(4);
  if (timestamp >= MAX_U63 || timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WitnessError('MALFORMED_COSIGNATURE', `timestamp ${timestamp} is out of range`, {
      name: sig.name,
    });
  }
  return { name: sig.name, keyId, timestamp: Number(timestamp), signature: raw.slice(12) };
}

/** The signature line (as a NoteSignature) of a cosignature. */
export function formatCosignature(c: Cosignature): NoteSignature {
  checkName(c.name);
  checkTimestamp(c.timestamp);
  if (!(c.signature instanceof Uint8Array) || c.signature.length !== ED25519_SIGNATURE_BYTES) {
    throw new WitnessError('MALFORMED_COSIGNATURE', 'an Ed25519 signature is 64 bytes', { name: c.name });
  }
  const raw = new Uint8Array(4 + COSIGNATURE_V1_BYTES);
  const view = new DataView(raw.buffer);
  view.setUint32(0, c.keyId);
  view.setBigUint64(4, BigInt(c.timestamp));
  raw.set(c.signature, 12);
  return { name: c.name, keyId: c.keyId, base64: toBase64(raw) };
}

/**
 * Verifies one cosignature line over `checkpointBody` with a known cosigner key and returns
 * it parsed. Throws COSIGNATURE_INVALID (another name or key id, or a bad signature) and
 * MALFORMED_COSIGNATURE.
 */
export function verifyCosignature(
  checkpointBody: string,
  sig: NoteSignature,
  verifier: CosignatureVerifier,
): Cosignature {
  if (sig.name !== verifier.name || sig.keyId !== verifier.keyId) {
    throw new WitnessError(
      'COSIGNATURE_INVALID',
      `the signature is not by ${verifier.name}+${verifier.keyIdHex}`,
      {
        name: sig.name,
      },
    );
  }
  const c = parseCosignature(sig);
  const bytes = fromBase64(sig.base64).subarray(4);
  if (!verifier.verify(Buffer.from(checkpointBody, 'utf8'), bytes)) {
    throw new WitnessError('COSIGNATURE_INVALID', `the cosignature of ${verifier.name} does not verify`, {
      name: sig.name,
      timestamp: c.timestamp,
    });
  }
  return c;
}
