import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ChainBatch,
  checkLink,
  EMPTY_HEAD,
  findChainBreak,
  type ChainHead,
  type ChainLink,
} from './index.ts';

const h = (n: number) => n.toString(16).padStart(64, '0').replace(/^0/, 'a');
const ZERO = '0'.repeat(64);

function chainOf(n: number): ChainLink[] {
  return Array.from({ length: n }, (_, i) => ({ seq: i + 1, prev: i === 0 ? ZERO : h(i), hash: h(i + 1) }));
}

describe('checkLink', () => {
  const links = chainOf(5);
  const head: ChainHead = { seq: 3, hash: h(3) };
  const hashAt = (seq: number) => links[seq - 1]?.hash;

  it('accepts the genesis event on an empty chain and the next event on a chain', () => {
    expect(checkLink(EMPTY_HEAD, links[0]!, hashAt)).toEqual({ kind: 'ok' });
    expect(checkLink(head, links[3]!, hashAt)).toEqual({ kind: 'ok' });
  });

  it('names the expected seq on a gap', () => {
    expect(checkLink(head, links[4]!, hashAt)).toEqual({ kind: 'gap', expectedSeq: 4, seq: 5 });
    expect(checkLink(EMPTY_HEAD, links[1]!, hashAt)).toEqual({ kind: 'gap', expectedSeq: 1, seq: 2 });
  });

  it('names the expected prev when the next seq links elsewhere', () => {
    expect(checkLink(head, { seq: 4, prev: h(2), hash: h(99) }, hashAt)).toEqual({
      kind: 'bad-prev',
      seq: 4,
      expectedPrev: h(3),
      prev: h(2),
    });
    expect(checkLink(EMPTY_HEAD, { seq: 1, prev: h(7), hash: h(1) }, hashAt)).toMatchObject({
      kind: 'bad-prev',
      expectedPrev: ZERO,
    });
  });

  it('tells a duplicate (same event) from a fork (another event at that seq)', () => {
    expect(checkLink(head, links[1]!, hashAt)).toEqual({ kind: 'duplicate', seq: 2, hash: h(2) });
    expect(checkLink(head, { seq: 2, prev: h(1), hash: h(42) }, hashAt)).toEqual({
      kind: 'fork',
      seq: 2,
      existingHash: h(2),
      hash: h(42),
    });
  });

  it('never throws on malformed input', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (seq, prev, hash) => {
        const out = checkLink(head, { seq, prev, hash } as unknown as ChainLink, hashAt);
        expect(['ok', 'duplicate', 'gap', 'fork', 'bad-prev', 'invalid']).toContain(out.kind);
      }),
    );
  });
});

describe('ChainBatch', () => {
  it('accepts consecutive events of a chain within one batch and reports changed heads', () => {
    const batch = new ChainBatch(
      () => EMPTY_HEAD,
      () => undefined,
    );
    for (const l of chainOf(4)) expect(batch.apply('a/main', l).kind).toBe('ok');
    expect(batch.apply('a/main', chainOf(4)[1]!).kind).toBe('duplicate');
    expect(batch.apply('b/main', chainOf(2)[1]!).kind).toBe('gap');
    expect(batch.changedHeads()).toEqual(new Map([['a/main', { seq: 4, hash: h(4) }]]));
  });

  it('continues from committed heads', () => {
    const committed = chainOf(3);
    const batch = new ChainBatch(
      () => ({ seq: 3, hash: h(3) }),
      (_k, seq) => committed[seq - 1]?.hash,
    );
    expect(batch.apply('a/main', { seq: 3, prev: h(2), hash: h(3) }).kind).toBe('duplicate');
    expect(batch.apply('a/main', { seq: 3, prev: h(2), hash: h(33) }).kind).toBe('fork');
    expect(batch.apply('a/main', { seq: 4, prev: h(3), hash: h(4) }).kind).toBe('ok');
  });
});

describe('findChainBreak', () => {
  it('finds no break in an intact chain and the first break after any reordering, drop or replay', () => {
    expect(findChainBreak(chainOf(50))).toBeUndefined();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 48 }), fc.constantFrom('swap', 'drop', 'replay'), (i, how) => {
        const links = chainOf(50);
        if (how === 'swap') [links[i], links[i + 1]] = [links[i + 1]!, links[i]!];
        if (how === 'drop') links.splice(i, 1);
        if (how === 'replay') links.splice(i + 1, 0, links[i]!);
        const br = findChainBreak(links);
        expect(br?.index).toBe(how === 'replay' ? i + 1 : i);
      }),
    );
  });
});
