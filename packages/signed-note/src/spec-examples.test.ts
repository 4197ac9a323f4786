// Examples published with the specifications, copied verbatim:
// - c2sp.org/signed-note: the example note in signed-note.md (github.com/C2SP/C2SP, file as
//   stored at commit 055287621bf3cd13ff4394418a3e8efc2d5e8ed7).
// - c2sp.org/tlog-checkpoint: the example checkpoint in tlog-checkpoint.md (github.com/C2SP/C2SP,
//   file as stored at commit 2793893976c835db049c194d8f2c4f946dcb70ba).
// - Go's golang.org/x/mod/sumdb/tlog note_test.go TestFormatTree / TestParseTree (github.com/
//   golang/mod, file as stored at commit 774e77886cf18ba9e220baec8497d65b0c50373f): a tree
//   head body of the same three-line form, whose root hash is RecordHash("hello world") =
//   SHA-256(0x00 || "hello world").
//
// Neither C2SP document publishes the public keys behind its example signatures, so these
// examples are checked for parsing, exact re-formatting and the spec's rejection rules, not
// for a successful verification (the Go note vectors in go-note-vectors.test.ts cover that).
import { generateSigningKey, sha256Parts } from '@civic-ledger/crypto';
import { describe, expect, it } from 'vitest';
import {
  ed25519Verifier,
  formatCheckpoint,
  formatNote,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseNote,
} from './index.ts';
import type { NoteVerifier } from './index.ts';
import { codeOf } from './test-helpers.ts';

const SIGNED_NOTE_EXAMPLE =
  'Ognuno sta solo sul cuor della terra\n' +
  'trafitto da un raggio di sole:\n' +
  '\n' +
  'ed è subito sera.\n' +
  '\n' +
  '— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n';

const CHECKPOINT_EXAMPLE =
  'example.com/behind-the-sofa\n' +
  '20852163\n' +
  'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n' +
  '\n' +
  '— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';

/** A verifier claiming a key (name, key id) whose signatures never verify. */
function impostor(name: string, keyId: number): NoteVerifier {
  return { name, keyId, verify: () => false };
}

describe('c2sp.org/signed-note example', () => {
  const parsed = parseNote(SIGNED_NOTE_EXAMPLE);
  const sig = parsed.signatures[0]!;

  it('splits text and signatures at the last blank line (the text has an empty line)', () => {
    expect(parsed.text).toBe(
      'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n',
    );
    expect(parsed.signatures).toHaveLength(1);
    expect(sig.name).toBe('quasimodo.example/salvatore');
    const raw = Buffer.from(sig.base64, 'base64');
    expect(raw.length).toBe(4 + 64); // key id + Ed25519 signature
    expect(sig.keyId).toBe(raw.readUInt32BE(0));
  });

  it('formats back to the same bytes', () => {
    expect(formatNote(parsed)).toBe(SIGNED_NOTE_EXAMPLE);
  });

  it('is rejected without a known key (MUST reject)', () => {
    expect(codeOf(() => openNote(SIGNED_NOTE_EXAMPLE, []))).toBe('NO_VERIFIED_SIGNATURE');
  });

  it('ignores keys sharing only the name or only the key id', () => {
    const sameName = ed25519Verifier(generateSigningKey('quasimodo.example/salvatore'));
    expect(sameName.keyId).not.toBe(sig.keyId);
    expect(
      codeOf(() => openNote(SIGNED_NOTE_EXAMPLE, [sameName, impostor('other.example', sig.keyId)])),
    ).toBe('NO_VERIFIED_SIGNATURE');
  });

  it('is rejected when a known key (same name and key id) does not verify it', () => {
    expect(codeOf(() => openNote(SIGNED_NOTE_EXAMPLE, [impostor(sig.name, sig.keyId)]))).toBe(
      'SIGNATURE_INVALID',
    );
  });
});

describe('c2sp.org/tlog-checkpoint example', () => {
  it('parses the note and its checkpoint body', () => {
    const note = parseNote(CHECKPOINT_EXAMPLE);
    expect(note.signatures.map((s) => s.name)).toEqual(['example.com/behind-the-sofa']);
    const cp = parseCheckpoint(note.text);
    expect(cp.origin).toBe('example.com/behind-the-sofa');
    expect(cp.size).toBe(20852163);
    expect(Buffer.from(cp.rootHash).toString('base64')).toBe('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    expect(cp.rootHash.length).toBe(32);
    expect(cp.extensions).toEqual([]);
    expect(formatCheckpoint(cp)).toBe(note.text);
    expect(formatNote(note)).toBe(CHECKPOINT_EXAMPLE);
  });

  it('is not accepted without the log key', () => {
    const unrelated = ed25519Verifier(generateSigningKey('example.com/behind-the-sofa'));
    expect(
      codeOf(() =>
        openCheckpoint(CHECKPOINT_EXAMPLE, { verifiers: [unrelated], origin: 'example.com/behind-the-sofa' }),
      ),
    ).toBe('NO_VERIFIED_SIGNATURE');
  });
});

describe('Go sumdb/tlog TestFormatTree / TestParseTree', () => {
  const golden = 'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n';
  const hash = sha256Parts(Uint8Array.of(0), Buffer.from('hello world'));

  it('formats the golden tree head', () => {
    expect(
      formatCheckpoint({
        origin: 'go.sum database tree',
        size: 123456789012,
        rootHash: hash,
        extensions: [],
      }),
    ).toBe(golden);
  });

  it('parses the golden tree head', () => {
    const cp = parseCheckpoint(golden);
    expect(cp).toEqual({
      origin: 'go.sum database tree',
      size: 123456789012,
      rootHash: hash,
      extensions: [],
    });
  });

  it('rejects the bad trees that tlog-checkpoint also forbids', () => {
    expect(
      codeOf(() =>
        parseCheckpoint('go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n'),
      ),
    ).toBe('MALFORMED_CHECKPOINT');
    expect(
      codeOf(() =>
        parseCheckpoint(
          'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n',
        ),
      ),
    ).toBe('MALFORMED_CHECKPOINT');
  });

  it('reads trailing lines as extension lines, but requires the final newline (unlike legacy Go)', () => {
    // Go's ParseTree ignores junk after the third line; tlog-checkpoint makes such lines
    // extension lines, which must be complete lines.
    expect(parseCheckpoint(golden + 'JOE\n').extensions).toEqual(['JOE']);
    expect(parseCheckpoint(golden + 'JOE\n'.repeat(1000)).extensions).toHaveLength(1000);
    expect(codeOf(() => parseCheckpoint(golden + 'JOE'))).toBe('MALFORMED_CHECKPOINT');
  });
});
