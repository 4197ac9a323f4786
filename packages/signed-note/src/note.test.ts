// Behaviour and mutation tests of signed notes (own cases, not published vectors).
import { generateSigningKey } from '@civic-ledger/crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_NOTE_BYTES,
  ed25519Signer,
  ed25519Verifier,
  formatNote,
  formatSignatureLine,
  openNote,
  parseNote,
  signNote,
} from './index.ts';
import type { NoteSigner, NoteVerifier, SignedNoteErrorCode } from './index.ts';
import { causeCode, codeOf, errorOf } from './test-helpers.ts';

function keyPair(name: string): { signer: NoteSigner; verifier: NoteVerifier } {
  const key = generateSigningKey(name);
  return { signer: ed25519Signer(key), verifier: ed25519Verifier(key) };
}

const log = keyPair('log.example/one');
const witness = keyPair('witness.example/w1');
const stranger = keyPair('stranger.example');

const TEXT = 'civic ledger test note\nsecond line, with ünïcödé — and 😀\n';
const signed = signNote(TEXT, [log.signer]);

const REJECTED: readonly (SignedNoteErrorCode | 'NO_ERROR')[] = [
  'MALFORMED_NOTE',
  'MALFORMED_SIGNATURE_LINE',
  'SIGNATURE_INVALID',
  'NO_VERIFIED_SIGNATURE',
];

describe('signNote / openNote', () => {
  it('round-trips, as string and as bytes', () => {
    const fromString = openNote(signed, [log.verifier]);
    expect(fromString.text).toBe(TEXT);
    expect(fromString.verifiedSignatures).toHaveLength(1);
    expect(fromString.verifiedSignatures[0]!.name).toBe('log.example/one');
    expect(fromString.verifiedSignatures[0]!.keyId).toBe(log.signer.keyId);
    expect(openNote(Buffer.from(signed, 'utf8'), [log.verifier])).toEqual(fromString);
  });

  it('signs the UTF-8 text including its final newline', () => {
    const raw = Buffer.from(parseNote(signed).signatures[0]!.base64, 'base64');
    expect(log.verifier.verify(Buffer.from(TEXT, 'utf8'), raw.subarray(4))).toBe(true);
    expect(log.verifier.verify(Buffer.from(TEXT.slice(0, -1), 'utf8'), raw.subarray(4))).toBe(false);
  });

  it('keeps a byte-order mark as part of the text', () => {
    const text = '\uFEFFbom first\n';
    const note = signNote(text, [log.signer]);
    expect(openNote(Buffer.from(note, 'utf8'), [log.verifier]).text).toBe(text);
  });

  it('accepts texts with empty lines, and the minimal text "\\n"', () => {
    for (const text of ['\n', 'a\n\nb\n', 'a\n\n', '\n\n\n']) {
      expect(openNote(signNote(text, [log.signer]), [log.verifier]).text).toBe(text);
    }
  });

  it('writes existing signatures first and new ones after, replacing same-key ones', () => {
    const once = signNote(TEXT, [log.signer, witness.signer]);
    const lines = once.split('\n');
    expect(lines[lines.length - 3]!.startsWith('— log.example/one ')).toBe(true);
    expect(lines[lines.length - 2]!.startsWith('— witness.example/w1 ')).toBe(true);
    const existing = parseNote(once).signatures;
    const again = signNote(TEXT, [log.signer], { existing });
    const names = parseNote(again).signatures.map((s) => s.name);
    expect(names).toEqual(['witness.example/w1', 'log.example/one']);
  });

  it('lets a witness add a cosignature while preserving lines it does not know', () => {
    const logNote = signNote(TEXT, [log.signer, stranger.signer]);
    const opened = openNote(logNote, [log.verifier]);
    expect(opened.otherSignatures.map((s) => s.name)).toEqual(['stranger.example']);
    const cosigned = signNote(opened.text, [witness.signer], {
      existing: [...opened.verifiedSignatures, ...opened.otherSignatures],
    });
    expect(cosigned.startsWith(logNote)).toBe(true);
    const all = openNote(cosigned, [log.verifier, witness.verifier, stranger.verifier]);
    expect(all.verifiedSignatures.map((s) => s.name)).toEqual([
      'log.example/one',
      'stranger.example',
      'witness.example/w1',
    ]);
  });

  it('accepts pluggable signers and verifiers', () => {
    // A toy scheme: the "signature" is the reversed message. Only the interface matters.
    const reverse = (m: Uint8Array) => Uint8Array.from(m).reverse();
    const signer: NoteSigner = { name: 'toy', keyId: 0xfffffffe, sign: reverse };
    const verifier: NoteVerifier = {
      name: 'toy',
      keyId: 0xfffffffe,
      verify: (m, s) => Buffer.from(reverse(m)).equals(s),
    };
    const note = signNote(TEXT, [signer]);
    expect(openNote(note, [verifier]).verifiedSignatures[0]!.keyId).toBe(0xfffffffe);
  });
});

describe('mutations', () => {
  it('every bit flip of every byte of the body is rejected', () => {
    const bytes = Buffer.from(signed, 'utf8');
    const bodyLength = Buffer.byteLength(TEXT, 'utf8');
    let checked = 0;
    for (let i = 0; i < bodyLength; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const m = Buffer.from(bytes);
        m[i]! ^= 1 << bit;
        const code = codeOf(() => openNote(m, [log.verifier]));
        expect(REJECTED, `byte ${i} bit ${bit}`).toContain(code);
        checked++;
      }
    }
    expect(checked).toBe(bodyLength * 8);
  });

  it('every bit flip anywhere in a singly signed note (signature line included) is rejected', () => {
    const bytes = Buffer.from(signed, 'utf8');
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const m = Buffer.from(bytes);
        m[i]! ^= 1 << bit;
        const code = codeOf(() => openNote(m, [log.verifier]));
        expect(REJECTED, `byte ${i} bit ${bit}`).toContain(code);
      }
    }
  });

  it('a bit flip in one of two trusted signature lines rejects the note or demotes that line', () => {
    // A flip in a key name or key id makes the line one of an unknown key, which the spec
    // says to ignore; the other trusted signature then still verifies the note.
    const note = signNote(TEXT, [log.signer, witness.signer]);
    const bytes = Buffer.from(note, 'utf8');
    const sigStart = Buffer.byteLength(TEXT, 'utf8') + 1;
    let demoted = 0;
    for (let i = sigStart; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const m = Buffer.from(bytes);
        m[i]! ^= 1 << bit;
        let opened;
        try {
          opened = openNote(m, [log.verifier, witness.verifier]);
        } catch {
          continue;
        }
        expect(opened.verifiedSignatures, `byte ${i} bit ${bit}`).toHaveLength(1);
        expect(opened.otherSignatures, `byte ${i} bit ${bit}`).toHaveLength(1);
        demoted++;
      }
    }
    expect(demoted).toBeGreaterThan(0);
  });

  it('a flipped body byte that stays printable ASCII gives SIGNATURE_INVALID', () => {
    const m = Buffer.from(signed, 'utf8');
    m[0] = m[0]! ^ 0x20; // 'c' -> 'C'
    expect(codeOf(() => openNote(m, [log.verifier]))).toBe('SIGNATURE_INVALID');
  });

  it('ignores lines from unknown keys', () => {
    const other = `— unknown.example/key ${Buffer.from('anything at all, opaque').toString('base64')}`;
    const note = `${signNote(TEXT, [stranger.signer, log.signer])}${other}\n`;
    const opened = openNote(note, [log.verifier]);
    expect(opened.verifiedSignatures.map((s) => s.name)).toEqual(['log.example/one']);
    expect(opened.otherSignatures.map(formatSignatureLine)).toEqual([note.split('\n')[3], other]);
  });

  it('ignores a line sharing only the name, or only the key id, of a trusted key', () => {
    const sameName = keyPair('log.example/one');
    const impostor: NoteVerifier = { name: 'other.example', keyId: log.verifier.keyId, verify: () => false };
    const note = signNote(TEXT, [sameName.signer, log.signer]);
    expect(openNote(note, [log.verifier, impostor]).otherSignatures).toHaveLength(1);
  });

  it('rejects the note when a known key signature is bad, wherever it is', () => {
    const bad = signNote('some other text\n', [witness.signer]).split('\n\n')[1]!;
    const goodFirst = `${signed}${bad}`;
    expect(codeOf(() => openNote(goodFirst, [log.verifier, witness.verifier]))).toBe('SIGNATURE_INVALID');
    const badFirst = `${TEXT}\n${bad}${signed.split('\n\n')[1]}`;
    expect(codeOf(() => openNote(badFirst, [log.verifier, witness.verifier]))).toBe('SIGNATURE_INVALID');
    // Not trusted: the same bad line is ignored.
    expect(openNote(goodFirst, [log.verifier]).otherSignatures).toHaveLength(1);
  });

  it('rejects a carriage return at any position', () => {
    for (let i = 0; i <= signed.length; i++) {
      const m = signed.slice(0, i) + '\r' + signed.slice(i);
      expect(
        codeOf(() => openNote(m, [log.verifier])),
        `at ${i}`,
      ).toBe('MALFORMED_NOTE');
    }
    expect(codeOf(() => openNote(signed.replaceAll('\n', '\r\n'), [log.verifier]))).toBe('MALFORMED_NOTE');
    expect(codeOf(() => signNote('a\r\n', [log.signer]))).toBe('MALFORMED_NOTE');
  });

  it('rejects other control characters but accepts DEL and C1 (the spec bans only < U+0020)', () => {
    for (const c of ['\x00', '\t', '\x0b', '\x0c', '\x1b', '\x1f']) {
      expect(codeOf(() => openNote(`${c}${signed}`, [log.verifier]))).toBe('MALFORMED_NOTE');
      expect(codeOf(() => signNote(`a${c}b\n`, [log.signer]))).toBe('MALFORMED_NOTE');
    }
    const text = 'del\x7f c1\x85\n';
    expect(openNote(signNote(text, [log.signer]), [log.verifier]).text).toBe(text);
  });

  it('rejects a missing final newline, and text not ending in a newline when signing', () => {
    expect(codeOf(() => openNote(signed.slice(0, -1), [log.verifier]))).toBe('MALFORMED_NOTE');
    expect(codeOf(() => openNote(`${signed}\n`, [log.verifier]))).toBe('MALFORMED_NOTE');
    expect(codeOf(() => signNote(TEXT.slice(0, -1), [log.signer]))).toBe('MALFORMED_NOTE');
  });

  it('rejects invalid UTF-8 and lone surrogates', () => {
    const bytes = Buffer.from(signed, 'utf8');
    for (const bad of [Buffer.of(0xc0, 0xaf), Buffer.of(0xed, 0xa0, 0x80), Buffer.of(0xe2, 0x80)]) {
      expect(codeOf(() => openNote(Buffer.concat([bad, bytes]), [log.verifier]))).toBe('MALFORMED_NOTE');
    }
    expect(codeOf(() => openNote(`\uD800${signed}`, [log.verifier]))).toBe('MALFORMED_NOTE');
    expect(codeOf(() => signNote('\uDC00\n', [log.signer]))).toBe('MALFORMED_NOTE');
  });

  it('rejects non-canonical base64 in a signature line, with INVALID_BASE64 as cause', () => {
    const sig = parseNote(signed).signatures[0]!;
    const b64 = sig.base64;
    expect(b64.endsWith('=')).toBe(true);
    const last = b64[b64.length - 2]!;
    // The character before '=' carries 2 unused bits: setting one keeps the bytes in
    // lenient decoders but is not canonical.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const noisy = alphabet[alphabet.indexOf(last) ^ 1]!;
    const variants = [
      b64.replace(/=+$/, ''), // padding dropped
      `${b64.slice(0, -2)}${noisy}=`, // non-zero unused bits
      `${b64.slice(0, 8)} ${b64.slice(8)}`.replace(/ /, ' ').replace(' ', '\u00a0'), // NBSP inside
      b64.replaceAll('+', '-').replaceAll('/', '_').replace(/^./, '-'), // URL-safe alphabet
      `${b64}==`, // extra padding
      `${b64.slice(0, 4)}=${b64.slice(5)}`, // padding in the middle
    ];
    for (const v of variants) {
      const note = `${TEXT}\n— ${sig.name} ${v}\n`;
      const err = errorOf(() => openNote(note, [log.verifier]));
      expect(err.code, v).toBe('MALFORMED_SIGNATURE_LINE');
      expect(causeCode(err), v).toBe('INVALID_BASE64');
    }
  });

  it('rejects malformed signature lines', () => {
    const b64 = parseNote(signed).signatures[0]!.base64;
    const lines = [
      `- log.example/one ${b64}`, // hyphen, not em dash
      `—log.example/one ${b64}`, // no space after the dash
      `— ${b64}`, // no name
      `—  log.example/one ${b64}`, // empty name
      `— log.example/one`, // no signature
      `— log.example/one `, // empty signature
      `— log+example ${b64}`, // '+' in the name
      `— log\u00a0example ${b64}`, // Unicode space in the name
      `— log\u2003example ${b64}`,
      `— log.example/one ${b64} extra`,
      `— log.example/one AAAAAA==`, // 4 bytes: a key id and no signature
    ];
    for (const line of lines) {
      expect(
        codeOf(() => openNote(`${TEXT}\n${line}\n`, [log.verifier])),
        line,
      ).toBe('MALFORMED_SIGNATURE_LINE');
    }
  });
});

describe('limits', () => {
  it('rejects notes over maxBytes, counting UTF-8 bytes', () => {
    const size = Buffer.byteLength(signed, 'utf8');
    expect(openNote(signed, [log.verifier], { maxBytes: size }).text).toBe(TEXT);
    expect(codeOf(() => openNote(signed, [log.verifier], { maxBytes: size - 1 }))).toBe('TOO_LARGE');
    expect(codeOf(() => openNote(Buffer.from(signed), [log.verifier], { maxBytes: size - 1 }))).toBe(
      'TOO_LARGE',
    );
    expect(signed.length).toBeLessThan(size); // multi-byte characters: string length is not enough
    expect(codeOf(() => parseNote(signed, { maxBytes: signed.length }))).toBe('TOO_LARGE');
    expect(codeOf(() => signNote(TEXT, [log.signer], { maxBytes: size - 1 }))).toBe('TOO_LARGE');
  });

  it('has a 1 MiB default', () => {
    const big = `${'x'.repeat(DEFAULT_MAX_NOTE_BYTES)}\n`;
    expect(codeOf(() => signNote(big, [log.signer]))).toBe('TOO_LARGE');
    expect(codeOf(() => parseNote(`${big}\n${signed.split('\n\n')[1]}`))).toBe('TOO_LARGE');
  });

  it('rejects more signature lines than maxSignatures, and accepts at least 16', () => {
    const line = signed.split('\n\n')[1]!;
    const note16 = `${TEXT}\n${line.repeat(16)}`;
    expect(parseNote(note16).signatures).toHaveLength(16);
    expect(codeOf(() => parseNote(note16, { maxSignatures: 15 }))).toBe('TOO_MANY_SIGNATURES');
    const sigs = parseNote(note16).signatures;
    expect(codeOf(() => formatNote({ text: TEXT, signatures: sigs }, { maxSignatures: 15 }))).toBe(
      'TOO_MANY_SIGNATURES',
    );
  });

  it('throws RangeError for nonsensical limits', () => {
    expect(() => parseNote(signed, { maxBytes: 0 })).toThrow(RangeError);
    expect(() => parseNote(signed, { maxSignatures: 1.5 })).toThrow(RangeError);
  });
});

describe('duplicates and verifier sets', () => {
  it('verifies only the first line of a trusted key and drops later ones', () => {
    const line = signed.split('\n\n')[1]!;
    const bad = signNote('other\n', [log.signer]).split('\n\n')[1]!;
    const opened = openNote(`${TEXT}\n${line}${bad}${line}`, [log.verifier]);
    expect(opened.verifiedSignatures).toHaveLength(1);
    expect(opened.otherSignatures).toHaveLength(0);
  });

  it('keeps identical unknown lines once', () => {
    const line = signNote(TEXT, [witness.signer]).split('\n\n')[1]!;
    const opened = openNote(`${signed}${line}${line}`, [log.verifier]);
    expect(opened.otherSignatures).toHaveLength(1);
  });

  it('rejects verifiers with an unusable key id', () => {
    const bad: NoteVerifier = { name: 'x', keyId: -1, verify: () => true };
    expect(codeOf(() => openNote(signed, [log.verifier, bad]))).toBe('INVALID_KEY');
  });

  it('reports a throwing verifier as SIGNATURE_INVALID with the cause', () => {
    const boom = new Error('boom');
    const v: NoteVerifier = {
      name: log.verifier.name,
      keyId: log.verifier.keyId,
      verify: () => {
        throw boom;
      },
    };
    const err = errorOf(() => openNote(signed, [v]));
    expect(err.code).toBe('SIGNATURE_INVALID');
    expect(err.cause).toBe(boom);
  });
});

describe('formatNote / signNote validation', () => {
  const sig = parseNote(signed).signatures[0]!;

  it('formats a parsed note back to the same text', () => {
    expect(formatNote(parseNote(signed))).toBe(signed);
  });

  it('needs at least one signature', () => {
    expect(codeOf(() => formatNote({ text: TEXT, signatures: [] }))).toBe('MALFORMED_NOTE');
    expect(codeOf(() => signNote(TEXT, []))).toBe('MALFORMED_NOTE');
  });

  it('checks that a signature key id matches its base64', () => {
    expect(codeOf(() => formatNote({ text: TEXT, signatures: [{ ...sig, keyId: sig.keyId ^ 1 }] }))).toBe(
      'MALFORMED_SIGNATURE_LINE',
    );
  });

  it('rejects signers returning nothing or with a bad key id', () => {
    const empty: NoteSigner = { name: 'x', keyId: 1, sign: () => new Uint8Array(0) };
    expect(codeOf(() => signNote(TEXT, [empty]))).toBe('SIGNING_FAILED');
    const notBytes = { name: 'x', keyId: 1, sign: () => 'sig' } as unknown as NoteSigner;
    expect(codeOf(() => signNote(TEXT, [notBytes]))).toBe('SIGNING_FAILED');
    const badId: NoteSigner = { name: 'x', keyId: 2 ** 32, sign: () => Uint8Array.of(1) };
    expect(codeOf(() => signNote(TEXT, [badId]))).toBe('INVALID_KEY');
  });
});
