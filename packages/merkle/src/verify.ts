// Proof verification with the semantics of transparency-dev/merkle proof/verify.go:
// index < size; the proof has exactly the length (index, size) or (size1, size2) call
// for; size1 <= size2; equal sizes need the empty proof and equal roots; a consistency
// proof from the empty tree to a larger one is refused. Every refusal is a MerkleError.
//
// A proof is the audit path of one node (level, index) up to the root of a tree of `size`
// leaves (see plan.ts): `inner` siblings below the fork, left or right according to the
// bits of index; then, unless the fork's range ends exactly at size, one right-hand
// ephemeral node; then one left sibling per one bit of the fork's first leaf index.
import { bit, bitLen, popcount, pow2, shr, trailingZeros, xor } from './bits.ts';
import { MerkleError } from './errors.ts';
import { checkHash, hashEquals, nodeHash } from './hash.ts';

/**
 * The root of the tree of `size` leaves that `proof` yields for leaf hash `leafHash` at
 * `index`. Throws INDEX_OUT_OF_RANGE, INVALID_HASH_SIZE or WRONG_PROOF_SIZE.
 */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  checkCount(index, 'index');
  checkCount(size, 'size');
  if (index >= size) {
    throw new MerkleError('INDEX_OUT_OF_RANGE', `index ${index} out of range for tree size ${size}`);
  }
  checkHash(leafHash, 'leaf hash');
  const shape = pathShape(index, 0, size);
  checkProof(proof, shape.inner + shape.right + shape.left);
  return chainPath(leafHash, index, shape, proof, 0);
}

/** Throws a MerkleError (ROOT_MISMATCH when only the root is wrong) unless the proof is valid. */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  if (!hashEquals(computed, root)) {
    throw new MerkleError(
      'ROOT_MISMATCH',
      `inclusion proof of leaf ${index} does not match the root of size ${size}`,
    );
  }
}

/**
 * Checks `proof` against the old root `root1` and returns the root of the tree of size2 it
 * yields. Throws SIZE_ORDER, NONEMPTY_PROOF_FOR_EQUAL_SIZES, EMPTY_TREE_CONSISTENCY,
 * WRONG_PROOF_SIZE, INVALID_HASH_SIZE, or ROOT_MISMATCH when root1 does not match.
 */
export function rootFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): Uint8Array {
  checkCount(size1, 'size1');
  checkCount(size2, 'size2');
  if (size1 > size2) throw new MerkleError('SIZE_ORDER', `size1 ${size1} > size2 ${size2}`);
  if (size1 === size2) {
    if (proof.length !== 0) {
      throw new MerkleError(
        'NONEMPTY_PROOF_FOR_EQUAL_SIZES',
        `sizes are equal (${size1}) but the proof has ${proof.length} hashes`,
      );
    }
    return root1;
  }
  if (size1 === 0) {
    throw new MerkleError('EMPTY_TREE_CONSISTENCY', 'a consistency proof from the empty tree is meaningless');
  }

  // The proof is the audit path, in the tree of size2, of the rightmost perfect subtree
  // of the old tree, (level, index) with size1 = (index + 1) * 2^level and index even.
  // When size1 is a power of two that subtree is the old root itself and is not sent.
  const level = trailingZeros(size1);
  const index = shr(size1 - 1, level);
  const start = index === 0 ? 0 : 1;
  const shape = pathShape(index, level, size2);
  checkProof(proof, start + shape.inner + shape.right + shape.left);
  let seed: Uint8Array;
  if (start === 0) {
    checkHash(root1, 'root1');
    seed = root1;
  } else {
    seed = proof[0]!;
  }

  // The old root: the same path without the hashes to the right of the old tree (right
  // siblings below the fork, and the ephemeral node).
  if (start === 1) {
    let h = seed;
    let p = 1;
    for (let i = 0; i < shape.inner; i++, p++) if (bit(index, i) === 1) h = nodeHash(proof[p]!, h);
    for (p += shape.right; p < proof.length; p++) h = nodeHash(proof[p]!, h);
    if (!hashEquals(h, root1)) {
      throw new MerkleError('ROOT_MISMATCH', `consistency proof does not match the root of size ${size1}`);
    }
  }
  return chainPath(seed, index, shape, proof, start);
}

/** Throws a MerkleError (ROOT_MISMATCH when only a root is wrong) unless the proof is valid. */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const computed = rootFromConsistencyProof(size1, size2, proof, root1);
  if (!hashEquals(computed, root2)) {
    throw new MerkleError('ROOT_MISMATCH', `consistency proof does not match the root of size ${size2}`);
  }
}

/** verifyInclusion as a boolean (false for any MerkleError). */
export function isValidInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  return succeeds(() => verifyInclusion(leafHash, index, size, proof, root));
}

/** verifyConsistency as a boolean (false for any MerkleError). */
export function isValidConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  return succeeds(() => verifyConsistency(size1, size2, proof, root1, root2));
}

interface PathShape {
  /** Siblings below the fork. */
  inner: number;
  /** 1 when the fork has an (ephemeral) right sibling within the tree, else 0. */
  right: number;
  /** Left siblings above the fork. */
  left: number;
}

function pathShape(index: number, level: number, size: number): PathShape {
  const inner = bitLen(xor(index, shr(size, level))) - 1;
  const forkLevel = level + inner;
  const forkBegin = shr(index, inner) * pow2(forkLevel);
  const forkEnd = forkBegin + pow2(forkLevel);
  return { inner, right: forkEnd === size ? 0 : 1, left: popcount(forkBegin) };
}

/** Root from `seed` at (level, index) and its audit path proof[start..]. */
function chainPath(
  seed: Uint8Array,
  index: number,
  shape: PathShape,
  proof: readonly Uint8Array[],
  start: number,
): Uint8Array {
  let h = seed;
  let p = start;
  for (let i = 0; i < shape.inner; i++, p++) {
    h = bit(index, i) === 0 ? nodeHash(h, proof[p]!) : nodeHash(proof[p]!, h);
  }
  if (shape.right === 1) h = nodeHash(h, proof[p++]!);
  for (; p < proof.length; p++) h = nodeHash(proof[p]!, h);
  return h;
}

function checkProof(proof: readonly Uint8Array[], want: number): void {
  if (proof.length !== want) {
    throw new MerkleError('WRONG_PROOF_SIZE', `wrong proof size ${proof.length}, want ${want}`);
  }
  for (let i = 0; i < proof.length; i++) checkHash(proof[i]!, `proof[${i}]`);
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new MerkleError('INVALID_ARGUMENT', `${what} must be a non-negative safe integer, got ${n}`);
  }
}

function succeeds(f: () => void): boolean {
  try {
    f();
    return true;
  } catch (err) {
    if (err instanceof MerkleError) return false;
    throw err;
  }
}
