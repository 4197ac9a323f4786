import { canonicalize } from '@civic-ledger/canonical-json';
import { sha256HexOfUtf8 } from '@civic-ledger/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLeaf, encodeLeafAfter, encodeLeafText, LeafError } from './index.ts';

const event = { v: 1, type: 'use', emitter: 'police', note: 'a "quoted" é 😀' };
const fields = {
  index: 42,
  admitted: '2026-11-28T10:00:00.123Z',
  eventCanonical: canonicalize(event),
  signature: `${'A'.repeat(86)}==`,
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof LeafError) return e.code;
    throw e;
  }
  return undefined;
}

describe('leaf format', () => {
  it('is the canonical JSON of the leaf record, the event embedded verbatim', () => {
    const text = encodeLeafText(fields);
    expect(text).toBe(
      canonicalize({ v: 1, index: 42, admitted: fields.admitted, signature: fields.signature, event }),
    );
    expect(text).toContain(fields.eventCanonical);
  });

  it('decodes back, recomputing the event hash', () => {
    const d = decodeLeaf(new TextEncoder().encode(encodeLeafText(fields)));
    expect(d).toMatchObject({ index: 42, admitted: fields.admitted, signature: fields.signature, event });
    expect(d.eventHash).toBe(sha256HexOfUtf8(fields.eventCanonical));
  });

  it('round-trips for any index and event', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.dictionary(fc.string(), fc.string()), (index, ev) => {
        const f = { ...fields, index, eventCanonical: canonicalize(ev) };
        expect(decodeLeaf(encodeLeafText(f)).eventCanonical).toBe(f.eventCanonical);
      }),
    );
  });

  it('is written after a prefix with the same bytes as the leaf text, for any event', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 40 }),
        fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })),
        fc.nat({ max: 3 }),
        (index, ev, prefix) => {
          const f = { ...fields, index, eventCanonical: canonicalize(ev) };
          const out = encodeLeafAfter(f, Buffer.byteLength(f.eventCanonical), prefix);
          expect([...out.subarray(0, prefix)]).toEqual(new Array(prefix).fill(0));
          expect(out.subarray(prefix).toString('utf8')).toBe(encodeLeafText(f));
        },
      ),
    );
  });

  it('writes into the buffer its allocator gives, and nowhere else', () => {
    const bytes = Buffer.byteLength(fields.eventCanonical);
    const slab = Buffer.alloc(4096, 0xee);
    let given: Buffer | undefined;
    const out = encodeLeafAfter(fields, bytes, 1, (n) => (given = slab.subarray(100, 100 + n)));
    expect(out).toBe(given);
    expect(out.subarray(1).toString('utf8')).toBe(encodeLeafText(fields));
    expect(out[0]).toBe(0);
    expect(slab.subarray(0, 100).every((b) => b === 0xee)).toBe(true);
    expect(slab.subarray(100 + out.length).every((b) => b === 0xee)).toBe(true);
  });

  it('refuses to write the event with a wrong UTF-8 length, and bad fields as the text does', () => {
    const bytes = Buffer.byteLength(fields.eventCanonical);
    for (const wrong of [bytes - 1, bytes + 1, fields.eventCanonical.length])
      expect(codeOf(() => encodeLeafAfter(fields, wrong, 1))).toBe('LEAF_MALFORMED');
    expect(codeOf(() => encodeLeafAfter({ ...fields, index: -1 }, bytes, 1))).toBe('LEAF_MALFORMED');
    expect(codeOf(() => encodeLeafAfter({ ...fields, signature: 'x' }, bytes, 1))).toBe('LEAF_MALFORMED');
  });

  it.each([
    ['whitespace', (t: string) => t.replace('{"admitted"', '{ "admitted"'), 'LEAF_NOT_CANONICAL'],
    [
      'reordered members',
      () =>
        `{"event":${fields.eventCanonical},"admitted":"${fields.admitted}","index":42,"signature":"${fields.signature}","v":1}`,
      'LEAF_NOT_CANONICAL',
    ],
    ['extra member', (t: string) => t.replace(/"v":1}$/, '"v":1,"x":1}'), 'LEAF_MALFORMED'],
    ['version 2', (t: string) => t.replace(/"v":1}$/, '"v":2}'), 'LEAF_MALFORMED'],
    ['negative index', (t: string) => t.replace('"index":42', '"index":-1'), 'LEAF_MALFORMED'],
    ['bad time', (t: string) => t.replace('.123Z', 'Z'), 'LEAF_MALFORMED'],
    ['duplicate member', (t: string) => t.replace(/"v":1}$/, '"v":1,"v":1}'), 'LEAF_NOT_CANONICAL'],
  ])('refuses %s', (_n, mutate, code) => {
    expect(codeOf(() => decodeLeaf(mutate(encodeLeafText(fields))))).toBe(code);
  });
});
