export { sha256, sha256Parts, sha256HexOfUtf8 } from './hash.ts';
export { sha256Portable, toHex, fromHex } from './portable.ts';
export {
  ED25519_TYPE,
  SIGNATURE_CONTEXTS,
  type SignaturePurpose,
  type VerifierKey,
  type SigningKey,
  signedMessage,
  keyIdOf,
  verifierKeyFromRaw,
  signingKeyFromSeed,
  generateSigningKey,
  formatVerifierKey,
  formatSigningKey,
  parseVerifierKey,
  parseSigningKey,
  signDigest,
  verifyDigest,
  signRaw,
  verifyRaw,
} from './ed25519.ts';
export { writeSigningKeyFile, readSigningKeyFile } from './key-files.ts';
export { CryptoError, type CryptoErrorCode } from './errors.ts';
