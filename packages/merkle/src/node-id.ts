// Addressing of stored nodes. Only perfect subtrees are ever stored: node (level, index)
// is the root of the perfect subtree over leaves [index * 2^level, (index + 1) * 2^level);
// level 0 holds the leaf hashes. Its hash never changes once the log holds its last leaf.
//
// A NodeId packs (level, index) into one number, the in-order position of the node in
// the infinite binary tree:  id = (2 * index + 1) * 2^level - 1.  Leaves get the even ids
// 0, 2, 4, ...; a parent sits between its children. The ids of a tree of n leaves are
// dense in [0, 2n - 1), so they make good array indexes and database keys. Ids must stay
// safe integers, hence MAX_TREE_SIZE = 2^52 leaves.
import { bit, bitLen, pow2, trailingZeros } from './bits.ts';
import { MerkleError } from './errors.ts';

/** A stored node's address, packed as described above; see nodeId, nodeLevel, nodeIndex. */
export type NodeId = number;

/** Largest number of leaves a tree may hold (2^52), so that every NodeId is a safe integer. */
export const MAX_TREE_SIZE = 2 ** 52;

/** The NodeId of perfect subtree (level, index). */
export function nodeId(level: number, index: number): NodeId {
  if (!Number.isInteger(level) || level < 0 || level > 52) {
    throw new MerkleError('INVALID_ARGUMENT', `node level must be an integer in [0, 52], got ${level}`);
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= pow2(52 - level)) {
    throw new MerkleError('INVALID_ARGUMENT', `node index ${index} out of range for level ${level}`);
  }
  return packNodeId(level, index);
}

/** nodeId without validation (internal: arguments known to be in range). */
export function packNodeId(level: number, index: number): NodeId {
  const p = pow2(level);
  return index * 2 * p + p - 1;
}

/** Level of a node (0 for leaves). */
export function nodeLevel(id: NodeId): number {
  checkId(id);
  return trailingZeros(id + 1);
}

/** Index of a node within its level. */
export function nodeIndex(id: NodeId): number {
  checkId(id);
  return Math.floor((id + 1) / pow2(trailingZeros(id + 1) + 1));
}

/** The leaves [begin, end) a node covers. */
export function nodeCoverage(id: NodeId): [begin: number, end: number] {
  const level = nodeLevel(id);
  const size = pow2(level);
  const begin = nodeIndex(id) * size;
  return [begin, begin + size];
}

function checkId(id: NodeId): void {
  if (!Number.isSafeInteger(id) || id < 0 || id >= 2 * MAX_TREE_SIZE - 1) {
    throw new MerkleError('INVALID_ARGUMENT', `not a NodeId: ${id}`);
  }
}

/**
 * Ids of the perfect subtrees making up the right border of a tree of `size` leaves,
 * largest (leftmost) first: one per one bit of `size`, the binary decomposition of size.
 */
export function borderNodeIds(size: number): NodeId[] {
  checkTreeSize(size, 'size');
  const ids: NodeId[] = [];
  let begin = 0;
  for (let level = bitLen(size) - 1; level >= 0; level--) {
    if (bit(size, level) === 1) {
      ids.push(packNodeId(level, begin / pow2(level)));
      begin += pow2(level);
    }
  }
  return ids;
}

/** Throws INVALID_ARGUMENT unless `n` is an integer in [0, MAX_TREE_SIZE]. */
export function checkTreeSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_TREE_SIZE) {
    throw new MerkleError('INVALID_ARGUMENT', `${what} must be an integer in [0, 2^52], got ${n}`);
  }
}
