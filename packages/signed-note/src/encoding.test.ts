// This package's base64 and key-name helpers are @civic-ledger/crypto's (tested there, with
// the RFC 4648 vectors and the key-name rules), given this package's error type.
import { isValidKeyName as cryptoIsValidKeyName, toBase64 } from '@civic-ledger/crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64, isValidKeyName } from './index.ts';
import { errorOf } from './test-helpers.ts';

describe('decodeBase64', () => {
  it('decodes exact standard base64', () => {
    expect(Buffer.from(decodeBase64('Zm9vYmE=')).toString('latin1')).toBe('fooba');
    expect(decodeBase64('')).toEqual(new Uint8Array(0));
  });

  it("rejects everything else as INVALID_BASE64, with crypto's RangeError as cause", () => {
    for (const bad of ['Zg', 'Zh==', 'Zm8=\n', '-_8=', 'Zg==Zg==']) {
      const err = errorOf(() => decodeBase64(bad));
      expect(err.code, bad).toBe('INVALID_BASE64');
      expect(err.cause, bad).toBeInstanceOf(RangeError);
    }
  });
});

describe("crypto's helpers", () => {
  it('are re-exported as they are', () => {
    expect(encodeBase64).toBe(toBase64);
    expect(isValidKeyName).toBe(cryptoIsValidKeyName);
  });
});
