// Known-answer tests ported from Go's golang.org/x/mod/sumdb/note package,
// sumdb/note/note_test.go (github.com/golang/mod, file as stored at commit
// 02c991387e35f9e4c0a9b7ce137717055f8d716d; BSD-style licence, © The Go Authors).
// Key texts, note text and signature lines below are copied verbatim from that file.
//
// Key texts are parsed by @civic-ledger/crypto; these tests go through this package's
// verifierFromKeyText / signerFromKeyText, which report crypto's codes as SignedNoteErrors.
// Go's tests compare error strings; this package has stable codes instead. Mapping used:
//   "malformed note"                          -> MALFORMED_NOTE (whole-note structure),
//                                                MALFORMED_SIGNATURE_LINE (a bad line, a bad
//                                                pre-filled signature), TOO_MANY_SIGNATURES
//   "malformed verifier id" / "malformed signer id" -> BAD_KEY_TEXT
//   "invalid verifier/signer hash"            -> KEY_ID_MISMATCH
//   "unknown verifier/signer algorithm"       -> UNSUPPORTED_KEY_TYPE
//   "invalid signer"                          -> INVALID_KEY_NAME
//   "invalid signature for key N+H"           -> SIGNATURE_INVALID (same message text)
//   "ambiguous key N+H"                       -> AMBIGUOUS_KEY (same message text)
//   UnverifiedNoteError                       -> NO_VERIFIED_SIGNATURE
// Go indexes strings by byte; the em dash is 3 bytes in UTF-8, so byte offsets are
// translated with insertAtByte below.
import { keyIdOf, parseSigningKey, parseVerifierKey, toHex } from '@civic-ledger/crypto';
import { describe, expect, it } from 'vitest';
import { openNote, signNote, signerFromKeyText, verifierFromKeyText } from './index.ts';
import type { NoteSigner, SignedNoteErrorCode } from './index.ts';
import { codeOf, errorOf } from './test-helpers.ts';

const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';

const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_B64 =
  'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const ENOCH_B64 =
  'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=';
const PETER_SIG = `— PeterNeumann ${PETER_B64}\n`;
const ENOCH_SIG = `— EnochRoot ${ENOCH_B64}\n`;

const peter = { name: 'PeterNeumann', keyId: 0xc74f20a3, base64: PETER_B64 };
const enoch = { name: 'EnochRoot', keyId: 0xaf0cfe78, base64: ENOCH_B64 };

/** `s` with `ins` inserted at UTF-8 byte offset `at` (Go's s[:at] + ins + s[at:]). */
function insertAtByte(s: string, at: number, ins: string): string {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([b.subarray(0, at), Buffer.from(ins, 'utf8'), b.subarray(at)]).toString('utf8');
}

// TestNewVerifier / TestNewSigner: every proper substring and every single-byte increment
// of the key text must be rejected.
function manglings(key: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= key.length; i++) {
    for (let j = i + 1; j <= key.length; j++) {
      if (i !== 0 || j !== key.length) out.push(key.slice(i, j));
    }
  }
  for (let i = 0; i < key.length; i++) {
    out.push(key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1));
  }
  return out;
}

describe('Go note_test.go: TestNewVerifier', () => {
  it('accepts the PeterNeumann verifier key', () => {
    const v = verifierFromKeyText(PETER_VKEY);
    expect(v.name).toBe('PeterNeumann');
    expect(v.keyId).toBe(0xc74f20a3);
    expect(v.verifierKey).toBe(PETER_VKEY);
    expect(parseVerifierKey(PETER_VKEY).publicKey.length).toBe(32);
  });

  it('rejects every substring and single-byte increment of it', () => {
    const bad = manglings(PETER_VKEY);
    expect(bad.length).toBeGreaterThan(2000);
    for (const k of bad) {
      const code = codeOf(() => verifierFromKeyText(k));
      expect(['BAD_KEY_TEXT', 'KEY_ID_MISMATCH', 'UNSUPPORTED_KEY_TYPE'], k).toContain(code);
    }
  });

  it('rejects a wrong-length key with an adjusted key id', () => {
    // Go's own comment: "wrong length key, with adjusted key hash". Its base64 is also
    // non-canonical ("EY==" has non-zero unused bits), which this package rejects first.
    const err = errorOf(() =>
      verifierFromKeyText('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='),
    );
    expect(err.code).toBe('BAD_KEY_TEXT');
  });

  it('rejects an unknown algorithm with an adjusted key id', () => {
    const vkey = 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    // The key id really is adjusted: the type byte check is what fails.
    const raw = Buffer.from('ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64');
    expect(toHex(keyIdOf('PeterNeumann', raw.subarray(1), raw[0]))).toBe('173116ae');
    expect(codeOf(() => verifierFromKeyText(vkey))).toBe('UNSUPPORTED_KEY_TYPE');
  });
});

describe('Go note_test.go: TestNewSigner', () => {
  it('accepts the PeterNeumann signer key, matching the verifier key', () => {
    const s = signerFromKeyText(PETER_SKEY);
    expect(s.name).toBe('PeterNeumann');
    expect(s.keyId).toBe(0xc74f20a3);
    expect(s.verifierKey).toBe(PETER_VKEY);
    expect(parseSigningKey(PETER_SKEY).publicKey).toEqual(parseVerifierKey(PETER_VKEY).publicKey);
  });

  it('rejects every substring and single-byte increment of it', () => {
    for (const k of manglings(PETER_SKEY)) {
      const code = codeOf(() => signerFromKeyText(k));
      expect(['BAD_KEY_TEXT', 'KEY_ID_MISMATCH', 'UNSUPPORTED_KEY_TYPE'], k).toContain(code);
    }
  });
});

describe('Go note_test.go: TestSign', () => {
  const signer = signerFromKeyText(PETER_SKEY);
  const want = `${TEXT}\n${PETER_SIG}`;

  it('produces the published signed note byte for byte', () => {
    expect(signNote(TEXT, [signer])).toBe(
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n" +
        '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
    );
  });

  it('replaces an existing signature of the same key', () => {
    const existing = [{ name: 'PeterNeumann', keyId: 0xc74f20a3, base64: 'BADSIGN=' }];
    expect(signNote(TEXT, [signer], { existing })).toBe(want);
  });

  it('rejects text without a final newline', () => {
    expect(codeOf(() => signNote('abc', [signer]))).toBe('MALFORMED_NOTE');
  });

  it('rejects a pre-filled signature with a bad name', () => {
    const existing = [{ name: 'a+b', keyId: 0, base64: 'ABCD' }];
    expect(codeOf(() => signNote(TEXT, [], { existing }))).toBe('MALFORMED_SIGNATURE_LINE');
  });

  it('rejects a bad pre-filled signature', () => {
    const existing = [{ name: 'PeterNeumann', keyId: 0xc74f20a3, base64: 'BADHASH=' }];
    expect(codeOf(() => signNote(TEXT, [], { existing }))).toBe('MALFORMED_SIGNATURE_LINE');
  });

  it('rejects a signer with an invalid name', () => {
    const bad: NoteSigner = { name: 'bad name', keyId: signer.keyId, sign: (m) => signer.sign(m) };
    expect(codeOf(() => signNote(TEXT, [bad]))).toBe('INVALID_KEY_NAME');
  });

  it('reports a failing signer with its error as cause', () => {
    const surprise = new Error('surprise!');
    const failing: NoteSigner = {
      name: signer.name,
      keyId: signer.keyId,
      sign: () => {
        throw surprise;
      },
    };
    const err = errorOf(() => signNote(TEXT, [failing]));
    expect(err.code).toBe('SIGNING_FAILED');
    expect(err.cause).toBe(surprise);
  });
});

describe('Go note_test.go: TestVerifierList / TestOpen', () => {
  const peterVerifier = verifierFromKeyText(PETER_VKEY);
  const enochVerifier = verifierFromKeyText(ENOCH_VKEY);
  const both = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;

  it('verifies one signature and keeps the other unverified', () => {
    const n = openNote(both, [peterVerifier]);
    expect(n.text).toBe(TEXT);
    expect(n.verifiedSignatures).toEqual([peter]);
    expect(n.otherSignatures).toEqual([enoch]);
  });

  it('verifies both', () => {
    const n = openNote(both, [peterVerifier, enochVerifier]);
    expect(n.verifiedSignatures).toEqual([peter, enoch]);
    expect(n.otherSignatures).toEqual([]);
  });

  it('rejects a note with no known signature', () => {
    const err = errorOf(() => openNote(both, []));
    expect(err.code).toBe('NO_VERIFIED_SIGNATURE');
    expect(err.message).toBe('note has no verifiable signatures');
  });

  it('rejects a duplicated verifier when a signature uses it', () => {
    const err = errorOf(() =>
      openNote(`${TEXT}\n${ENOCH_SIG}`, [enochVerifier, peterVerifier, enochVerifier]),
    );
    expect(err.code).toBe('AMBIGUOUS_KEY');
    expect(err.message).toBe('ambiguous key EnochRoot+af0cfe78');
  });

  it('ignores an unused duplicated verifier', () => {
    const n = openNote(`${TEXT}\n${PETER_SIG}`, [enochVerifier, peterVerifier, enochVerifier]);
    expect(n.verifiedSignatures).toEqual([peter]);
  });

  it('rejects more than 100 signatures, verifiable or not', () => {
    const many = `${TEXT}\n${PETER_SIG.repeat(101)}`;
    expect(codeOf(() => openNote(many, [peterVerifier]))).toBe('TOO_MANY_SIGNATURES');
    expect(codeOf(() => openNote(many, []))).toBe('TOO_MANY_SIGNATURES');
    // 100 identical lines are fine: the first is verified, the rest dropped.
    expect(openNote(`${TEXT}\n${PETER_SIG.repeat(100)}`, [peterVerifier]).verifiedSignatures).toEqual([
      peter,
    ]);
  });

  it('rejects an invalid signature from a known key', () => {
    const err = errorOf(() => openNote(`${TEXT}\n${insertAtByte(PETER_SIG, 60, 'ABCD')}`, [peterVerifier]));
    expect(err.code).toBe('SIGNATURE_INVALID');
    expect(err.message).toBe('invalid signature for key PeterNeumann+c74f20a3');
  });

  it('drops duplicated verified and unverified signatures', () => {
    const enochABCD = {
      ...enoch,
      base64:
        'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n' +
        'ABCD' +
        '2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=',
    };
    const msg = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${insertAtByte(ENOCH_SIG, 60, 'ABCD')}`;
    const n = openNote(msg, [peterVerifier]);
    expect(n.verifiedSignatures).toEqual([peter]);
    expect(n.otherSignatures).toEqual([enoch, enochABCD]);
  });

  it('rejects the malformed messages', () => {
    const utf8 = (s: string) => Buffer.from(s, 'utf8');
    const badMsgs: [string | Uint8Array, SignedNoteErrorCode][] = [
      [TEXT, 'MALFORMED_NOTE'],
      [`${TEXT}\n`, 'MALFORMED_NOTE'],
      [`${TEXT}\n${PETER_SIG.slice(0, -1)}`, 'MALFORMED_NOTE'],
      [`\x01${TEXT}\n${PETER_SIG}`, 'MALFORMED_NOTE'],
      // Go's "\xff" + text is a raw byte, invalid UTF-8: built as bytes here.
      [Buffer.concat([Buffer.of(0xff), utf8(`${TEXT}\n${PETER_SIG}`)]), 'MALFORMED_NOTE'],
      [
        `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
        'MALFORMED_NOTE',
      ],
      [`${TEXT}\n${PETER_SIG}Unexpected line.\n`, 'MALFORMED_SIGNATURE_LINE'],
    ];
    for (const [msg, code] of badMsgs) {
      expect(codeOf(() => openNote(msg, [peterVerifier]))).toBe(code);
    }
  });

  it('treats a line with a known name but another key id, or another name, as unknown', () => {
    // Go's "Verifiers returns a Verifier for the wrong name or hash" cases, adapted: with a
    // list of verifiers, such lines are simply not from a known key.
    const misnamed = PETER_SIG.replaceAll('PeterNeumann', 'CarmenSandiego');
    expect(codeOf(() => openNote(`${TEXT}\n${misnamed}`, [peterVerifier]))).toBe('NO_VERIFIED_SIGNATURE');
    const wrongHash = PETER_SIG.replaceAll('x08g', 'xxxx');
    expect(codeOf(() => openNote(`${TEXT}\n${wrongHash}`, [peterVerifier]))).toBe('NO_VERIFIED_SIGNATURE');
  });
});
