import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChainIndex } from './chain-index.ts';
import { HashIndex, keyParts } from './hash-index.ts';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

function found(index: HashIndex, hash: string): number[] {
  const out: number[] = [];
  const [hi, lo] = keyParts(hash);
  index.find(hi, lo, out);
  return out.sort((a, b) => a - b);
}

describe('HashIndex', () => {
  it('finds every index by its key across growth, and nothing for absent keys', () => {
    const index = new HashIndex(); // sized for 1024, grows (rehashes) several times
    const hashes = Array.from({ length: 20_000 }, (_, i) => hex(`e${i}`));
    for (const h of hashes) index.add(...keyParts(h));
    expect(index.size).toBe(20_000);
    for (let i = 0; i < hashes.length; i += 97) expect(found(index, hashes[i]!)).toEqual([i]);
    for (let i = 0; i < 1000; i++) expect(found(index, hex(`absent${i}`))).toEqual([]);
    // 6 bytes of key per entry plus 4 per slot at a load of 3/8..3/4.
    expect(index.bytes / index.size).toBeLessThan(6 * 2 + 4 / 0.375);
  });

  it('keeps every index of a repeated key (prefix collisions)', () => {
    const index = new HashIndex();
    const h = hex('same');
    for (let i = 0; i < 5; i++) {
      index.add(...keyParts(h));
      index.add(...keyParts(hex(`other${i}`)));
    }
    expect(found(index, h)).toEqual([0, 2, 4, 6, 8]);
  });

  it('with a narrowed key width, hashes sharing the leading bits are candidates of each other', () => {
    const index = new HashIndex({ keyBits: 4 });
    const hashes = Array.from({ length: 200 }, (_, i) => hex(`n${i}`));
    for (const h of hashes) index.add(...keyParts(h));
    for (let i = 0; i < hashes.length; i++) {
      const same = hashes.flatMap((h, j) => (h[0] === hashes[i]![0] ? [j] : []));
      expect(found(index, hashes[i]!)).toEqual(same);
    }
    expect(() => new HashIndex({ keyBits: 49 })).toThrow(RangeError);
  });

  it('forgets everything on clear', () => {
    const index = new HashIndex();
    index.add(...keyParts(hex('a')));
    index.clear();
    expect(index.size).toBe(0);
    expect(found(index, hex('a'))).toEqual([]);
    index.add(...keyParts(hex('b')));
    expect(found(index, hex('b'))).toEqual([0]);
  });
});

describe('ChainIndex', () => {
  it('finds positions of interleaved consecutive chains and their heads', () => {
    const chains = new ChainIndex();
    for (let i = 0; i < 3000; i++) chains.add(`org/s${i % 3}`, Math.floor(i / 3) + 1, i);
    expect(chains.entry('org/s1', 1)).toBe(1);
    expect(chains.entry('org/s2', 1000)).toBe(2999);
    expect(chains.entry('org/s2', 1001)).toBeUndefined();
    expect(chains.entry('org/s2', 0)).toBeUndefined();
    expect(chains.entry('org/s2', 1.5)).toBeUndefined();
    expect(chains.entry('nobody/main', 1)).toBeUndefined();
    expect(chains.head('org/s0')).toBe(2997);
    expect(chains.head('nobody/main')).toBeUndefined();
    // Consecutive seqs cost one Uint32 per entry (twice that at most while growing).
    expect(chains.bytes).toBeLessThanOrEqual(3000 * 8);
  });

  it('keeps seqs that do not follow each other: gaps, a restart, a repeat', () => {
    const chains = new ChainIndex();
    [5, 6, 9, 20].forEach((seq, i) => chains.add('a/main', seq, i));
    expect(chains.entry('a/main', 6)).toBe(1);
    expect(chains.entry('a/main', 9)).toBe(2);
    expect(chains.entry('a/main', 7)).toBeUndefined();
    expect(chains.head('a/main')).toBe(3);
    chains.add('a/main', 3, 4); // out of order: searched linearly from now on
    chains.add('a/main', 9, 5); // a repeated seq: the first stays the answer
    expect(chains.entry('a/main', 3)).toBe(4);
    expect(chains.entry('a/main', 9)).toBe(2);
    expect(chains.entry('a/main', 20)).toBe(3);
    expect(chains.head('a/main')).toBe(3);
    chains.clear();
    expect(chains.head('a/main')).toBeUndefined();
  });
});
