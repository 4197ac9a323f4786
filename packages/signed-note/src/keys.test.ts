// Ed25519 note signers and verifiers over @civic-ledger/crypto keys, and crypto's key-text
// failures reported as SignedNoteErrors. Key texts, key ids and key names themselves are
// tested in @civic-ledger/crypto; Go's published key vectors are in go-note-vectors.test.ts.
import { generateKeyPairSync } from 'node:crypto';
import {
  CryptoError,
  formatSigningKey,
  formatVerifierKey,
  generateSigningKey,
  parseVerifierKey,
  signingKeyFromKeyObject,
  verifierKeyFromKeyObject,
  verifierKeyFromRaw,
} from '@civic-ledger/crypto';
import { describe, expect, it } from 'vitest';
import { ed25519Signer, ed25519Verifier, signerFromKeyText, verifierFromKeyText } from './index.ts';
import type { SignedNoteErrorCode } from './index.ts';
import { errorOf } from './test-helpers.ts';

const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';

describe('Ed25519 signers and verifiers', () => {
  const key = generateSigningKey('k');

  it('sign and verify, and agree on name, key id and verifier-key text', () => {
    const s = ed25519Signer(key);
    const v = ed25519Verifier(verifierKeyFromRaw('k', key.publicKey));
    expect([s.name, s.keyId, s.verifierKey]).toEqual([v.name, v.keyId, v.verifierKey]);
    expect(s.verifierKey).toBe(formatVerifierKey(key));
    const msg = Buffer.from('hi');
    const sig = s.sign(msg);
    expect(sig.length).toBe(64);
    expect(v.verify(msg, sig)).toBe(true);
    expect(ed25519Verifier(key).verify(msg, sig)).toBe(true);
    sig[0]! ^= 1;
    expect(v.verify(msg, sig)).toBe(false);
    expect(v.verify(msg, sig.subarray(0, 63))).toBe(false);
    expect(v.verify(msg, new Uint8Array(65))).toBe(false);
  });

  it("have crypto's 4-byte key id as an unsigned big-endian number", () => {
    const s = signerFromKeyText(PETER_SKEY);
    expect(s.keyId).toBe(0xc74f20a3); // above 2^31
    expect(s.keyId).toBe(Buffer.from(parseVerifierKey(PETER_VKEY).keyId).readUInt32BE(0));
    expect(verifierFromKeyText(PETER_VKEY).keyId).toBe(s.keyId);
  });

  it('work from KeyObjects through crypto', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const s = ed25519Signer(signingKeyFromKeyObject('k', privateKey));
    const v = ed25519Verifier(verifierKeyFromKeyObject('k', publicKey));
    expect(v.verify(Buffer.from('x'), s.sign(Buffer.from('x')))).toBe(true);
  });

  it('are frozen', () => {
    expect(Object.isFrozen(ed25519Signer(key))).toBe(true);
    expect(Object.isFrozen(ed25519Verifier(key))).toBe(true);
  });
});

describe('key texts', () => {
  it("build signers and verifiers from crypto's key texts", () => {
    const key = generateSigningKey('ledger.example/log1');
    const s = signerFromKeyText(formatSigningKey(key));
    const v = verifierFromKeyText(formatVerifierKey(key));
    expect(s.verifierKey).toBe(formatVerifierKey(key));
    expect(v.verifierKey).toBe(s.verifierKey);
    expect(v.verify(Buffer.from('m'), s.sign(Buffer.from('m')))).toBe(true);
  });

  it('report key-text failures as SignedNoteErrors of the CryptoError code, with it as cause', () => {
    const cases: [() => unknown, SignedNoteErrorCode][] = [
      [() => verifierFromKeyText(PETER_VKEY.replace('c74f20a3', 'C74F20A3')), 'BAD_KEY_TEXT'],
      [() => verifierFromKeyText(`${PETER_VKEY}\n`), 'BAD_KEY_TEXT'],
      [() => verifierFromKeyText('+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), 'BAD_KEY_TEXT'],
      [() => verifierFromKeyText(PETER_SKEY), 'BAD_KEY_TEXT'],
      [() => verifierFromKeyText(PETER_VKEY.replace('c74f20a3', 'c74f20a4')), 'KEY_ID_MISMATCH'],
      [
        () => verifierFromKeyText('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
        'UNSUPPORTED_KEY_TYPE',
      ],
      [() => signerFromKeyText(PETER_VKEY), 'BAD_KEY_TEXT'],
      [() => signerFromKeyText(PETER_SKEY.replace('c74f20a3', '00000000')), 'KEY_ID_MISMATCH'],
      [() => signerFromKeyText(PETER_SKEY.replace('+AYEK', '+AoEK')), 'UNSUPPORTED_KEY_TYPE'],
    ];
    for (const [f, code] of cases) {
      const err = errorOf(f);
      expect(err.code).toBe(code);
      expect(err.cause).toBeInstanceOf(CryptoError);
      expect((err.cause as CryptoError).code).toBe(code);
      expect(err.message).toBe((err.cause as CryptoError).message);
    }
  });
});
