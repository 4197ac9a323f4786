// Storage access: proofs and roots for any earlier size cost O(log n) node reads in one
// batched getNodes call, and store failures surface as MerkleError codes.
import { describe, expect, it } from 'vitest';
import { CompactRange, newNodeBatch } from './compact-range.ts';
import { MerkleError, type MerkleErrorCode } from './errors.ts';
import { hashLeaf } from './hash.ts';
import { MemoryNodeStore } from './memory-store.ts';
import { nodeId, type NodeId } from './node-id.ts';
import { planConsistency, planInclusion } from './plan.ts';
import {
  asyncReader,
  consistencyProof,
  consistencyProofSync,
  inclusionProof,
  inclusionProofSync,
  loadCompactRange,
  rootAt,
  rootAtSync,
  type NodeReader,
} from './store.ts';
import { verifyConsistency, verifyInclusion } from './verify.ts';

/** Counts getNodes calls and node reads, and remembers the largest batch. */
class CountingReader implements NodeReader {
  readonly inner: NodeReader;
  calls = 0;
  reads = 0;
  constructor(inner: NodeReader) {
    this.inner = inner;
  }
  getNodes(ids: readonly NodeId[]): Promise<ReadonlyArray<Uint8Array | undefined>> {
    this.calls++;
    this.reads += ids.length;
    return this.inner.getNodes(ids);
  }
  reset(): void {
    this.calls = this.reads = 0;
  }
}

async function codeOf(f: () => Promise<unknown>): Promise<MerkleErrorCode | 'no error'> {
  try {
    await f();
    return 'no error';
  } catch (err) {
    if (err instanceof MerkleError) return err.code;
    throw err;
  }
}

function leaf(i: number): Uint8Array {
  const d = new Uint8Array(4);
  new DataView(d.buffer).setUint32(0, i);
  return hashLeaf(d);
}

describe('store reads at 100,000 leaves', () => {
  const N = 100_000;
  const store = new MemoryNodeStore();
  const checkpoints = new Map<number, Uint8Array>();
  const wanted = [1, 2, 3, 1024, 31_337, 65_536, 65_537, 77_777, 99_999, N];
  const range = CompactRange.empty();
  const batch = newNodeBatch();
  for (let i = 0; i < N; i++) {
    range.append(leaf(i), batch);
    if (wanted.includes(i + 1)) checkpoints.set(i + 1, range.root());
  }
  store.putNodes(batch);
  const counting = new CountingReader(store);
  const log2n = Math.log2(N); // ~16.6
  const root = (n: number): Uint8Array => checkpoints.get(n)!;

  it('stores each perfect node exactly once: 2n - popcount(n) nodes', () => {
    expect(store.nodeCount).toBe(2 * N - 6); // popcount(100000) = 6
  });

  it.each([
    [0, 1],
    [0, 65_536],
    [12_345, 77_777],
    [65_536, 65_537],
    [77_776, 77_777],
    [31_336, 99_999],
    [99_999, N],
  ])(
    'inclusion proof of leaf %i at earlier size %i: one getNodes call, O(log n) reads',
    async (index, size) => {
      counting.reset();
      const proof = await inclusionProof(counting, index, size);
      expect(counting.calls).toBe(size === 1 ? 0 : 1);
      expect(counting.reads).toBe(planInclusion(index, size).ids.length);
      expect(counting.reads).toBeLessThanOrEqual(2 * Math.ceil(log2n));
      verifyInclusion(leaf(index), index, size, proof, root(size));
    },
  );

  it.each([
    [1, 2],
    [3, 99_999],
    [1024, 65_537],
    [31_337, 77_777],
    [65_536, N],
    [77_777, 99_999],
    [99_999, N],
  ])('consistency proof %i -> %i: one getNodes call, O(log n) reads', async (size1, size2) => {
    counting.reset();
    const proof = await consistencyProof(counting, size1, size2);
    expect(counting.calls).toBe(1);
    expect(counting.reads).toBe(planConsistency(size1, size2).ids.length);
    expect(counting.reads).toBeLessThanOrEqual(2 * Math.ceil(log2n));
    verifyConsistency(size1, size2, proof, root(size1), root(size2));
  });

  it.each(wanted)(
    'root and border at earlier size %i: one getNodes call of popcount(size) reads',
    async (size) => {
      counting.reset();
      expect(await rootAt(counting, size)).toEqual(root(size));
      expect(counting.calls).toBe(1);
      expect(counting.reads).toBe(size.toString(2).replace(/0/g, '').length);
      counting.reset();
      const border = await loadCompactRange(counting, size);
      expect(border.size).toBe(size);
      expect(counting.reads).toBeLessThanOrEqual(Math.ceil(log2n));
    },
  );

  it('a reloaded border continues the log exactly like the live one', async () => {
    const reloaded = await loadCompactRange(store, 77_777);
    const batch2 = newNodeBatch();
    for (let i = 77_777; i < 99_999; i++) reloaded.append(leaf(i), batch2);
    expect(reloaded.root()).toEqual(root(99_999));
    // The nodes the reloaded appender emits are exactly the ones already stored.
    store.putNodes(batch2); // no NODE_CONFLICT: same ids, same hashes
    expect(store.nodeCount).toBe(2 * N - 6);
  });

  it('the empty proof and the empty tree read nothing', async () => {
    counting.reset();
    expect(await consistencyProof(counting, 500, 500)).toEqual([]);
    expect(await inclusionProof(counting, 0, 1)).toEqual([]);
    expect((await rootAt(counting, 0)).length).toBe(32);
    expect(counting.calls).toBe(0);
  });
});

describe('store failures', () => {
  const store = new MemoryNodeStore();
  const range = CompactRange.empty();
  for (let i = 0; i < 10; i++) store.putNodes(range.append(leaf(i)));

  it('MISSING_NODE for sizes beyond what the store holds', async () => {
    expect(await codeOf(() => inclusionProof(store, 3, 11))).toBe('MISSING_NODE');
    expect(await codeOf(() => consistencyProof(store, 3, 12))).toBe('MISSING_NODE');
    expect(await codeOf(() => rootAt(store, 11))).toBe('MISSING_NODE');
    expect(() => inclusionProofSync(store, 3, 11)).toThrow(MerkleError);
    expect(() => rootAtSync(store, 16)).toThrow(/level 4, index 0/);
  });

  it('STORE_FAILURE with the cause when the store rejects, throws, or miscounts', async () => {
    const boom = new Error('connection reset');
    const rejecting: NodeReader = { getNodes: () => Promise.reject(boom) };
    const throwing: NodeReader = {
      getNodes: () => {
        throw boom;
      },
    };
    const short: NodeReader = { getNodes: (ids) => store.getNodes(ids.slice(1)) };
    for (const reader of [rejecting, throwing]) {
      const err = await inclusionProof(reader, 3, 10).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MerkleError);
      expect((err as MerkleError).code).toBe('STORE_FAILURE');
      expect((err as MerkleError).cause).toBe(boom);
    }
    expect(await codeOf(() => inclusionProof(short, 3, 10))).toBe('STORE_FAILURE');
    const syncThrowing = asyncReader({
      getNodesSync: () => {
        throw boom;
      },
    });
    expect(await codeOf(() => rootAt(syncThrowing, 5))).toBe('STORE_FAILURE');
  });

  it('INVALID_HASH_SIZE when the store returns a hash that is not 32 bytes', async () => {
    const bad: NodeReader = { getNodes: async (ids) => ids.map(() => new Uint8Array(31)) };
    expect(await codeOf(() => inclusionProof(bad, 3, 10))).toBe('INVALID_HASH_SIZE');
    expect(await codeOf(() => rootAt(bad, 10))).toBe('INVALID_HASH_SIZE');
  });

  it('argument errors are raised before any read', async () => {
    const counting = new CountingReader(store);
    expect(await codeOf(() => inclusionProof(counting, 10, 10))).toBe('INDEX_OUT_OF_RANGE');
    expect(await codeOf(() => inclusionProof(counting, -1, 10))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => consistencyProof(counting, 5, 4))).toBe('SIZE_ORDER');
    expect(await codeOf(() => consistencyProof(counting, 0, 4))).toBe('EMPTY_TREE_CONSISTENCY');
    expect(await codeOf(() => consistencyProof(counting, 0, 0))).toBe('EMPTY_TREE_CONSISTENCY');
    expect(await codeOf(() => rootAt(counting, 2 ** 52 + 1))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => rootAt(counting, 0.5))).toBe('INVALID_ARGUMENT');
    expect(counting.calls).toBe(0);
  });

  it('sync and async paths give the same proofs', async () => {
    for (let size = 1; size <= 10; size++) {
      for (let i = 0; i < size; i++) {
        expect(inclusionProofSync(store, i, size)).toEqual(await inclusionProof(store, i, size));
        expect(consistencyProofSync(store, i + 1, size)).toEqual(await consistencyProof(store, i + 1, size));
      }
      expect(rootAtSync(store, size)).toEqual(await rootAt(asyncReader(store), size));
    }
  });
});

describe('MemoryNodeStore', () => {
  it('keeps nodes immutable: same hash again is a no-op, a different one is NODE_CONFLICT', () => {
    const s = new MemoryNodeStore();
    const id = nodeId(3, 7);
    s.setNode(id, leaf(1));
    s.setNode(id, leaf(1));
    expect(s.nodeCount).toBe(1);
    expect(() => s.setNode(id, leaf(2))).toThrow(expect.objectContaining({ code: 'NODE_CONFLICT' }));
    expect(() => s.putNodes({ ids: [nodeId(0, 1), nodeId(0, 1)], hashes: [leaf(1), leaf(2)] })).toThrow(
      expect.objectContaining({ code: 'NODE_CONFLICT' }),
    );
    expect(s.getNode(id)).toEqual(leaf(1));
  });

  it('checks a whole batch before writing any of it', () => {
    const s = new MemoryNodeStore();
    expect(() => s.putNodes({ ids: [0, 2], hashes: [leaf(0), new Uint8Array(3)] })).toThrow(
      expect.objectContaining({ code: 'INVALID_HASH_SIZE' }),
    );
    expect(() => s.putNodes({ ids: [0, -2], hashes: [leaf(0), leaf(1)] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => s.putNodes({ ids: [0], hashes: [] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(s.nodeCount).toBe(0);
  });

  it('returns copies: mutating an answer does not change the store', async () => {
    const s = new MemoryNodeStore();
    s.setNode(0, leaf(0));
    const [h] = (await s.getNodes([0])) as Uint8Array[];
    h![0]! ^= 1;
    expect(s.getNode(0)).toEqual(leaf(0));
    expect(s.getNodesSync([0, 2])).toEqual([leaf(0), undefined]);
  });

  it('holds sparse and very large ids', () => {
    const s = new MemoryNodeStore();
    const far = nodeId(0, 2 ** 51);
    s.setNode(far, leaf(9));
    expect(s.getNode(far)).toEqual(leaf(9));
    expect(s.getNode(far - 2)).toBeUndefined();
  });
});
