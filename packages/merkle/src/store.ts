// Storage-backed operations. The package never stores anything itself: a NodeReader hands
// out the hashes of perfect subtrees by NodeId (see node-id.ts), and everything here reads
// O(log n) of them in a single batched call. Writing is the caller's business: persist
// the NodeBatch that CompactRange.append fills.
import { CompactRange } from './compact-range.ts';
import { MerkleError } from './errors.ts';
import { HASH_SIZE } from './hash.ts';
import { borderNodeIds, nodeIndex, nodeLevel, type NodeId } from './node-id.ts';
import { assembleProof, planConsistency, planInclusion } from './plan.ts';

/** Batched asynchronous reads of stored perfect-subtree hashes. */
export interface NodeReader {
  /**
   * The hashes of `ids`, in the same order; `undefined` (or a rejection) for a node the
   * store does not hold. Called once per operation with every node it needs.
   */
  getNodes(ids: readonly NodeId[]): Promise<ReadonlyArray<Uint8Array | undefined>>;
}

/** The synchronous counterpart of NodeReader (in-memory or embedded stores). */
export interface SyncNodeReader {
  getNodesSync(ids: readonly NodeId[]): ReadonlyArray<Uint8Array | undefined>;
}

/** Inclusion proof of leaf `index` in the tree of the first `size` leaves. */
export async function inclusionProof(store: NodeReader, index: number, size: number): Promise<Uint8Array[]> {
  const plan = planInclusion(index, size);
  return assembleProof(plan, await readNodes(store, plan.ids));
}

/** Consistency proof between the trees of the first size1 and size2 leaves. */
export async function consistencyProof(
  store: NodeReader,
  size1: number,
  size2: number,
): Promise<Uint8Array[]> {
  const plan = planConsistency(size1, size2);
  return assembleProof(plan, await readNodes(store, plan.ids));
}

/** Root hash of the tree of the first `size` leaves. */
export async function rootAt(store: NodeReader, size: number): Promise<Uint8Array> {
  return (await loadCompactRange(store, size)).root();
}

/** The right border of the tree of the first `size` leaves, ready to append to. */
export async function loadCompactRange(store: NodeReader, size: number): Promise<CompactRange> {
  const ids = borderNodeIds(size);
  return CompactRange.fromBorder(size, await readNodes(store, ids));
}

/** inclusionProof over a synchronous store. */
export function inclusionProofSync(store: SyncNodeReader, index: number, size: number): Uint8Array[] {
  const plan = planInclusion(index, size);
  return assembleProof(plan, readNodesSync(store, plan.ids));
}

/** consistencyProof over a synchronous store. */
export function consistencyProofSync(store: SyncNodeReader, size1: number, size2: number): Uint8Array[] {
  const plan = planConsistency(size1, size2);
  return assembleProof(plan, readNodesSync(store, plan.ids));
}

/** rootAt over a synchronous store. */
export function rootAtSync(store: SyncNodeReader, size: number): Uint8Array {
  return loadCompactRangeSync(store, size).root();
}

/** loadCompactRange over a synchronous store. */
export function loadCompactRangeSync(store: SyncNodeReader, size: number): CompactRange {
  const ids = borderNodeIds(size);
  return CompactRange.fromBorder(size, readNodesSync(store, ids));
}

/** A NodeReader over a SyncNodeReader (one getNodesSync call per getNodes call). */
export function asyncReader(store: SyncNodeReader): NodeReader {
  return {
    getNodes: (ids) => {
      try {
        return Promise.resolve(store.getNodesSync(ids));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

/**
 * Reads `ids` with one getNodes call (none when `ids` is empty), and checks the answer:
 * MISSING_NODE for an absent node, STORE_FAILURE when the store throws or answers with the
 * wrong count, INVALID_HASH_SIZE for a hash that is not 32 bytes.
 */
export async function readNodes(store: NodeReader, ids: readonly NodeId[]): Promise<Uint8Array[]> {
  if (ids.length === 0) return [];
  let got: ReadonlyArray<Uint8Array | undefined>;
  try {
    got = await store.getNodes(ids);
  } catch (err) {
    throw storeFailure(err);
  }
  return checkAnswer(ids, got);
}

/** readNodes over a synchronous store. */
export function readNodesSync(store: SyncNodeReader, ids: readonly NodeId[]): Uint8Array[] {
  if (ids.length === 0) return [];
  let got: ReadonlyArray<Uint8Array | undefined>;
  try {
    got = store.getNodesSync(ids);
  } catch (err) {
    throw storeFailure(err);
  }
  return checkAnswer(ids, got);
}

function storeFailure(err: unknown): MerkleError {
  if (err instanceof MerkleError) return err;
  return new MerkleError('STORE_FAILURE', 'node store read failed', { cause: err });
}

function checkAnswer(ids: readonly NodeId[], got: ReadonlyArray<Uint8Array | undefined>): Uint8Array[] {
  if (!Array.isArray(got) || got.length !== ids.length) {
    const n = Array.isArray(got) ? got.length : typeof got;
    throw new MerkleError('STORE_FAILURE', `asked the store for ${ids.length} nodes, got ${n}`);
  }
  for (let i = 0; i < ids.length; i++) {
    const h = got[i];
    if (h === undefined) {
      const id = ids[i]!;
      throw new MerkleError(
        'MISSING_NODE',
        `the store has no node ${id} (level ${nodeLevel(id)}, index ${nodeIndex(id)})`,
      );
    }
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
      throw new MerkleError('INVALID_HASH_SIZE', `the store returned a bad hash for node ${ids[i]}`);
    }
  }
  return got as Uint8Array[];
}
