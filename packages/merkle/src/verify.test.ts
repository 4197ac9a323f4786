// Every mutation of a valid proof must be refused, with a code that says why. The
// mutations follow corruptInclusionProof / corruptConsistencyProof in transparency-dev's
// proof/verify_test.go, applied to every proof of every tree of up to MAX_SIZE leaves.
import { describe, expect, it } from 'vitest';
import { CompactRange } from './compact-range.ts';
import { MerkleError, isMerkleError, type MerkleErrorCode } from './errors.ts';
import { emptyRoot, hashLeaf } from './hash.ts';
import { MemoryNodeStore } from './memory-store.ts';
import { consistencyProofSync, inclusionProofSync } from './store.ts';
import {
  isValidConsistency,
  isValidInclusion,
  rootFromConsistencyProof,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './verify.ts';

const MAX_SIZE = 40;

function leafData(i: number): Uint8Array {
  return new TextEncoder().encode(`leaf ${i}`);
}

const store = new MemoryNodeStore();
const leafHashes: Uint8Array[] = [];
const roots: Uint8Array[] = [emptyRoot()];
{
  const range = CompactRange.empty();
  for (let i = 0; i < MAX_SIZE; i++) {
    leafHashes.push(hashLeaf(leafData(i)));
    store.putNodes(range.append(leafHashes[i]!));
    roots.push(range.root());
  }
}
const root = (n: number): Uint8Array => roots[n]!;
const someHash = hashLeaf(new TextEncoder().encode('some other hash'));
const wrongLeaf = new TextEncoder().encode('WrongLeaf');
const garbage = new Uint8Array(0);

function codeOf(f: () => unknown): MerkleErrorCode | 'no error' {
  try {
    f();
    return 'no error';
  } catch (err) {
    if (err instanceof MerkleError) return err.code;
    throw err;
  }
}

function flipBit(proof: readonly Uint8Array[], i: number, mask: number): Uint8Array[] {
  const out = proof.slice();
  const h = out[i]!.slice();
  h[0]! ^= mask;
  out[i] = h;
  return out;
}

const MISMATCH_OR_SIZE: MerkleErrorCode[] = ['ROOT_MISMATCH', 'WRONG_PROOF_SIZE'];

interface InclusionProbe {
  desc: string;
  leaf: Uint8Array;
  index: number;
  size: number;
  proof: Uint8Array[];
  root: Uint8Array;
  codes: MerkleErrorCode[];
}

function inclusionProbes(index: number, size: number, proof: Uint8Array[]): InclusionProbe[] {
  const leaf = leafHashes[index]!;
  const r = root(size);
  const probe = (
    desc: string,
    codes: MerkleErrorCode[],
    over: Partial<Omit<InclusionProbe, 'desc' | 'codes'>>,
  ): InclusionProbe => ({ desc, codes, leaf, index, size, proof, root: r, ...over });
  const indexCodes = (i: number): MerkleErrorCode[] =>
    i < 0 ? ['INVALID_ARGUMENT'] : i >= size ? ['INDEX_OUT_OF_RANGE'] : MISMATCH_OR_SIZE;
  const half = Math.floor(size / 2);
  const probes = [
    probe('index - 1', indexCodes(index - 1), { index: index - 1 }),
    probe('index + 1', indexCodes(index + 1), { index: index + 1 }),
    probe('index ^ 2', indexCodes(index ^ 2), { index: index ^ 2 }),
    probe('size * 2', MISMATCH_OR_SIZE, { size: size * 2 }),
    probe('size / 2', index >= half ? ['INDEX_OUT_OF_RANGE'] : MISMATCH_OR_SIZE, { size: half }),
    probe('wrong leaf', ['ROOT_MISMATCH'], { leaf: someHash }),
    probe('wrong leaf (not a hash)', ['INVALID_HASH_SIZE'], { leaf: wrongLeaf }),
    probe('empty-tree root', ['ROOT_MISMATCH'], { root: emptyRoot() }),
    probe('random root', ['ROOT_MISMATCH'], { root: someHash }),
    probe('trailing garbage', ['WRONG_PROOF_SIZE'], { proof: [...proof, garbage] }),
    probe('trailing root', ['WRONG_PROOF_SIZE'], { proof: [...proof, r] }),
    probe('preceding garbage', ['WRONG_PROOF_SIZE'], { proof: [garbage, ...proof] }),
    probe('preceding root', ['WRONG_PROOF_SIZE'], { proof: [r, ...proof] }),
  ];
  for (let i = 0; i < proof.length; i++) {
    probes.push(probe(`flipped bit 3 of proof[${i}]`, ['ROOT_MISMATCH'], { proof: flipBit(proof, i, 8) }));
    probes.push(
      probe(`flipped bit 7 of proof[${i}][0]`, ['ROOT_MISMATCH'], { proof: flipBit(proof, i, 128) }),
    );
  }
  if (proof.length > 0) {
    probes.push(probe('removed last', ['WRONG_PROOF_SIZE'], { proof: proof.slice(0, -1) }));
    probes.push(probe('removed first', ['WRONG_PROOF_SIZE'], { proof: proof.slice(1) }));
    probes.push(
      probe('last element swapped for a leaf', ['ROOT_MISMATCH'], { proof: [...proof.slice(0, -1), leaf] }),
    );
  }
  if (proof.length > 1) {
    probes.push(
      probe('inserted component', ['WRONG_PROOF_SIZE'], { proof: [proof[0]!, someHash, ...proof.slice(1)] }),
    );
    probes.push(
      probe('two elements swapped', ['ROOT_MISMATCH'], { proof: [proof[1]!, proof[0]!, ...proof.slice(2)] }),
    );
  }
  return probes.filter((p) => !(p.desc === 'two elements swapped' && equal(proof[0]!, proof[1]!)));
}

interface ConsistencyProbe {
  desc: string;
  size1: number;
  size2: number;
  proof: Uint8Array[];
  root1: Uint8Array;
  root2: Uint8Array;
  codes: MerkleErrorCode[];
}

function consistencyProbes(size1: number, size2: number, proof: Uint8Array[]): ConsistencyProbe[] {
  const r1 = root(size1);
  const r2 = root(size2);
  const probe = (
    desc: string,
    codes: MerkleErrorCode[],
    over: Partial<Omit<ConsistencyProbe, 'desc' | 'codes'>>,
  ): ConsistencyProbe => ({ desc, codes, size1, size2, proof, root1: r1, root2: r2, ...over });
  const sizeCodes = (s1: number, s2: number): MerkleErrorCode[] =>
    s1 > s2
      ? ['SIZE_ORDER']
      : s1 === s2
        ? ['NONEMPTY_PROOF_FOR_EQUAL_SIZES']
        : s1 === 0
          ? ['EMPTY_TREE_CONSISTENCY']
          : MISMATCH_OR_SIZE;
  const notAHash = new TextEncoder().encode('WrongRoot');
  const isPow2 = (size1 & (size1 - 1)) === 0;
  const probes = [
    probe('size1 - 1', sizeCodes(size1 - 1, size2), { size1: size1 - 1 }),
    probe('size1 + 1', sizeCodes(size1 + 1, size2), { size1: size1 + 1 }),
    probe('size1 ^ 2', sizeCodes(size1 ^ 2, size2), { size1: size1 ^ 2 }),
    probe('size2 * 2', sizeCodes(size1, size2 * 2), { size2: size2 * 2 }),
    probe('size2 / 2', sizeCodes(size1, Math.floor(size2 / 2)), { size2: Math.floor(size2 / 2) }),
    probe('wrong root1', ['ROOT_MISMATCH'], { root1: someHash }),
    probe('wrong root2', ['ROOT_MISMATCH'], { root2: someHash }),
    probe('root1 not a hash', isPow2 ? ['INVALID_HASH_SIZE'] : ['ROOT_MISMATCH'], { root1: notAHash }),
    probe('root2 not a hash', ['ROOT_MISMATCH'], { root2: notAHash }),
    probe('empty-tree root1', ['ROOT_MISMATCH'], { root1: emptyRoot() }),
    probe('empty-tree root2', ['ROOT_MISMATCH'], { root2: emptyRoot() }),
    probe('swapped roots', ['ROOT_MISMATCH'], { root1: r2, root2: r1 }),
    probe('empty proof', ['WRONG_PROOF_SIZE'], { proof: [] }),
    probe('trailing garbage', ['WRONG_PROOF_SIZE'], { proof: [...proof, garbage] }),
    probe('trailing root1', ['WRONG_PROOF_SIZE'], { proof: [...proof, r1] }),
    probe('trailing root2', ['WRONG_PROOF_SIZE'], { proof: [...proof, r2] }),
    probe('preceding garbage', ['WRONG_PROOF_SIZE'], { proof: [garbage, ...proof] }),
    probe('preceding root1', ['WRONG_PROOF_SIZE'], { proof: [r1, ...proof] }),
    probe('preceding root2', ['WRONG_PROOF_SIZE'], { proof: [r2, ...proof] }),
    probe('preceding proof[0]', ['WRONG_PROOF_SIZE'], { proof: [proof[0]!, ...proof] }),
    probe('truncated proof', ['WRONG_PROOF_SIZE'], { proof: proof.slice(0, -1) }),
    probe('removed first', ['WRONG_PROOF_SIZE'], { proof: proof.slice(1) }),
  ];
  for (let i = 0; i < proof.length; i++) {
    probes.push(probe(`flipped bit 4 of proof[${i}]`, ['ROOT_MISMATCH'], { proof: flipBit(proof, i, 16) }));
  }
  return probes;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('inclusion proof mutations', () => {
  for (let size = 1; size <= MAX_SIZE; size++) {
    it(`every leaf of size ${size}: the proof verifies and every mutation is refused with its code`, () => {
      const wrong: string[] = [];
      for (let index = 0; index < size; index++) {
        const proof = inclusionProofSync(store, index, size);
        verifyInclusion(leafHashes[index]!, index, size, proof, root(size));
        expect(isValidInclusion(leafHashes[index]!, index, size, proof, root(size))).toBe(true);
        expect(rootFromInclusionProof(leafHashes[index]!, index, size, proof)).toEqual(root(size));
        for (const p of inclusionProbes(index, size, proof)) {
          const code = codeOf(() => verifyInclusion(p.leaf, p.index, p.size, p.proof, p.root));
          if (!p.codes.includes(code as MerkleErrorCode)) wrong.push(`leaf ${index}: ${p.desc} gave ${code}`);
          if (isValidInclusion(p.leaf, p.index, p.size, p.proof, p.root))
            wrong.push(`leaf ${index}: ${p.desc}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }
});

describe('consistency proof mutations', () => {
  for (let size2 = 2; size2 <= MAX_SIZE; size2++) {
    it(`every size1 < ${size2}: the proof verifies and every mutation is refused with its code`, () => {
      const wrong: string[] = [];
      for (let size1 = 1; size1 < size2; size1++) {
        const proof = consistencyProofSync(store, size1, size2);
        verifyConsistency(size1, size2, proof, root(size1), root(size2));
        expect(isValidConsistency(size1, size2, proof, root(size1), root(size2))).toBe(true);
        expect(rootFromConsistencyProof(size1, size2, proof, root(size1))).toEqual(root(size2));
        for (const p of consistencyProbes(size1, size2, proof)) {
          const code = codeOf(() => verifyConsistency(p.size1, p.size2, p.proof, p.root1, p.root2));
          if (!p.codes.includes(code as MerkleErrorCode))
            wrong.push(`size1 ${size1}: ${p.desc} gave ${code}`);
          if (isValidConsistency(p.size1, p.size2, p.proof, p.root1, p.root2))
            wrong.push(`size1 ${size1}: ${p.desc}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }
});

describe('verification edge cases', () => {
  const r = root(5);
  it('refuses indexes and sizes that are not non-negative safe integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
      expect(codeOf(() => verifyInclusion(leafHashes[0]!, bad, 5, [], r))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => verifyInclusion(leafHashes[0]!, 0, bad, [], r))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => verifyConsistency(bad, 5, [], r, r))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => verifyConsistency(1, bad, [], r, r))).toBe('INVALID_ARGUMENT');
    }
  });

  it('refuses every index of the empty tree', () => {
    expect(codeOf(() => verifyInclusion(leafHashes[0]!, 0, 0, [], emptyRoot()))).toBe('INDEX_OUT_OF_RANGE');
  });

  it('refuses proof elements that are not 32 bytes, even when the concatenation would match', () => {
    // leaf 0 in a tree of 2: root = H(0x01 || leaf0 || leaf1). Moving one byte of leaf1
    // into the leaf hash keeps the hashed bytes identical; it must still be refused.
    const leaf0 = leafHashes[0]!;
    const leaf1 = leafHashes[1]!;
    const longLeaf = new Uint8Array([...leaf0, leaf1[0]!]);
    expect(codeOf(() => verifyInclusion(longLeaf, 0, 2, [leaf1.slice(1)], root(2)))).toBe(
      'INVALID_HASH_SIZE',
    );
    expect(codeOf(() => verifyInclusion(leaf0, 0, 2, [leaf1.slice(1)], root(2)))).toBe('INVALID_HASH_SIZE');
  });

  it('accepts equal sizes with the empty proof and equal roots, including size 0', () => {
    expect(codeOf(() => verifyConsistency(0, 0, [], emptyRoot(), emptyRoot()))).toBe('no error');
    expect(codeOf(() => verifyConsistency(7, 7, [], root(7), root(7)))).toBe('no error');
    expect(codeOf(() => verifyConsistency(7, 7, [], root(7), root(6)))).toBe('ROOT_MISMATCH');
    expect(codeOf(() => verifyConsistency(7, 7, [someHash], root(7), root(7)))).toBe(
      'NONEMPTY_PROOF_FOR_EQUAL_SIZES',
    );
  });

  it('refuses a consistency proof from the empty tree, whatever the proof', () => {
    for (const proof of [[], [root(3)]]) {
      expect(codeOf(() => verifyConsistency(0, 3, proof, emptyRoot(), root(3)))).toBe(
        'EMPTY_TREE_CONSISTENCY',
      );
    }
  });

  it('reports which root failed: root1 is checked before root2', () => {
    const proof = consistencyProofSync(store, 6, 7);
    expect(codeOf(() => rootFromConsistencyProof(6, 7, proof, root(5)))).toBe('ROOT_MISMATCH');
    expect(rootFromConsistencyProof(6, 7, proof, root(6))).toEqual(root(7));
  });

  it('throws MerkleError instances with name, code and message', () => {
    try {
      verifyInclusion(leafHashes[0]!, 9, 5, [], r);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MerkleError);
      expect(err).toBeInstanceOf(Error);
      expect(isMerkleError(err, 'INDEX_OUT_OF_RANGE')).toBe(true);
      expect(isMerkleError(err, 'ROOT_MISMATCH')).toBe(false);
      expect((err as MerkleError).name).toBe('MerkleError');
      expect((err as MerkleError).message).toMatch(/index 9/);
    }
  });
});
