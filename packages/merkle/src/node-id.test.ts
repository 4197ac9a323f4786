import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bit, bitLen, popcount, shr, trailingZeros, xor } from './bits.ts';
import { MAX_TREE_SIZE, borderNodeIds, nodeCoverage, nodeId, nodeIndex, nodeLevel } from './node-id.ts';

const safe53 = fc.bigInt({ min: 0n, max: 2n ** 53n - 1n });

describe('bit helpers agree with BigInt on 53-bit values', () => {
  it('bitLen, popcount, trailingZeros, xor, shr, bit', () => {
    fc.assert(
      fc.property(safe53, safe53, fc.integer({ min: 0, max: 60 }), (a, b, k) => {
        const x = Number(a);
        const y = Number(b);
        expect(bitLen(x)).toBe(a === 0n ? 0 : a.toString(2).length);
        expect(popcount(x)).toBe(a.toString(2).replace(/0/g, '').length);
        if (a > 0n)
          expect(trailingZeros(x)).toBe(a.toString(2).length - a.toString(2).replace(/0+$/, '').length);
        expect(xor(x, y)).toBe(Number(a ^ b));
        expect(shr(x, k)).toBe(Number(a >> BigInt(k)));
        expect(bit(x, k)).toBe(Number((a >> BigInt(k)) & 1n));
      }),
      { numRuns: 2000 },
    );
  });

  it('edge values', () => {
    for (const v of [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52, 2 ** 53 - 1]) {
      const a = BigInt(v);
      expect(bitLen(v)).toBe(v === 0 ? 0 : a.toString(2).length);
      expect(popcount(v)).toBe(a.toString(2).replace(/0/g, '').length);
      if (v > 0)
        expect(trailingZeros(v)).toBe(a.toString(2).length - a.toString(2).replace(/0+$/, '').length);
    }
  });
});

describe('NodeId', () => {
  it('packs (level, index) in in-order position: leaves even, parent between its children', () => {
    expect([0, 1, 2, 3].map((i) => nodeId(0, i))).toEqual([0, 2, 4, 6]);
    expect([0, 1].map((i) => nodeId(1, i))).toEqual([1, 5]);
    expect(nodeId(2, 0)).toBe(3);
    expect(nodeId(52, 0)).toBe(2 ** 52 - 1);
    expect(nodeId(0, 2 ** 52 - 1)).toBe(2 ** 53 - 2);
  });

  it('round-trips every (level, index) of a 2^52-leaf tree', () => {
    const levelAndIndex = fc
      .integer({ min: 0, max: 52 })
      .chain((level) => fc.tuple(fc.constant(level), fc.integer({ min: 0, max: 2 ** (52 - level) - 1 })));
    fc.assert(
      fc.property(levelAndIndex, ([level, index]) => {
        const id = nodeId(level, index);
        expect(Number.isSafeInteger(id)).toBe(true);
        expect(nodeLevel(id)).toBe(level);
        expect(nodeIndex(id)).toBe(index);
        expect(nodeCoverage(id)).toEqual([index * 2 ** level, (index + 1) * 2 ** level]);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses out-of-range levels, indexes and ids', () => {
    for (const [level, index] of [
      [-1, 0],
      [53, 0],
      [0, 2 ** 52],
      [1, 2 ** 51],
      [0, -1],
      [0.5, 0],
      [0, 1.5],
    ] as const) {
      expect(() => nodeId(level, index)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    for (const id of [-1, 2 ** 53 - 1, 1.5, Number.NaN]) {
      expect(() => nodeLevel(id)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('borderNodeIds: the binary decomposition of the size, largest subtree first', () => {
    expect(borderNodeIds(0)).toEqual([]);
    expect(borderNodeIds(7)).toEqual([nodeId(2, 0), nodeId(1, 2), nodeId(0, 6)]);
    expect(borderNodeIds(8)).toEqual([nodeId(3, 0)]);
    expect(borderNodeIds(MAX_TREE_SIZE)).toEqual([nodeId(52, 0)]);
    expect(borderNodeIds(MAX_TREE_SIZE - 1).length).toBe(52);
    const big = 2 ** 40 + 2 ** 33 + 5;
    expect(borderNodeIds(big)).toEqual([
      nodeId(40, 0),
      nodeId(33, 2 ** 7),
      nodeId(2, (2 ** 40 + 2 ** 33) / 4),
      nodeId(0, big - 1),
    ]);
    expect(() => borderNodeIds(MAX_TREE_SIZE + 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
