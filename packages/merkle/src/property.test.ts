// Property tests: the storage-backed structure (CompactRange appends into a node store,
// proofs planned from stored perfect nodes) against a naive recursive implementation of
// the RFC 6962 / RFC 9162 definitions written below, MTH, PATH and PROOF/SUBPROOF exactly
// as the RFC states them. Every generated proof must also verify.
import { sha256 } from '@civic-ledger/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange, newNodeBatch } from './compact-range.ts';
import { hashLeaf } from './hash.ts';
import { MemoryNodeStore } from './memory-store.ts';
import { MAX_TREE_SIZE, nodeIndex, nodeLevel, type NodeId } from './node-id.ts';
import { planConsistency, planInclusion } from './plan.ts';
import {
  consistencyProof,
  consistencyProofSync,
  inclusionProof,
  inclusionProofSync,
  rootAt,
  rootAtSync,
  type SyncNodeReader,
} from './store.ts';
import { verifyConsistency, verifyInclusion } from './verify.ts';

// ---------------------------------------------------------------------------------------
// Naive RFC 6962 (section 2.1) reference, over any tree given by its MTH of a leaf range.

const nodePrefix = new Uint8Array([0x01]);
function naiveNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(new Uint8Array([...nodePrefix, ...left, ...right]));
}

/** Largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

interface NaiveTree {
  /** MTH(D[begin:end]) */
  mth(begin: number, end: number): Uint8Array;
}

/** PATH(m, D[begin:end]): the audit path of leaf `m` (relative to begin). */
function naivePath(t: NaiveTree, m: number, begin: number, end: number): Uint8Array[] {
  const n = end - begin;
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...naivePath(t, m, begin, begin + k), t.mth(begin + k, end)];
  return [...naivePath(t, m - k, begin + k, end), t.mth(begin, begin + k)];
}

/** SUBPROOF(m, D[begin:end], b). */
function naiveSubproof(t: NaiveTree, m: number, begin: number, end: number, b: boolean): Uint8Array[] {
  const n = end - begin;
  if (m === n) return b ? [] : [t.mth(begin, end)];
  const k = splitPoint(n);
  if (m <= k) return [...naiveSubproof(t, m, begin, begin + k, b), t.mth(begin + k, end)];
  return [...naiveSubproof(t, m - k, begin + k, end, false), t.mth(begin, begin + k)];
}

/** PROOF(m, D[n]). */
function naiveConsistency(t: NaiveTree, m: number, n: number): Uint8Array[] {
  return naiveSubproof(t, m, 0, n, true);
}

/** A tree of explicit leaf hashes (MTH memoized per range, which the recursion revisits). */
class ArrayTree implements NaiveTree {
  readonly leaves: Uint8Array[];
  readonly #memo = new Map<string, Uint8Array>();
  constructor(leaves: Uint8Array[]) {
    this.leaves = leaves;
  }
  mth(begin: number, end: number): Uint8Array {
    const n = end - begin;
    if (n === 0) return sha256(new Uint8Array(0));
    if (n === 1) return this.leaves[begin]!;
    const key = `${begin}:${end}`;
    let h = this.#memo.get(key);
    if (h === undefined) {
      const k = splitPoint(n);
      h = naiveNode(this.mth(begin, begin + k), this.mth(begin + k, end));
      this.#memo.set(key, h);
    }
    return h;
  }
}

/**
 * A virtual tree of up to 2^52 leaves: leaves [0, boundary) all have hash `a`, the rest
 * hash `b`. Any range inside one run has a hash that depends only on its length, so the
 * definitional recursion stays O(log^2 n) with memoization. It also serves as a node
 * store, answering any perfect node from the same definition.
 */
class TwoRunTree implements NaiveTree, SyncNodeReader {
  readonly boundary: number;
  readonly #a: Uint8Array;
  readonly #b: Uint8Array;
  readonly #uniformA = new Map<number, Uint8Array>();
  readonly #uniformB = new Map<number, Uint8Array>();
  reads = 0;
  calls = 0;
  constructor(boundary: number, a: Uint8Array, b: Uint8Array) {
    this.boundary = boundary;
    this.#a = a;
    this.#b = b;
  }
  #uniform(v: Uint8Array, memo: Map<number, Uint8Array>, n: number): Uint8Array {
    if (n === 1) return v;
    let h = memo.get(n);
    if (h === undefined) {
      const k = splitPoint(n);
      h = naiveNode(this.#uniform(v, memo, k), this.#uniform(v, memo, n - k));
      memo.set(n, h);
    }
    return h;
  }
  mth(begin: number, end: number): Uint8Array {
    const n = end - begin;
    if (n === 0) return sha256(new Uint8Array(0));
    if (end <= this.boundary) return this.#uniform(this.#a, this.#uniformA, n);
    if (begin >= this.boundary) return this.#uniform(this.#b, this.#uniformB, n);
    const k = splitPoint(n);
    return naiveNode(this.mth(begin, begin + k), this.mth(begin + k, end));
  }
  leaf(i: number): Uint8Array {
    return i < this.boundary ? this.#a : this.#b;
  }
  getNodesSync(ids: readonly NodeId[]): Uint8Array[] {
    this.calls++;
    this.reads += ids.length;
    return ids.map((id) => {
      const span = 2 ** nodeLevel(id);
      const begin = nodeIndex(id) * span;
      return this.mth(begin, begin + span);
    });
  }
}

// ---------------------------------------------------------------------------------------

function bitLength(n: number): number {
  return n.toString(2).length;
}

function leafData(seed: number, i: number): Uint8Array {
  const d = new Uint8Array(8);
  const v = new DataView(d.buffer);
  v.setUint32(0, seed);
  v.setUint32(4, i);
  return d;
}

interface BuiltTree {
  store: MemoryNodeStore;
  naive: ArrayTree;
  roots: Uint8Array[];
}

function build(leaves: readonly Uint8Array[]): BuiltTree {
  const store = new MemoryNodeStore();
  const range = CompactRange.empty();
  const hashes: Uint8Array[] = [];
  const roots = [range.root()];
  const batch = newNodeBatch();
  for (const data of leaves) {
    const h = hashLeaf(data);
    hashes.push(h);
    range.append(h, batch);
    roots.push(range.root());
  }
  store.putNodes(batch);
  return { store, naive: new ArrayTree(hashes), roots };
}

const BIG = 3000;
const big = build(Array.from({ length: BIG }, (_, i) => leafData(0xc1f1c, i)));

describe('storage-backed tree vs naive RFC 6962 on a 3000-leaf log, at every earlier size', () => {
  it('roots: appender, store and naive MTH agree at every size 0..3000', () => {
    for (let n = 0; n <= BIG; n++) {
      const naive = big.naive.mth(0, n);
      expect(big.roots[n]).toEqual(naive);
      if (n % 97 === 0 || n === BIG) expect(rootAtSync(big.store, n)).toEqual(naive);
    }
  });

  it('rootAt matches MTH for random sizes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: BIG }), async (n) => {
        expect(await rootAt(big.store, n)).toEqual(big.naive.mth(0, n));
      }),
    );
  });

  it('inclusion proofs equal PATH(m, D[n]) and verify', async () => {
    const sizeAndIndex = fc
      .integer({ min: 1, max: BIG })
      .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
    await fc.assert(
      fc.asyncProperty(sizeAndIndex, async ([size, index]) => {
        const proof = await inclusionProof(big.store, index, size);
        expect(proof).toEqual(naivePath(big.naive, index, 0, size));
        expect(proof.length).toBe(planInclusion(index, size).proofLength);
        verifyInclusion(big.naive.leaves[index]!, index, size, proof, big.roots[size]!);
      }),
      { numRuns: 300 },
    );
  });

  it('consistency proofs equal PROOF(m, D[n]) and verify', async () => {
    const sizes = fc
      .integer({ min: 1, max: BIG })
      .chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2)));
    await fc.assert(
      fc.asyncProperty(sizes, async ([size1, size2]) => {
        const proof = await consistencyProof(big.store, size1, size2);
        expect(proof).toEqual(naiveConsistency(big.naive, size1, size2));
        expect(proof.length).toBe(planConsistency(size1, size2).proofLength);
        verifyConsistency(size1, size2, proof, big.roots[size1]!, big.roots[size2]!);
      }),
      { numRuns: 300 },
    );
  });

  it('every inclusion and consistency proof of every size up to 70 matches', () => {
    for (let size = 1; size <= 70; size++) {
      for (let i = 0; i < size; i++) {
        expect(inclusionProofSync(big.store, i, size)).toEqual(naivePath(big.naive, i, 0, size));
      }
      for (let size1 = 1; size1 <= size; size1++) {
        expect(consistencyProofSync(big.store, size1, size)).toEqual(
          naiveConsistency(big.naive, size1, size),
        );
      }
    }
  });
});

describe('storage-backed tree vs naive RFC 6962 on random trees', () => {
  it('random leaf contents (up to 300 leaves): roots after every append, proofs, verification', () => {
    const leaves = fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 300 });
    fc.assert(
      fc.property(leaves, fc.nat(), fc.nat(), (data, a, b) => {
        const t = build(data);
        for (let n = 0; n <= data.length; n++) expect(t.roots[n]).toEqual(t.naive.mth(0, n));
        if (data.length === 0) return;
        const size = 1 + (a % data.length);
        const index = b % size;
        const proof = inclusionProofSync(t.store, index, size);
        expect(proof).toEqual(naivePath(t.naive, index, 0, size));
        verifyInclusion(hashLeaf(data[index]!), index, size, proof, t.roots[size]!);
        const size1 = 1 + (b % size);
        const cproof = consistencyProofSync(t.store, size1, size);
        expect(cproof).toEqual(naiveConsistency(t.naive, size1, size));
        verifyConsistency(size1, size, cproof, t.roots[size1]!, t.roots[size]!);
      }),
      { numRuns: 60 },
    );
  });

  it('random trees of up to 4000 leaves with random seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4000 }), fc.nat(), fc.nat(), fc.nat(), (n, seed, a, b) => {
        const t = build(Array.from({ length: n }, (_, i) => leafData(seed, i)));
        expect(t.roots[n]).toEqual(t.naive.mth(0, n));
        const index = a % n;
        expect(inclusionProofSync(t.store, index, n)).toEqual(naivePath(t.naive, index, 0, n));
        const size1 = 1 + (b % n);
        const proof = consistencyProofSync(t.store, size1, n);
        expect(proof).toEqual(naiveConsistency(t.naive, size1, n));
        verifyConsistency(size1, n, proof, t.roots[size1]!, t.roots[n]!);
      }),
      { numRuns: 15 },
    );
  });
});

describe('huge virtual trees (sizes up to 2^52): planning arithmetic beyond 32 bits', () => {
  const hashA = hashLeaf(new Uint8Array([0xaa]));
  const hashB = hashLeaf(new Uint8Array([0xbb]));
  // Sizes biased towards powers of two and their neighbours, where bit tricks break.
  const hugeSize = fc.oneof(
    fc.integer({ min: 1, max: MAX_TREE_SIZE }),
    fc
      .tuple(fc.integer({ min: 1, max: 52 }), fc.integer({ min: -3, max: 3 }))
      .map(([k, d]) => Math.min(MAX_TREE_SIZE, Math.max(1, 2 ** k + d))),
  );
  const below = (n: number) => fc.integer({ min: 0, max: n - 1 });

  it('inclusion proofs equal PATH and verify; one batched read of at most 2 bitlen(n) nodes', () => {
    const gen = hugeSize.chain((size) =>
      fc.tuple(fc.constant(size), below(size), fc.integer({ min: 0, max: size })),
    );
    fc.assert(
      fc.property(gen, ([size, index, boundary]) => {
        const t = new TwoRunTree(boundary, hashA, hashB);
        const proof = inclusionProofSync(t, index, size);
        expect(proof).toEqual(naivePath(t, index, 0, size));
        verifyInclusion(t.leaf(index), index, size, proof, t.mth(0, size));
        expect(t.calls).toBeLessThanOrEqual(1);
        expect(t.reads).toBeLessThanOrEqual(2 * bitLength(size));
      }),
      { numRuns: 300 },
    );
  });

  it('consistency proofs equal PROOF and verify; one batched read of at most 2 bitlen(n) nodes', () => {
    const gen = hugeSize.chain((size2) =>
      fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2), fc.integer({ min: 0, max: size2 })),
    );
    fc.assert(
      fc.property(gen, ([size1, size2, boundary]) => {
        const t = new TwoRunTree(boundary, hashA, hashB);
        const proof = consistencyProofSync(t, size1, size2);
        expect(proof).toEqual(naiveConsistency(t, size1, size2));
        verifyConsistency(size1, size2, proof, t.mth(0, size1), t.mth(0, size2));
        expect(t.calls).toBeLessThanOrEqual(1);
        expect(t.reads).toBeLessThanOrEqual(2 * bitLength(size2));
      }),
      { numRuns: 300 },
    );
  });

  it('roots from the border equal MTH', () => {
    fc.assert(
      fc.property(
        hugeSize.chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size }))),
        ([size, boundary]) => {
          const t = new TwoRunTree(boundary, hashA, hashB);
          expect(rootAtSync(t, size)).toEqual(t.mth(0, size));
        },
      ),
      { numRuns: 200 },
    );
  });
});
