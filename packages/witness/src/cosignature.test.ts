import {
  formatVerifierKey,
  fromBase64,
  generateSigningKey,
  keyIdOf,
  signingKeyFromSeed,
  toHex,
} from '@civic-ledger/crypto';
import {
  ed25519Signer,
  ed25519Verifier,
  formatCheckpoint,
  openNote,
  parseNote,
  signNote,
} from '@civic-ledger/signed-note';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COSIGNATURE_V1_TYPE,
  cosign,
  cosignatureMessage,
  cosignatureVerifier,
  cosignerFromKey,
  formatCosignature,
  formatCosignatureVerifierKey,
  parseCosignature,
  parseCosignatureVerifierKey,
  verifyCosignature,
} from './cosignature.ts';
import { isWitnessError, type WitnessErrorCode } from './errors.ts';

// A real checkpoint of the arche2025h1 staging CT log, cosigned by public witnesses. The
// witness remora.n621.de publishes its cosignature/v1 verifier key; both are public data
// (the key is the one transparency-dev/formats note/note_cosigv1_test.go parses, the note is
// the one tlog_scales' test_signing.py verifies). The log line is an RFC 6962 (0x05)
// signature this package does not verify: only the cosignature is checked.
const REAL_NOTE = `arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
— witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
— witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
`;
const REMORA_VKEY = 'remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2';

// The example note of c2sp.org/tlog-cosignature (no public key is published for it).
const SPEC_NOTE = `example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==
`;

const BODY = 'example.com/log\n42\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n';

function code(fn: () => unknown): WitnessErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (isWitnessError(e)) return e.code;
    throw e;
  }
  return undefined;
}

function remoraLine() {
  const parsed = parseNote(REAL_NOTE);
  return { text: parsed.text, sig: parsed.signatures.find((s) => s.name === 'remora.n621.de')! };
}

describe('known answers', () => {
  it('verifies a real public witness cosignature (remora.n621.de on a staging CT checkpoint)', () => {
    const { text, sig } = remoraLine();
    const c = verifyCosignature(text, sig, parseCosignatureVerifierKey(REMORA_VKEY));
    expect(c).toMatchObject({ name: 'remora.n621.de', keyId: 0xda77ade7, timestamp: 1779573024 });
  });

  it('rejects that cosignature over any other body (size, root, extension line)', () => {
    const { text, sig } = remoraLine();
    const key = parseCosignatureVerifierKey(REMORA_VKEY);
    for (const other of [
      text.replace('1432088532', '1432088533'),
      text.replace('U7WM', 'U7WN'),
      `${text}extension\n`,
    ]) {
      expect(code(() => verifyCosignature(other, sig, key))).toBe('COSIGNATURE_INVALID');
    }
  });

  it('derives the type 0x04 key id of a published witness key', () => {
    const key = parseCosignatureVerifierKey(REMORA_VKEY);
    expect(key.keyIdHex).toBe('da77ade7');
    expect(toHex(keyIdOf('remora.n621.de', key.publicKey, 0x04))).toBe('da77ade7');
    // The same key as a plain note key (0x01) has another id.
    expect(toHex(keyIdOf('remora.n621.de', key.publicKey, 0x01))).not.toBe('da77ade7');
    expect(key.verifierKey).toBe(REMORA_VKEY);
  });

  it('reads the timestamps of the spec example and of transparency-dev/formats', () => {
    const spec = parseNote(SPEC_NOTE).signatures[1]!;
    expect(parseCosignature(spec)).toMatchObject({ keyId: 0x8d66cf3f, timestamp: 1679315147 });
    const go = {
      name: 'x',
      keyId: 0x646846b9,
      base64:
        'ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==',
    };
    expect(parseCosignature(go).timestamp).toBe(1727964367);
    // A plain Ed25519 note signature (4 + 64 bytes) is not a cosignature.
    const plain = parseNote(SPEC_NOTE).signatures[0]!;
    expect(code(() => parseCosignature(plain))).toBe('MALFORMED_COSIGNATURE');
  });

  it('signs the message of the spec: header, time line, then the body', () => {
    expect(Buffer.from(cosignatureMessage('o\n1\nAA==\n', 1679315147)).toString()).toBe(
      'cosignature/v1\ntime 1679315147\no\n1\nAA==\n',
    );
  });
});

describe('cosigning', () => {
  const key = signingKeyFromSeed('witness.example/w1', new Uint8Array(32).fill(7));
  const cosigner = cosignerFromKey(key);

  it('round trips: cosign, then verify with the published verifier key', () => {
    const sig = cosigner.cosign(BODY, 1_700_000_000);
    const v = parseCosignatureVerifierKey(cosigner.verifierKey);
    expect(verifyCosignature(BODY, sig, v)).toMatchObject({
      timestamp: 1_700_000_000,
      name: 'witness.example/w1',
    });
    // Deterministic (Ed25519), and the same through the free function.
    expect(cosign(key, BODY, 1_700_000_000)).toEqual(sig);
    const raw = fromBase64(sig.base64);
    expect(raw.length).toBe(4 + 8 + 64);
    expect(toHex(raw.subarray(0, 4))).toBe(v.keyIdHex);
    expect(Buffer.from(raw.subarray(4, 12)).readBigUInt64BE()).toBe(1_700_000_000n);
  });

  it('writes a verifier key of type 0x04 whose id covers the name', () => {
    const text = formatCosignatureVerifierKey('witness.example/w1', key.publicKey);
    expect(text).toBe(cosigner.verifierKey);
    expect(fromBase64(text.slice(text.indexOf('+', text.indexOf('+') + 1) + 1))[0]).toBe(COSIGNATURE_V1_TYPE);
    expect(cosignerFromKey(key, { name: 'other.example/w' }).verifierKey).not.toBe(text);
  });

  it('refuses a body that is not a checkpoint, and bad timestamps', () => {
    expect(code(() => cosigner.cosign('not a checkpoint\n', 1))).toBe('MALFORMED_CHECKPOINT');
    expect(code(() => cosigner.cosign(BODY, -1))).toBe('INVALID_TIMESTAMP');
    expect(code(() => cosigner.cosign(BODY, 1.5))).toBe('INVALID_TIMESTAMP');
    expect(code(() => cosigner.cosign(BODY, 2 ** 53))).toBe('INVALID_TIMESTAMP');
    expect(code(() => cosignerFromKey(key, { name: 'has space' }))).toBe('INVALID_KEY_NAME');
  });

  it('works as a note signer and verifier (signNote / openNote)', () => {
    const log = generateSigningKey('example.com/log');
    const logged = signNote(BODY, [ed25519Signer(log)]);
    const opened = openNote(logged, [ed25519Verifier(log)]);
    const cosigned = signNote(opened.text, [cosigner], { existing: opened.verifiedSignatures });
    const both = openNote(cosigned, [ed25519Verifier(log), cosigner.verifier]);
    expect(both.verifiedSignatures.map((s) => s.name)).toEqual(['example.com/log', 'witness.example/w1']);
  });

  it('is never a valid plain note signature, nor the reverse (domain separation)', () => {
    const sig = cosigner.cosign(BODY, 5);
    const plainVerifier = ed25519Verifier(key);
    const raw = fromBase64(sig.base64);
    expect(plainVerifier.verify(Buffer.from(BODY), raw.subarray(12))).toBe(false);
    const plain = signNote(BODY, [ed25519Signer(key)]);
    const plainSig = fromBase64(parseNote(plain).signatures[0]!.base64).subarray(4);
    expect(cosigner.verifier.verify(Buffer.from(BODY), plainSig)).toBe(false);
  });

  it('any flipped bit of the signature line fails', () => {
    const sig = cosigner.cosign(BODY, 1_700_000_000);
    const v = cosigner.verifier;
    const raw = fromBase64(sig.base64);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: raw.length * 8 - 1 }), (bit) => {
        const bad = Uint8Array.from(raw);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        const mutated = {
          name: sig.name,
          keyId: Buffer.from(bad).readUInt32BE(0),
          base64: Buffer.from(bad).toString('base64'),
        };
        const result = code(() => verifyCosignature(BODY, mutated, v));
        expect(['COSIGNATURE_INVALID', 'MALFORMED_COSIGNATURE']).toContain(result);
      }),
      { numRuns: 150 },
    );
  });

  it('parses and formats cosignatures as inverses', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (keyId, timestamp, signature) => {
          const line = formatCosignature({ name: 'w', keyId, timestamp, signature });
          expect(parseCosignature(line)).toEqual({ name: 'w', keyId, timestamp, signature });
        },
      ),
    );
  });
});

describe('verifier keys', () => {
  const key = generateSigningKey('w.example');

  it('refuses other key types, wrong ids and malformed texts with their codes', () => {
    expect(code(() => parseCosignatureVerifierKey(formatVerifierKey(key)))).toBe('UNSUPPORTED_KEY_TYPE');
    const good = cosignatureVerifier(key).verifierKey;
    // Base64 may itself hold '+': split at the first two only.
    const a = good.indexOf('+');
    const b = good.indexOf('+', a + 1);
    const [name, id, b64] = [good.slice(0, a), good.slice(a + 1, b), good.slice(b + 1)];
    expect(code(() => parseCosignatureVerifierKey(`${name}+00000000+${b64}`))).toBe('KEY_ID_MISMATCH');
    expect(code(() => parseCosignatureVerifierKey(`${name}+${id.toUpperCase()}+${b64}`))).toBe(
      'BAD_KEY_TEXT',
    );
    expect(code(() => parseCosignatureVerifierKey(`${name}+${id}`))).toBe('BAD_KEY_TEXT');
    expect(code(() => parseCosignatureVerifierKey(`${name}+${id}+${b64}=`))).toBe('BAD_KEY_TEXT');
    expect(code(() => parseCosignatureVerifierKey(` ${good}`))).toBe('BAD_KEY_TEXT');
    // A 31-byte key with a matching id is still refused.
    const short = Buffer.concat([Buffer.of(4), Buffer.from(key.publicKey.subarray(1))]);
    const shortId = toHex(keyIdOf(name, short.subarray(1), 4));
    expect(code(() => parseCosignatureVerifierKey(`${name}+${shortId}+${short.toString('base64')}`))).toBe(
      'BAD_KEY_TEXT',
    );
  });

  it('turns a plain Ed25519 key into its cosignature verifier (same public key, id of type 0x04)', () => {
    const v = cosignatureVerifier(key);
    expect(Buffer.from(v.publicKey).equals(key.publicKey)).toBe(true);
    expect(v.keyIdHex).toBe(toHex(keyIdOf('w.example', key.publicKey, 0x04)));
    expect(parseCosignatureVerifierKey(v.verifierKey).keyId).toBe(v.keyId);
  });

  it('only verifies lines of its own name and key id', () => {
    const c = cosignerFromKey(key);
    const sig = c.cosign(BODY, 9);
    const other = cosignatureVerifier(key, 'another.example');
    expect(code(() => verifyCosignature(BODY, sig, other))).toBe('COSIGNATURE_INVALID');
    expect(code(() => verifyCosignature(BODY, { ...sig, name: 'x' }, c.verifier))).toBe(
      'COSIGNATURE_INVALID',
    );
  });

  it('rejects a timestamp of 2^63 or more as the spec bounds it', () => {
    const c = cosignerFromKey(key);
    const raw = fromBase64(c.cosign(BODY, 9).base64);
    raw[4] = 0x80;
    const sig = { name: c.name, keyId: c.keyId, base64: Buffer.from(raw).toString('base64') };
    expect(code(() => parseCosignature(sig))).toBe('MALFORMED_COSIGNATURE');
    expect(c.verifier.verify(Buffer.from(BODY), raw.subarray(4))).toBe(false);
  });

  it('cosigns only checkpoint bodies, extension lines included', () => {
    const c = cosignerFromKey(key);
    const body = formatCheckpoint({
      origin: 'o',
      size: 1,
      rootHash: new Uint8Array(32),
      extensions: ['ext'],
    });
    const sig = c.cosign(body, 1);
    expect(verifyCosignature(body, sig, c.verifier).timestamp).toBe(1);
    expect(code(() => verifyCosignature(body.replace('ext', 'exu'), sig, c.verifier))).toBe(
      'COSIGNATURE_INVALID',
    );
  });
});
