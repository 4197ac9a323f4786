// The right border of a log (a compact range over [0, size), as in transparency-dev's
// compact.Range): the roots of the perfect subtrees that the binary decomposition of
// `size` names, largest first. It is all an appender needs to keep in memory: appending a
// leaf merges it with the trailing equal-sized subtrees (one hash per merge, O(log n)),
// and the root of the whole tree folds the border from the right (O(log n)).
import { popcount } from './bits.ts';
import { MerkleError } from './errors.ts';
import { checkHash, emptyRoot, nodeHash } from './hash.ts';
import { MAX_TREE_SIZE, borderNodeIds, checkTreeSize, packNodeId, type NodeId } from './node-id.ts';

/**
 * Nodes to write to the store, as two parallel arrays (ids[i] has hash hashes[i]). Kept
 * as arrays rather than one object per node so a batch of appends allocates little.
 */
export interface NodeBatch {
  ids: NodeId[];
  hashes: Uint8Array[];
}

/** A new, empty NodeBatch. */
export function newNodeBatch(): NodeBatch {
  return { ids: [], hashes: [] };
}

export class CompactRange {
  #size: number;
  #hashes: Uint8Array[];

  private constructor(size: number, hashes: Uint8Array[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  /** The border of the empty tree. */
  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /**
   * The border of a tree of `size` leaves from its perfect-subtree root hashes, largest
   * first (the hashes of the nodes borderNodeIds(size) names, in that order).
   */
  static fromBorder(size: number, hashes: readonly Uint8Array[]): CompactRange {
    checkTreeSize(size, 'size');
    const want = popcount(size);
    if (hashes.length !== want) {
      throw new MerkleError(
        'INVALID_RANGE',
        `a tree of size ${size} has ${want} border hashes, got ${hashes.length}`,
      );
    }
    for (let i = 0; i < hashes.length; i++) checkHash(hashes[i]!, `border hash ${i}`);
    return new CompactRange(size, hashes.slice());
  }

  /** Number of leaves. */
  get size(): number {
    return this.#size;
  }

  /** The border hashes, largest subtree first. Treat as read-only. */
  get hashes(): readonly Uint8Array[] {
    return this.#hashes;
  }

  /** Ids of the border nodes, in the order of `hashes`. */
  ids(): NodeId[] {
    return borderNodeIds(this.#size);
  }

  /** An independent copy (appending to one does not change the other). */
  clone(): CompactRange {
    return new CompactRange(this.#size, this.#hashes.slice());
  }

  /**
   * Appends one leaf hash (32 bytes, see hashLeaf). Adds to `out` every new perfect node
   * the store must keep: the leaf itself at level 0, then each completed parent, lowest
   * first; that is 1 + (number of trailing one bits of the old size) nodes. Returns `out`.
   * Pass the same batch to many appends to write them all at once.
   */
  append(leafHash: Uint8Array, out: NodeBatch = newNodeBatch()): NodeBatch {
    checkHash(leafHash, 'leaf hash');
    const size = this.#size;
    if (size >= MAX_TREE_SIZE) throw new MerkleError('TREE_FULL', `the tree already holds 2^52 leaves`);
    const hashes = this.#hashes;
    out.ids.push(packNodeId(0, size));
    out.hashes.push(leafHash);
    let hash = leafHash;
    let index = size; // index of `hash` on its level
    let level = 0;
    while (index % 2 === 1) {
      hash = nodeHash(hashes.pop()!, hash);
      index = (index - 1) / 2;
      level++;
      out.ids.push(packNodeId(level, index));
      out.hashes.push(hash);
    }
    hashes.push(hash);
    this.#size = size + 1;
    return out;
  }

  /** Root hash of the tree [0, size): the border folded from the right (empty root for size 0). */
  root(): Uint8Array {
    const hashes = this.#hashes;
    let i = hashes.length - 1;
    if (i < 0) return emptyRoot();
    let hash = hashes[i]!;
    if (i === 0) return hash.slice();
    while (--i >= 0) hash = nodeHash(hashes[i]!, hash);
    return hash;
  }
}
