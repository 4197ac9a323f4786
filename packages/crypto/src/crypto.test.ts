import { mkdtempSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  formatSigningKey,
  formatVerifierKey,
  fromHex,
  generateSigningKey,
  keyIdOf,
  parseSigningKey,
  parseVerifierKey,
  readSigningKeyFile,
  sha256,
  sha256HexOfUtf8,
  sha256Parts,
  sha256Portable,
  SIGNATURE_CONTEXTS,
  signDigest,
  signedMessage,
  signRaw,
  toHex,
  verifyDigest,
  verifyRaw,
  writeSigningKeyFile,
} from './index.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    throw e;
  }
  return undefined;
}

describe('SHA-256', () => {
  it('matches the FIPS 180-2 test vectors', () => {
    expect(toHex(sha256(new TextEncoder().encode('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(toHex(sha256(new Uint8Array(0)))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('node:crypto fast path and the portable @noble/hashes path are byte-identical', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => {
        expect(sha256(data)).toEqual(sha256Portable(data));
      }),
      { numRuns: 1000 },
    );
  });

  it('hashing parts equals hashing their concatenation; hex of UTF-8 equals hashing its bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 5 }),
        fc.string(),
        (parts, text) => {
          expect(sha256Parts(...parts)).toEqual(sha256Portable(Buffer.concat(parts)));
          expect(sha256HexOfUtf8(text)).toBe(toHex(sha256Portable(new TextEncoder().encode(text))));
        },
      ),
    );
  });

  it('hex round-trips and refuses bad digits', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (b) => {
        expect(fromHex(toHex(b))).toEqual(b);
      }),
    );
    expect(() => fromHex('abc')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
  });
});

// Known-answer keys from golang.org/x/mod/sumdb/note (note_test.go and the package doc).
const PETER_PUBLIC = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_PRIVATE = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';

describe('key text (C2SP signed-note form)', () => {
  it('parses the Go note package keys and derives the same key id and public key', () => {
    const signer = parseSigningKey(PETER_PRIVATE);
    expect(signer.keyIdHex).toBe('c74f20a3');
    expect(formatVerifierKey(signer)).toBe(PETER_PUBLIC);
    expect(formatSigningKey(signer)).toBe(PETER_PRIVATE);
    const verifier = parseVerifierKey(PETER_PUBLIC);
    expect(verifier.publicKey).toEqual(signer.publicKey);
    expect(toHex(keyIdOf('PeterNeumann', verifier.publicKey))).toBe('c74f20a3');
  });

  it('reproduces the Go note package signature over its example text', () => {
    // The signature line of the package doc is base64(key id || signature).
    const text =
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const expected = Buffer.from(
      'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=',
      'base64',
    );
    const signer = parseSigningKey(PETER_PRIVATE);
    const sig = signRaw(signer, Buffer.from(text));
    expect(Buffer.concat([signer.keyId, sig])).toEqual(expected);
    expect(verifyRaw(parseVerifierKey(PETER_PUBLIC), Buffer.from(text), sig)).toBe(true);
  });

  it('round-trips generated keys', () => {
    const k = generateSigningKey('transport-agency/2026-01');
    expect(parseSigningKey(formatSigningKey(k)).publicKey).toEqual(k.publicKey);
    expect(parseVerifierKey(formatVerifierKey(k)).keyIdHex).toBe(k.keyIdHex);
  });

  it.each([
    ['wrong key id', PETER_PUBLIC.replace('c74f20a3', 'c74f20a4'), 'KEY_ID_MISMATCH'],
    ['renamed key', PETER_PUBLIC.replace('PeterNeumann', 'PeterNeumanm'), 'KEY_ID_MISMATCH'],
    ['missing part', 'PeterNeumann+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'BAD_KEY_TEXT'],
    ['upper-case id', PETER_PUBLIC.replace('c74f20a3', 'C74F20A3'), 'BAD_KEY_TEXT'],
    [
      'unknown type',
      'PeterNeumann+c74f20a3+AhpcZQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'UNSUPPORTED_KEY_TYPE',
    ],
    ['short key', 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1A==', 'BAD_KEY_TEXT'],
    ['non-canonical base64', `${PETER_PUBLIC}=`, 'BAD_KEY_TEXT'],
    ['space in name', 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'BAD_KEY_NAME'],
  ])('refuses %s', (_name, text, code) => {
    expect(codeOf(() => parseVerifierKey(text))).toBe(code);
  });

  it('refuses a private key given as a public key and vice versa', () => {
    expect(codeOf(() => parseSigningKey(PETER_PUBLIC))).toBe('BAD_KEY_TEXT');
    expect(codeOf(() => parseVerifierKey(PETER_PRIVATE))).toBe('BAD_KEY_TEXT');
  });
});

describe('domain-separated signatures', () => {
  const key = generateSigningKey('transport-agency/k1');
  const digest = sha256(new TextEncoder().encode('event'));

  it('signs context || digest and verifies it', () => {
    const sig = signDigest(key, 'event', digest);
    expect(verifyDigest(key, 'event', digest, sig)).toBe(true);
    expect(signedMessage('event', digest)).toEqual(
      Buffer.concat([Buffer.from(SIGNATURE_CONTEXTS.event), digest]),
    );
    // The same bytes signed without the context do not verify as an event signature.
    const rawSig = new Uint8Array(nodeSign(null, digest, key.privateKeyObject));
    expect(verifyDigest(key, 'event', digest, rawSig)).toBe(false);
  });

  it('a signature for one purpose never verifies for another', () => {
    const sig = signDigest(key, 'event', digest);
    expect(verifyDigest(key, 'receipt', digest, sig)).toBe(false);
    expect(verifyDigest(key, 'attestation', digest, sig)).toBe(false);
    expect(verifyRaw(key, digest, sig)).toBe(false);
  });

  it('no context string is a prefix of another', () => {
    const ctx = Object.values(SIGNATURE_CONTEXTS);
    for (const a of ctx) for (const b of ctx) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });

  it('refuses a flipped bit in the digest or signature, another key, bad lengths — without throwing', () => {
    const sig = signDigest(key, 'event', digest);
    const other = generateSigningKey('transport-agency/k2');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 32 * 8 - 1 }),
        fc.integer({ min: 0, max: 64 * 8 - 1 }),
        (db, sb) => {
          const d = Uint8Array.from(digest);
          d[db >> 3]! ^= 1 << (db & 7);
          expect(verifyDigest(key, 'event', d, sig)).toBe(false);
          const s = Uint8Array.from(sig);
          s[sb >> 3]! ^= 1 << (sb & 7);
          expect(verifyDigest(key, 'event', digest, s)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
    expect(verifyDigest(other, 'event', digest, sig)).toBe(false);
    expect(verifyDigest(key, 'event', digest.slice(1), sig)).toBe(false);
    expect(verifyDigest(key, 'event', digest, sig.slice(1))).toBe(false);
    expect(codeOf(() => signDigest(key, 'event', digest.slice(1)))).toBe('BAD_LENGTH');
  });
});

describe('private key files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cl-keys-'));

  it('are written with mode 0600, read back, and never overwritten silently', () => {
    const key = generateSigningKey('vendor-a/k1');
    const path = join(dir, 'vendor-a.key');
    writeSigningKeyFile(path, key);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readSigningKeyFile(path).publicKey).toEqual(key.publicKey);
    expect(codeOf(() => writeSigningKeyFile(path, generateSigningKey('vendor-a/k2')))).toBe(
      'KEY_FILE_EXISTS',
    );
    expect(readSigningKeyFile(path).name).toBe('vendor-a/k1');
  });

  it('are refused when other users can read them', () => {
    const path = join(dir, 'open.key');
    writeFileSync(path, `${PETER_PRIVATE}\n`);
    chmodSync(path, 0o644);
    expect(codeOf(() => readSigningKeyFile(path))).toBe('KEY_FILE_PERMISSIONS');
  });
});
