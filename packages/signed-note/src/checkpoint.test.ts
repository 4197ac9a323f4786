// Checkpoint bodies and signed checkpoints (own cases, not published vectors).
import { randomBytes } from 'node:crypto';
import { generateSigningKey } from '@civic-ledger/crypto';
import { describe, expect, it } from 'vitest';
import {
  ed25519Signer,
  ed25519Verifier,
  formatCheckpoint,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  signCheckpoint,
  signNote,
} from './index.ts';
import type { Checkpoint, NoteSigner, NoteVerifier } from './index.ts';
import { causeCode, codeOf, errorOf } from './test-helpers.ts';

function keyPair(name: string): { signer: NoteSigner; verifier: NoteVerifier } {
  const key = generateSigningKey(name);
  return { signer: ed25519Signer(key), verifier: ed25519Verifier(key) };
}

const ORIGIN = 'ledger.example/log1';
const oldKey = keyPair(ORIGIN);
const newKey = keyPair(ORIGIN);
const witness = keyPair('witness.example/w1');
const ROOT = new Uint8Array(32).map((_, i) => i * 7);
const ROOT_B64 = Buffer.from(ROOT).toString('base64');
const cp: Checkpoint = { origin: ORIGIN, size: 20852163, rootHash: ROOT, extensions: [] };

describe('formatCheckpoint / parseCheckpoint', () => {
  it('formats the three lines', () => {
    expect(formatCheckpoint(cp)).toBe(`${ORIGIN}\n20852163\n${ROOT_B64}\n`);
  });

  it('round-trips with extensions and size 0', () => {
    const withExt: Checkpoint = { origin: ORIGIN, size: 0, rootHash: ROOT, extensions: ['— ext one', 'two'] };
    const body = formatCheckpoint(withExt);
    expect(body).toBe(`${ORIGIN}\n0\n${ROOT_B64}\n— ext one\ntwo\n`);
    expect(parseCheckpoint(body)).toEqual(withExt);
  });

  it('accepts the largest safe size and rejects larger ones', () => {
    expect(parseCheckpoint(`${ORIGIN}\n9007199254740991\n${ROOT_B64}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
    for (const size of ['9007199254740992', '18446744073709551615', '1'.repeat(400)]) {
      expect(
        codeOf(() => parseCheckpoint(`${ORIGIN}\n${size}\n${ROOT_B64}\n`)),
        size,
      ).toBe('MALFORMED_CHECKPOINT');
    }
  });

  it('rejects sizes with leading zeros, signs, spaces or other notations', () => {
    for (const size of [
      '00',
      '01',
      '007',
      '+1',
      '-1',
      '-0',
      ' 1',
      '1 ',
      '1e3',
      '0x10',
      '1.0',
      '1_000',
      '١٢',
      '',
    ]) {
      expect(
        codeOf(() => parseCheckpoint(`${ORIGIN}\n${size}\n${ROOT_B64}\n`)),
        JSON.stringify(size),
      ).toBe('MALFORMED_CHECKPOINT');
    }
  });

  it('rejects a root hash that is not exact base64 of 32 bytes', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = ROOT_B64[ROOT_B64.length - 2]!;
    const nonCanonical = `${ROOT_B64.slice(0, -2)}${alphabet[alphabet.indexOf(last) ^ 1]}=`;
    const b64Variants = [
      ROOT_B64.slice(0, -1), // no padding
      nonCanonical,
      ROOT_B64.replaceAll('+', '-').replaceAll('/', '_').replace(/^./, '_'),
      ` ${ROOT_B64}`,
    ];
    for (const v of b64Variants) {
      const err = errorOf(() => parseCheckpoint(`${ORIGIN}\n1\n${v}\n`));
      expect(err.code, v).toBe('MALFORMED_CHECKPOINT');
      expect(causeCode(err), v).toBe('INVALID_BASE64');
    }
    for (const n of [0, 31, 33, 64]) {
      const v = randomBytes(n).toString('base64');
      expect(
        codeOf(() => parseCheckpoint(`${ORIGIN}\n1\n${v}\n`)),
        `${n} bytes`,
      ).toBe('MALFORMED_CHECKPOINT');
    }
  });

  it('rejects malformed bodies', () => {
    const good = formatCheckpoint(cp);
    const bad = [
      '',
      `${ORIGIN}\n1\n`, // two lines
      `${ORIGIN}\n1\n${ROOT_B64}`, // no final newline
      `\n1\n${ROOT_B64}\n`, // empty origin
      `${good}\n`, // empty extension line
      `${good}ext\n\nmore\n`,
      good.replace('\n', '\r\n'), // CR
      `${ORIGIN}\x00\n1\n${ROOT_B64}\n`,
      `${ORIGIN}\uD800\n1\n${ROOT_B64}\n`,
    ];
    for (const body of bad) {
      expect(
        codeOf(() => parseCheckpoint(body)),
        JSON.stringify(body),
      ).toBe('MALFORMED_CHECKPOINT');
    }
  });

  it('refuses to format what it would not parse', () => {
    const bad: Checkpoint[] = [
      { ...cp, origin: '' },
      { ...cp, origin: 'a\nb' },
      { ...cp, origin: 'a\rb' },
      { ...cp, size: -1 },
      { ...cp, size: 1.5 },
      { ...cp, size: 2 ** 53 },
      { ...cp, size: Number.NaN },
      { ...cp, rootHash: new Uint8Array(31) },
      { ...cp, extensions: [''] },
      { ...cp, extensions: ['a\nb'] },
      { ...cp, extensions: ['\t'] },
    ];
    for (const c of bad) expect(codeOf(() => formatCheckpoint(c))).toBe('MALFORMED_CHECKPOINT');
  });
});

describe('signCheckpoint / openCheckpoint', () => {
  const signed = signCheckpoint(cp, newKey.signer);

  it('round-trips', () => {
    const v = openCheckpoint(signed, { verifiers: [newKey.verifier], origin: ORIGIN });
    expect(v.origin).toBe(ORIGIN);
    expect(v.size).toBe(20852163);
    expect(v.rootHash).toEqual(ROOT);
    expect(v.extensions).toEqual([]);
    expect(v.text).toBe(formatCheckpoint(cp));
    expect(v.verifiedSignatures.map((s) => [s.name, s.keyId])).toEqual([[ORIGIN, newKey.signer.keyId]]);
    expect(v.otherSignatures).toEqual([]);
  });

  it('rejects another origin', () => {
    expect(
      codeOf(() => openCheckpoint(signed, { verifiers: [newKey.verifier], origin: 'ledger.example/log2' })),
    ).toBe('ORIGIN_MISMATCH');
  });

  it('rejects a checkpoint with no trusted signature', () => {
    expect(codeOf(() => openCheckpoint(signed, { verifiers: [oldKey.verifier], origin: ORIGIN }))).toBe(
      'NO_VERIFIED_SIGNATURE',
    );
    expect(codeOf(() => openCheckpoint(signed, { verifiers: [], origin: ORIGIN }))).toBe(
      'NO_VERIFIED_SIGNATURE',
    );
  });

  it('rejects a validly signed note whose text is not a checkpoint', () => {
    const note = signNote('just a note\n', [newKey.signer]);
    expect(codeOf(() => openCheckpoint(note, { verifiers: [newKey.verifier], origin: ORIGIN }))).toBe(
      'MALFORMED_CHECKPOINT',
    );
  });

  it('supports key rotation: old and new log keys both sign, either key verifies', () => {
    const both = signCheckpoint(cp, [oldKey.signer, newKey.signer]);
    const byOld = openCheckpoint(both, { verifiers: [oldKey.verifier], origin: ORIGIN });
    expect(byOld.verifiedSignatures.map((s) => s.keyId)).toEqual([oldKey.signer.keyId]);
    expect(byOld.otherSignatures.map((s) => s.keyId)).toEqual([newKey.signer.keyId]);
    const byNew = openCheckpoint(both, { verifiers: [newKey.verifier], origin: ORIGIN });
    expect(byNew.verifiedSignatures.map((s) => s.keyId)).toEqual([newKey.signer.keyId]);
    expect(
      openCheckpoint(both, { verifiers: [oldKey.verifier, newKey.verifier], origin: ORIGIN })
        .verifiedSignatures,
    ).toHaveLength(2);
  });

  it('preserves witness cosignatures as opaque lines and lets them be re-emitted', () => {
    const opened = openNote(signed, [newKey.verifier]);
    const cosigned = signNote(opened.text, [witness.signer], { existing: opened.verifiedSignatures });
    const v = openCheckpoint(cosigned, { verifiers: [newKey.verifier], origin: ORIGIN });
    expect(v.otherSignatures.map((s) => s.name)).toEqual(['witness.example/w1']);
    const again = signNote(v.text, [], { existing: [...v.verifiedSignatures, ...v.otherSignatures] });
    expect(again).toBe(cosigned);
  });

  it('rejects every bit flip of every byte of a signed checkpoint', () => {
    const bytes = Buffer.from(signed, 'utf8');
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const m = Buffer.from(bytes);
        m[i]! ^= 1 << bit;
        expect(
          codeOf(() => openCheckpoint(m, { verifiers: [newKey.verifier], origin: ORIGIN })),
          `${i}/${bit}`,
        ).not.toBe('NO_ERROR');
      }
    }
  });

  it('rejects a size with a leading zero even when validly signed', () => {
    const body = `${ORIGIN}\n020852163\n${ROOT_B64}\n`;
    const note = signNote(body, [newKey.signer]);
    expect(codeOf(() => openCheckpoint(note, { verifiers: [newKey.verifier], origin: ORIGIN }))).toBe(
      'MALFORMED_CHECKPOINT',
    );
  });
});
