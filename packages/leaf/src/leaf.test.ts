import { canonicalize } from '@civic-ledger/canonical-json';
import { sha256HexOfUtf8 } from '@civic-ledger/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLeaf, encodeLeafText, LeafError } from './index.ts';

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
