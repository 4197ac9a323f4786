// Property tests (fast-check): what is formatted parses back to the same value, and what is
// signed opens to the same text; random damage never verifies.
import { generateSigningKey } from '@civic-ledger/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SignedNoteError,
  ed25519Signer,
  ed25519Verifier,
  encodeBase64,
  formatCheckpoint,
  formatNote,
  isValidKeyName,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseNote,
  signCheckpoint,
  signNote,
} from './index.ts';
import type { Checkpoint, NoteSignature } from './index.ts';

/** Replaces control characters (all of U+0000–U+001F, newline included) by '·'. */
function stripControl(s: string): string {
  return Array.from(s, (ch) => (ch.codePointAt(0)! < 0x20 ? '·' : ch)).join('');
}

const lineArb = fc
  .oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme-ascii', maxLength: 30 }))
  .map(stripControl);
const nonEmptyLineArb = lineArb.filter((s) => s !== '');
/** Note texts: lines (empty ones included) each ending in a newline. */
const textArb = fc.array(lineArb, { minLength: 1, maxLength: 6 }).map((lines) => `${lines.join('\n')}\n`);
const nameArb = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom(...'abcXYZ0189./-_:é😀—'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    minLength: 1,
    maxLength: 20,
  })
  .filter(isValidKeyName);
const keyIdArb = fc.integer({ min: 0, max: 0xffffffff });
const sigArb: fc.Arbitrary<NoteSignature> = fc
  .record({ name: nameArb, keyId: keyIdArb, sig: fc.uint8Array({ minLength: 1, maxLength: 80 }) })
  .map(({ name, keyId, sig }) => {
    const raw = new Uint8Array(4 + sig.length);
    new DataView(raw.buffer).setUint32(0, keyId);
    raw.set(sig, 4);
    return { name, keyId, base64: encodeBase64(raw) };
  });

const keys = ['a.example/k1', 'b.example/k2', 'a.example/k1'].map((name) => {
  const key = generateSigningKey(name);
  return { signer: ed25519Signer(key), verifier: ed25519Verifier(key) };
});

describe('properties', () => {
  it('formatNote → parseNote round-trips any valid note', () => {
    fc.assert(
      fc.property(textArb, fc.array(sigArb, { minLength: 1, maxLength: 5 }), (text, signatures) => {
        const formatted = formatNote({ text, signatures });
        const parsed = parseNote(formatted);
        expect(parsed).toEqual({ text, signatures });
        expect(formatNote(parsed)).toBe(formatted);
        expect(parseNote(Buffer.from(formatted, 'utf8'))).toEqual(parsed);
      }),
    );
  });

  it('signNote → openNote round-trips with any subset of keys and unknown lines', () => {
    fc.assert(
      fc.property(
        textArb,
        fc.subarray(keys, { minLength: 1 }),
        fc.array(sigArb, { maxLength: 3 }),
        (text, chosen, unknown) => {
          const note = signNote(
            text,
            chosen.map((k) => k.signer),
            { existing: unknown },
          );
          const opened = openNote(
            note,
            keys.map((k) => k.verifier),
          );
          expect(opened.text).toBe(text);
          expect(opened.verifiedSignatures.map((s) => [s.name, s.keyId])).toEqual(
            chosen.map((k) => [k.signer.name, k.signer.keyId]),
          );
          const uniqueUnknown = [...new Map(unknown.map((s) => [`${s.name} ${s.base64}`, s])).values()];
          expect(opened.otherSignatures).toEqual(uniqueUnknown);
        },
      ),
    );
  });

  it('formatCheckpoint → parseCheckpoint round-trips, and so does sign → open', () => {
    const checkpointArb: fc.Arbitrary<Checkpoint> = fc.record({
      origin: nonEmptyLineArb,
      size: fc.oneof(fc.maxSafeNat(), fc.nat({ max: 1000 })),
      rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      extensions: fc.array(nonEmptyLineArb, { maxLength: 3 }),
    });
    const log = keys[0]!;
    fc.assert(
      fc.property(checkpointArb, (cp) => {
        const body = formatCheckpoint(cp);
        expect(parseCheckpoint(body)).toEqual(cp);
        const opened = openCheckpoint(signCheckpoint(cp, log.signer), {
          verifiers: [log.verifier],
          origin: cp.origin,
        });
        expect(opened.size).toBe(cp.size);
        expect(opened.rootHash).toEqual(cp.rootHash);
        expect(opened.text).toBe(body);
      }),
    );
  });

  it('the size line is exactly the decimal form without leading zeros', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 1, max: 3 }), (size, zeros) => {
        const root = encodeBase64(new Uint8Array(32));
        expect(parseCheckpoint(`o\n${size}\n${root}\n`).size).toBe(size);
        expect(() => parseCheckpoint(`o\n${'0'.repeat(zeros)}${size}\n${root}\n`)).toThrow(SignedNoteError);
      }),
    );
  });

  it('inserting any character anywhere into a signed note makes it fail to open', () => {
    const log = keys[1]!;
    fc.assert(
      fc.property(
        textArb,
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        fc.nat(),
        (text, ch, at) => {
          const note = signNote(text, [log.signer]);
          const i = at % (note.length + 1);
          const damaged = note.slice(0, i) + ch + note.slice(i);
          expect(() => openNote(damaged, [log.verifier])).toThrow(SignedNoteError);
        },
      ),
    );
  });

  it('parseNote throws only SignedNoteError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array()), (input) => {
        try {
          parseNote(input);
        } catch (err) {
          expect(err).toBeInstanceOf(SignedNoteError);
        }
      }),
    );
  });
});
