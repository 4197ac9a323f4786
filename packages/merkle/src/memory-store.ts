// An in-memory node store for tests and small logs. NodeIds of a log are dense (a tree of
// n leaves uses ids [0, 2n - 1)), so hashes live in fixed-size chunks of one flat buffer
// each, indexed by id: no object per node, 32 bytes plus one presence byte per node.
import type { NodeBatch } from './compact-range.ts';
import { MerkleError } from './errors.ts';
import { HASH_SIZE, checkHash, hashEquals } from './hash.ts';
import { nodeIndex, nodeLevel, type NodeId } from './node-id.ts';
import type { NodeReader, SyncNodeReader } from './store.ts';

const CHUNK_NODES = 4096;

interface Chunk {
  readonly hashes: Uint8Array; // CHUNK_NODES * HASH_SIZE bytes
  readonly present: Uint8Array; // 1 where a hash was written
}

export class MemoryNodeStore implements NodeReader, SyncNodeReader {
  readonly #chunks = new Map<number, Chunk>();
  #count = 0;

  /** Number of stored nodes. */
  get nodeCount(): number {
    return this.#count;
  }

  /**
   * Stores a batch of nodes (as filled by CompactRange.append). Nodes are immutable:
   * writing a node again with the same hash is a no-op, with a different hash it is
   * NODE_CONFLICT. The batch is checked in full before anything is written.
   */
  putNodes(batch: NodeBatch): void {
    const { ids, hashes } = batch;
    if (ids.length !== hashes.length) {
      throw new MerkleError('INVALID_ARGUMENT', `batch has ${ids.length} ids but ${hashes.length} hashes`);
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      checkId(id);
      const hash = hashes[i]!;
      checkHash(hash, `hash of node ${id}`);
      const old = this.getNode(id);
      if (old !== undefined && !hashEquals(old, hash)) {
        throw new MerkleError(
          'NODE_CONFLICT',
          `node ${id} (level ${nodeLevel(id)}, index ${nodeIndex(id)}) already has a different hash`,
        );
      }
    }
    for (let i = 0; i < ids.length; i++) this.#write(ids[i]!, hashes[i]!);
  }

  /** Stores one node (see putNodes). */
  setNode(id: NodeId, hash: Uint8Array): void {
    this.putNodes({ ids: [id], hashes: [hash] });
  }

  /** A copy of the hash of node `id`, or undefined. */
  getNode(id: NodeId): Uint8Array | undefined {
    const chunk = this.#chunks.get(Math.floor(id / CHUNK_NODES));
    if (chunk === undefined) return undefined;
    const off = id % CHUNK_NODES;
    if (chunk.present[off] !== 1) return undefined;
    return chunk.hashes.slice(off * HASH_SIZE, (off + 1) * HASH_SIZE);
  }

  getNodesSync(ids: readonly NodeId[]): Array<Uint8Array | undefined> {
    const out = new Array<Uint8Array | undefined>(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = this.getNode(ids[i]!);
    return out;
  }

  getNodes(ids: readonly NodeId[]): Promise<Array<Uint8Array | undefined>> {
    return Promise.resolve(this.getNodesSync(ids));
  }

  #write(id: NodeId, hash: Uint8Array): void {
    const key = Math.floor(id / CHUNK_NODES);
    let chunk = this.#chunks.get(key);
    if (chunk === undefined) {
      chunk = { hashes: new Uint8Array(CHUNK_NODES * HASH_SIZE), present: new Uint8Array(CHUNK_NODES) };
      this.#chunks.set(key, chunk);
    }
    const off = id % CHUNK_NODES;
    if (chunk.present[off] === 1) {
      // Only reachable for an id listed twice in one batch.
      const old = chunk.hashes.subarray(off * HASH_SIZE, (off + 1) * HASH_SIZE);
      if (!hashEquals(old, hash))
        throw new MerkleError('NODE_CONFLICT', `node ${id} listed twice in a batch`);
      return;
    }
    chunk.hashes.set(hash, off * HASH_SIZE);
    chunk.present[off] = 1;
    this.#count++;
  }
}

function checkId(id: NodeId): void {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new MerkleError('INVALID_ARGUMENT', `not a NodeId: ${id}`);
  }
}
