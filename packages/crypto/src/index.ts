export { sha256, sha256Parts, sha256HexOfUtf8 } from './hash.ts';
export { sha256Portable, toHex, fromHex, isHex64 } from './portable.ts';
export { toBase64, fromBase64, isSignatureBase64 } from './base64.ts';
export {
  ED25519_TYPE,
  SIGNATURE_CONTEXTS,
  type SignaturePurpose,
  type VerifierKey,
  type SigningKey,
  signedMessage,
  isValidKeyName,
  keyIdOf,
  verifierKeyFromRaw,
  signingKeyFromSeed,
  verifierKeyFromKeyObject,
  signingKeyFromKeyObject,
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
