// Proof planning, after transparency-dev's proof.Inclusion / proof.Consistency: which
// stored perfect nodes a proof needs, and how to turn their hashes into the proof.
//
// Every RFC 6962 proof is the audit path of one node (a leaf for inclusion; for
// consistency, the rightmost perfect subtree of the old tree) up to the root of the new
// tree. Walking up from that node, its siblings are perfect (stored) nodes until the
// "fork": the ancestor whose range still ends at or before the tree size while its
// parent's range does not. The fork's right sibling, if any, is "ephemeral": its subtree
// is imperfect in a tree of this size, so it is not stored, and its hash is recomputed
// from the perfect nodes that cover its leaves (at most log n of them). Above the fork,
// the path runs along the tree's right border, whose left siblings are the perfect
// subtrees covering [0, fork begin). So a proof reads at most about 2 log2(n) nodes and
// hashes at most log2(n) times, whatever the tree size.
import { bit, bitLen, pow2, shr, trailingZeros, xor } from './bits.ts';
import { MerkleError } from './errors.ts';
import { HASH_SIZE, nodeHash } from './hash.ts';
import { checkTreeSize, packNodeId, type NodeId } from './node-id.ts';

/**
 * How to build a proof from stored nodes. Read the hashes of `ids` (one batched read) and
 * pass them to assembleProof. The nodes ids[rehashBegin .. rehashEnd) are the pieces of
 * the ephemeral node, rightmost (lowest) first; they fold into a single proof element.
 * rehashBegin === rehashEnd when nothing needs folding (a lone piece is used as is).
 */
export interface ProofPlan {
  readonly ids: readonly NodeId[];
  readonly rehashBegin: number;
  readonly rehashEnd: number;
  /** Number of hashes in the finished proof. */
  readonly proofLength: number;
}

const EMPTY_PLAN: ProofPlan = Object.freeze({
  ids: Object.freeze([]) as readonly NodeId[],
  rehashBegin: 0,
  rehashEnd: 0,
  proofLength: 0,
});

/** Plan of the inclusion proof of leaf `index` in the tree of `size` leaves (0 <= index < size). */
export function planInclusion(index: number, size: number): ProofPlan {
  checkTreeSize(size, 'size');
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new MerkleError('INVALID_ARGUMENT', `index must be a non-negative integer, got ${index}`);
  }
  if (index >= size) {
    throw new MerkleError('INDEX_OUT_OF_RANGE', `index ${index} out of range for tree size ${size}`);
  }
  return pathPlan(index, 0, size, false);
}

/**
 * Plan of the consistency proof between tree sizes size1 and size2 (0 < size1 <= size2;
 * equal sizes give the empty proof, size1 = 0 is refused as in proof.Consistency).
 */
export function planConsistency(size1: number, size2: number): ProofPlan {
  checkTreeSize(size1, 'size1');
  checkTreeSize(size2, 'size2');
  if (size1 > size2) throw new MerkleError('SIZE_ORDER', `size1 ${size1} > size2 ${size2}`);
  if (size1 === 0) {
    throw new MerkleError('EMPTY_TREE_CONSISTENCY', 'a consistency proof from the empty tree is meaningless');
  }
  if (size1 === size2) return EMPTY_PLAN;
  // Start from the rightmost perfect subtree of the old tree: size1 = m * 2^level, m odd.
  const level = trailingZeros(size1);
  const index = shr(size1 - 1, level);
  // When size1 is a power of two that subtree is the old root, which the verifier already
  // has; otherwise it is the first element of the proof.
  return pathPlan(index, level, size2, index !== 0);
}

/** Ids and folding of the audit path of node (level, index) in a tree of `size` leaves. */
function pathPlan(index: number, level: number, size: number, includeSeed: boolean): ProofPlan {
  const inner = bitLen(xor(index, shr(size, level))) - 1;
  const forkLevel = level + inner;
  const forkSpan = pow2(forkLevel);
  const forkBegin = shr(index, inner) * forkSpan;
  const forkEnd = forkBegin + forkSpan;

  const ids: NodeId[] = [];
  if (includeSeed) ids.push(packNodeId(level, index));
  // Siblings from the node up to (not including) the fork; all perfect.
  for (let l = level, i = index; l < forkLevel; l++, i = shr(i, 1)) ids.push(packNodeId(l, xor(i, 1)));

  // The ephemeral node covers [forkEnd, size): its pieces are the binary decomposition of
  // size - forkEnd, taken from the right end, lowest level first.
  const rehashBegin = ids.length;
  let end = size;
  for (let l = 0, rest = size - forkEnd; rest > 0 && l < 53; l++) {
    if (bit(rest, l) === 1) {
      end -= pow2(l);
      rest -= pow2(l);
      ids.push(packNodeId(l, end / pow2(l)));
    }
  }
  let rehashEnd = ids.length;

  // Left siblings along the border: the decomposition of [0, forkBegin), lowest first.
  let begin = forkBegin;
  for (let l = forkLevel + 1; begin > 0 && l < 53; l++) {
    if (bit(begin, l) === 1) {
      ids.push(packNodeId(l, begin / pow2(l) - 1));
      begin -= pow2(l);
    }
  }

  const pieces = rehashEnd - rehashBegin;
  let rb = rehashBegin;
  if (pieces < 2) rb = rehashEnd = 0;
  return { ids, rehashBegin: rb, rehashEnd, proofLength: pieces < 2 ? ids.length : ids.length - pieces + 1 };
}

/**
 * The proof from the hashes of plan.ids (same order): copies them, folding the ephemeral
 * node's pieces into one hash. Hashes are checked to be 32 bytes.
 */
export function assembleProof(plan: ProofPlan, hashes: readonly Uint8Array[]): Uint8Array[] {
  const { ids, rehashBegin, rehashEnd } = plan;
  if (hashes.length !== ids.length) {
    throw new MerkleError('STORE_FAILURE', `expected ${ids.length} node hashes, got ${hashes.length}`);
  }
  const proof: Uint8Array[] = [];
  for (let i = 0; i < hashes.length; i++) {
    const h = hashes[i];
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
      throw new MerkleError('INVALID_HASH_SIZE', `node ${ids[i]} hash is not ${HASH_SIZE} bytes`);
    }
    if (i === rehashBegin && rehashEnd - rehashBegin >= 2) {
      let acc = h;
      for (let j = i + 1; j < rehashEnd; j++) {
        const left = hashes[j];
        if (!(left instanceof Uint8Array) || left.length !== HASH_SIZE) {
          throw new MerkleError('INVALID_HASH_SIZE', `node ${ids[j]} hash is not ${HASH_SIZE} bytes`);
        }
        acc = nodeHash(left, acc);
      }
      proof.push(acc);
      i = rehashEnd - 1;
    } else {
      proof.push(h);
    }
  }
  return proof;
}
