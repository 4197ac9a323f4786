import { createHash } from 'node:crypto';
import { decodeLeaf, encodeLeafText, LeafError } from '@civic-ledger/leaf';
import { EXAMPLE_EVENTS, SchemaError, validateEvent } from '@civic-ledger/schemas';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastDecodeLeaf } from './fast-leaf.ts';
import { hasSurrogate, mutated, sortedJson, textEdit } from './fuzz.ts';

const SIGNATURE = `${'Ab+/'.repeat(21)}xy==`;
const ADMITTED = '2026-11-02T09:00:00.123Z';
const encoder = new TextEncoder();

function leafText(event: unknown, index = 42, eventText = sortedJson(event)): string {
  return encodeLeafText({ index, admitted: ADMITTED, eventCanonical: eventText, signature: SIGNATURE });
}

/** The reference decoder: what the verifier runs when the fast path declines. */
function reference(bytes: Uint8Array) {
  try {
    const leaf = decodeLeaf(bytes);
    const v = validateEvent(leaf.event);
    if (v.canonical !== leaf.eventCanonical) return { refused: 'NOT_CANONICAL_EVENT' };
    return { leaf, event: v.event };
  } catch (e) {
    if (e instanceof LeafError || e instanceof SchemaError) return { refused: e.code };
    throw e;
  }
}

/** The fast decoder agrees with the reference: same leaf, or it declines. */
function expectAgrees(bytes: Uint8Array): { fast: boolean; reference: boolean } {
  const ref = reference(bytes);
  const fast = fastDecodeLeaf(bytes);
  if (fast !== undefined) {
    expect(ref.leaf).toBeDefined();
    const { leaf, event } = ref as Required<ReturnType<typeof reference>>;
    expect(fast.index).toBe(leaf.index);
    expect(fast.eventCanonical).toBe(leaf.eventCanonical);
    expect(fast.event).toEqual(event);
    // The event's bytes in the leaf are what the reference hashes.
    expect(createHash('sha256').update(bytes.subarray(fast.eventStart, fast.eventEnd)).digest('hex')).toBe(
      leaf.eventHash,
    );
    const sig = Buffer.from(bytes.subarray(fast.signatureStart, fast.signatureStart + 88)).toString('latin1');
    expect(sig).toBe(leaf.signature);
  }
  return { fast: fast !== undefined, reference: ref.leaf !== undefined };
}

const examples = Object.values(EXAMPLE_EVENTS);

describe('the fast leaf decoder', () => {
  it('decodes a canonical leaf of every event type exactly as the reference decoder does', () => {
    for (const e of examples) {
      for (const index of [0, 7, 2 ** 53 - 1]) {
        expect(expectAgrees(encoder.encode(leafText(e, index)))).toEqual({ fast: true, reference: true });
      }
    }
  });

  it('decodes a leaf inside a larger buffer, with offsets into it', () => {
    const text = leafText(EXAMPLE_EVENTS.use);
    const bytes = encoder.encode(`xx${text}yy`);
    const fast = fastDecodeLeaf(bytes, 2, bytes.length - 2)!;
    expect(fast.index).toBe(42);
    expect(new TextDecoder().decode(bytes.subarray(fast.eventStart, fast.eventEnd))).toBe(
      fast.eventCanonical,
    );
  });

  it.each([
    ['whitespace in the frame', (t: string) => t.replace('{"admitted"', '{ "admitted"')],
    ['whitespace in the event', (t: string) => t.replace('"emitter":', '"emitter": ')],
    ['an escaped letter', (t: string) => t.replace('"main"', '"m\\u0061in"')],
    ['a number as 900.0', (t: string) => t.replace(':900,', ':900.0,')],
    ['a number with an exponent', (t: string) => t.replace(':900,', ':9e2,')],
    [
      'members out of order',
      (t: string) => t.replace(/"bytes":(\d+),("categories":\[[^\]]*\])/, '$2,"bytes":$1'),
    ],
    ['a duplicate member', (t: string) => t.replace('"records":900', '"records":900,"records":900')],
    ['a leading zero in the index', (t: string) => t.replace('"index":42', '"index":042')],
    ['an index beyond 2^53', (t: string) => t.replace('"index":42', '"index":9007199254740993')],
    ['an unknown event member', (t: string) => t.replace('"v":1},"index"', '"v":1,"x":1},"index"')],
    ['a bad admitted time', (t: string) => t.replace('.123Z', 'Z')],
    ['a bad signature', (t: string) => t.replace('xy==', 'x===')],
    ['version 2', (t: string) => t.replace(/"v":1}$/, '"v":2}')],
    ['an extra leaf member', (t: string) => t.replace(/"v":1}$/, '"v":1,"w":1}')],
    ['a lone surrogate escape', (t: string) => t.replace('"main"', '"\\ud800"')],
  ])('declines %s, which the reference decoder refuses', (_name, edit) => {
    const text = edit(leafText(EXAMPLE_EVENTS.collect));
    expect(text).not.toBe(leafText(EXAMPLE_EVENTS.collect));
    expect(expectAgrees(encoder.encode(text))).toEqual({ fast: false, reference: false });
  });

  it('declines bytes that are not UTF-8, and a byte order mark', () => {
    const bytes = encoder.encode(leafText(EXAMPLE_EVENTS.collect));
    const at = Buffer.from(bytes).indexOf('main');
    const bad = Uint8Array.from(bytes);
    bad[at] = 0xff;
    expect(expectAgrees(bad)).toEqual({ fast: false, reference: false });
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]);
    expect(expectAgrees(bom)).toEqual({ fast: false, reference: false });
  });

  it('leaves to the reference decoder what it accepts but the fast path does not model', () => {
    // An extension member (its size limit is the reference's to check) and a note whose
    // emoji zod counts as code points.
    const ext = { ...EXAMPLE_EVENTS.collect, ext: { 'x-city:zone': 'north' } };
    expect(expectAgrees(encoder.encode(leafText(ext)))).toEqual({ fast: false, reference: true });
    const emoji = { ...EXAMPLE_EVENTS.use, note: '😀'.repeat(280) };
    expect(expectAgrees(encoder.encode(leafText(emoji)))).toEqual({ fast: false, reference: true });
  });

  it('agrees with the reference decoder on mutated events and edited leaf texts', () => {
    let both = 0;
    let neither = 0;
    const leaves = fc.oneof(
      // The event changed, then written canonically: valid or not by the schema's rules.
      fc.constantFrom(...examples).chain((e) => mutated(e).map((v) => ({ v, text: leafText(v) }))),
      // A valid leaf's text edited: mostly no longer canonical, or no longer JSON.
      fc
        .tuple(fc.constantFrom(...examples), fc.array(textEdit, { minLength: 1, maxLength: 2 }))
        .map(([e, edits]) => ({ v: e as unknown, text: edits.reduce((t, f) => f(t), leafText(e)) })),
    );
    fc.assert(
      fc.property(leaves, ({ v, text }) => {
        const r = expectAgrees(encoder.encode(text));
        // The fast path declines a leaf the reference accepts only for what it does not model.
        if (r.reference && !r.fast) {
          const e = JSON.parse(text.slice(text.indexOf('"event":') + 8, text.lastIndexOf(',"index":')));
          expect(e.ext !== undefined || hasSurrogate(e) || hasSurrogate(v)).toBe(true);
        }
        if (r.fast) both++;
        if (!r.fast && !r.reference) neither++;
      }),
      { numRuns: Number(process.env['FUZZ_RUNS'] ?? 3000) },
    );
    expect(both).toBeGreaterThan(40);
    expect(neither).toBeGreaterThan(500);
  }, 30_000);
});
