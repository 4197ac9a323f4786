import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange, newNodeBatch } from './compact-range.ts';
import { MerkleError } from './errors.ts';
import { emptyRoot, hashChildren, hashLeaf } from './hash.ts';
import { MAX_TREE_SIZE, borderNodeIds, nodeIndex, nodeLevel } from './node-id.ts';

function leaf(i: number): Uint8Array {
  return hashLeaf(new TextEncoder().encode(`event ${i}`));
}

function popcount(n: number): number {
  return n.toString(2).replace(/0/g, '').length;
}

function trailingOnes(n: number): number {
  return n.toString(2).length - n.toString(2).replace(/1+$/, '').length;
}

describe('CompactRange', () => {
  it('append emits the leaf and each completed parent, lowest first, and keeps popcount(n) hashes', () => {
    const range = CompactRange.empty();
    for (let n = 0; n < 300; n++) {
      const out = range.append(leaf(n));
      expect(out.ids.length).toBe(1 + trailingOnes(n));
      expect(out.hashes.length).toBe(out.ids.length);
      // The leaf, then its parent, grandparent, ...: levels 0, 1, 2, ... covering up to leaf n.
      out.ids.forEach((id, k) => {
        expect(nodeLevel(id)).toBe(k);
        expect(nodeIndex(id)).toBe(Math.floor(n / 2 ** k));
      });
      expect(out.hashes[0]).toEqual(leaf(n));
      expect(range.size).toBe(n + 1);
      expect(range.hashes.length).toBe(popcount(n + 1));
      expect(range.ids()).toEqual(borderNodeIds(n + 1));
      // The last emitted node is the newest (rightmost) border entry.
      expect(range.hashes.at(-1)).toEqual(out.hashes.at(-1));
    }
  });

  it('each completed parent is the hash of its two children', () => {
    const range = CompactRange.empty();
    const byId = new Map<number, Uint8Array>();
    const batch = range.append(leaf(0));
    for (let n = 1; n < 64; n++) range.append(leaf(n), batch);
    batch.ids.forEach((id, k) => byId.set(id, batch.hashes[k]!));
    for (const [id, hash] of byId) {
      const level = nodeLevel(id);
      if (level === 0) continue;
      const span = 2 ** (level - 1); // in-order ids: children at id -/+ 2^(level-1)
      expect(hashChildren(byId.get(id - span)!, byId.get(id + span)!)).toEqual(hash);
    }
    expect(byId.size).toBe(127);
  });

  it('batches many appends into one NodeBatch', () => {
    const range = CompactRange.empty();
    const batch = newNodeBatch();
    for (let n = 0; n < 16; n++) range.append(leaf(n), batch);
    expect(batch.ids.length).toBe(31);
    expect(new Set(batch.ids).size).toBe(31);
  });

  it('fromBorder round-trips, and clone() is independent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 50 }), (n, more) => {
        const a = CompactRange.empty();
        for (let i = 0; i < n; i++) a.append(leaf(i));
        const b = CompactRange.fromBorder(n, a.hashes);
        const c = a.clone();
        expect(b.root()).toEqual(a.root());
        for (let i = n; i < n + more; i++) {
          a.append(leaf(i));
          b.append(leaf(i));
        }
        expect(b.root()).toEqual(a.root());
        expect(c.size).toBe(n);
        expect(c.hashes.length).toBe(popcount(n));
      }),
      { numRuns: 50 },
    );
  });

  it('root of the empty range is SHA-256 of the empty string; of one leaf, the leaf hash (a copy)', () => {
    expect(CompactRange.empty().root()).toEqual(emptyRoot());
    const r = CompactRange.empty();
    r.append(leaf(0));
    const root = r.root();
    expect(root).toEqual(leaf(0));
    root[0]! ^= 1;
    expect(r.root()).toEqual(leaf(0));
  });

  it('refuses a border whose length does not match the size, and bad hashes', () => {
    expect(() => CompactRange.fromBorder(3, [leaf(0)])).toThrow(
      expect.objectContaining({ code: 'INVALID_RANGE' }),
    );
    expect(() => CompactRange.fromBorder(0, [leaf(0)])).toThrow(
      expect.objectContaining({ code: 'INVALID_RANGE' }),
    );
    expect(() => CompactRange.fromBorder(2, [new Uint8Array(5)])).toThrow(
      expect.objectContaining({ code: 'INVALID_HASH_SIZE' }),
    );
    expect(() => CompactRange.fromBorder(-1, [])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => CompactRange.empty().append(new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'INVALID_HASH_SIZE' }),
    );
  });

  it('refuses to grow past MAX_TREE_SIZE', () => {
    const full = CompactRange.fromBorder(MAX_TREE_SIZE, [leaf(0)]);
    expect(() => full.append(leaf(1))).toThrow(MerkleError);
    expect(() => full.append(leaf(1))).toThrow(expect.objectContaining({ code: 'TREE_FULL' }));
    // Just below the limit, appending completes the single 2^52 subtree.
    const almost = CompactRange.fromBorder(
      MAX_TREE_SIZE - 1,
      Array.from({ length: 52 }, (_, i) => leaf(i)),
    );
    const out = almost.append(leaf(99));
    expect(out.ids.length).toBe(53);
    expect(nodeLevel(out.ids.at(-1)!)).toBe(52);
    expect(almost.hashes.length).toBe(1);
  });
});
