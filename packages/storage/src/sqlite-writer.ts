// SqliteStore's appends on a thread of their own (option `writerThread`): node:sqlite is
// synchronous, so a commit (its rows, then the fsync of synchronous=FULL) holds the
// calling thread for its whole length. Here the worker (sqlite-writer-worker.ts) runs the
// same SqliteStore.append on its own connection to the same file, while the calling thread
// goes on (the ledger admits its next batch meanwhile). Reads stay on the caller's
// connection: WAL shows them each commit once it is complete.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '@civic-ledger/worker-thread';
import { StorageError, type StorageErrorCode } from './errors.ts';
import type { SqliteStoreOptions } from './sqlite.ts';
import type { AppendBatch, LeafRecord, LedgerHead, WriterLease } from './types.ts';

/**
 * An AppendBatch in a few arrays, whose buffers are transferred: posting the batch itself
 * clones a thousand leaf objects and their views one by one (~6 µs per leaf here, ~3 more
 * to read them back), packing and unpacking costs about a tenth of that.
 */
export interface PackedBatch {
  /** Ledger index of the first leaf; the others follow it (checkBatch has checked). */
  first: number;
  count: number;
  /** The leaves' bytes one after the other, and where each ends. */
  leafBytes: Uint8Array<ArrayBuffer>;
  leafEnds: Uint32Array<ArrayBuffer>;
  /** The event hashes one after the other, and where each ends. */
  eventHashes: string;
  hashEnds: Uint32Array<ArrayBuffer>;
  /** Chain keys once each, the chain of each leaf as a position in them, and the seqs. */
  chains: string[];
  chainOf: Uint32Array<ArrayBuffer>;
  seqs: Float64Array<ArrayBuffer>;
  nodeIds: Float64Array<ArrayBuffer>;
  /** 32 bytes per node. */
  nodeHashes: Uint8Array<ArrayBuffer>;
  registry: AppendBatch['registry'];
  lineage: AppendBatch['lineage'];
  rootHash: Uint8Array;
}

export function packBatch(batch: AppendBatch): { packed: PackedBatch; transfer: ArrayBuffer[] } {
  const { leaves, nodes } = batch;
  const n = leaves.length;
  let bytes = 0;
  for (const l of leaves) bytes += l.leaf.length;
  const leafBytes = new Uint8Array(bytes);
  const leafEnds = new Uint32Array(n);
  const hashEnds = new Uint32Array(n);
  const chainOf = new Uint32Array(n);
  const seqs = new Float64Array(n);
  const chains: string[] = [];
  const chainIds = new Map<string, number>();
  const hashes: string[] = [];
  let at = 0;
  let hashAt = 0;
  for (let i = 0; i < n; i++) {
    const l = leaves[i]!;
    leafBytes.set(l.leaf, at);
    at += l.leaf.length;
    leafEnds[i] = at;
    hashes.push(l.eventHash);
    hashAt += l.eventHash.length;
    hashEnds[i] = hashAt;
    let c = chainIds.get(l.chain);
    if (c === undefined) {
      c = chains.length;
      chains.push(l.chain);
      chainIds.set(l.chain, c);
    }
    chainOf[i] = c;
    seqs[i] = l.seq;
  }
  const nodeIds = Float64Array.from(nodes.ids);
  const nodeHashes = new Uint8Array(nodes.hashes.length * 32);
  // Lengths were checked (checkBatch) only for ids against hashes; a node hash of another
  // length is refused here as the store would refuse it.
  nodes.hashes.forEach((h, i) => {
    if (h.length !== 32) throw new StorageError('BAD_BATCH', `node ${nodes.ids[i]} hash must be 32 bytes`);
    nodeHashes.set(h, i * 32);
  });
  const packed: PackedBatch = {
    first: n === 0 ? 0 : leaves[0]!.index,
    count: n,
    leafBytes,
    leafEnds,
    eventHashes: hashes.join(''),
    hashEnds,
    chains,
    chainOf,
    seqs,
    nodeIds,
    nodeHashes,
    registry: batch.registry,
    lineage: batch.lineage,
    rootHash: batch.rootHash,
  };
  const transfer = [leafBytes.buffer, leafEnds.buffer, hashEnds.buffer, chainOf.buffer, seqs.buffer];
  return { packed, transfer: [...transfer, nodeIds.buffer, nodeHashes.buffer] };
}

export function unpackBatch(p: PackedBatch): AppendBatch {
  const leaves: LeafRecord[] = new Array<LeafRecord>(p.count);
  let at = 0;
  let hashAt = 0;
  for (let i = 0; i < p.count; i++) {
    const end = p.leafEnds[i]!;
    const hashEnd = p.hashEnds[i]!;
    leaves[i] = {
      index: p.first + i,
      leaf: p.leafBytes.subarray(at, end),
      eventHash: p.eventHashes.slice(hashAt, hashEnd),
      chain: p.chains[p.chainOf[i]!]!,
      seq: p.seqs[i]!,
    };
    at = end;
    hashAt = hashEnd;
  }
  const ids = Array.from(p.nodeIds);
  const hashes = ids.map((_, i) => p.nodeHashes.subarray(i * 32, i * 32 + 32));
  return { leaves, nodes: { ids, hashes }, registry: p.registry, lineage: p.lineage, rootHash: p.rootHash };
}

/** What the worker answers for an append. */
export type WriterReply =
  | { id: number; head: LedgerHead }
  | { id: number; error: { code: StorageErrorCode | undefined; message: string } }
  | { hook: true };

/** Shared with the worker: [0] state (0 waiting, 1 answered), [1] 1 when the hook threw, then its message. */
const HOOK_BYTES = 8 + 4096;

interface Pending {
  resolve: (head: LedgerHead) => void;
  reject: (e: Error) => void;
}

export class WriterThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #hook: (() => void) | undefined;
  /** Shared with the worker while it waits for the test hook (beforeHeadUpdate). */
  readonly #hookShared: SharedArrayBuffer | undefined;
  #nextId = 1;
  #failure: Error | undefined;
  /** Settles once every append posted so far has (the worker answers them in order). */
  #settled: Promise<unknown> = Promise.resolve();

  /** The store's options: the hook stays on this thread, the rest goes to the worker's store. */
  constructor(options: SqliteStoreOptions) {
    const { beforeHeadUpdate, writerThread: _threaded, ...store } = options;
    this.#hook = beforeHeadUpdate;
    this.#hookShared = beforeHeadUpdate ? new SharedArrayBuffer(HOOK_BYTES) : undefined;
    const entry = new URL('./sqlite-writer-worker.ts', import.meta.url);
    this.#worker = startWorker(entry, { store, hook: this.#hookShared });
    this.#worker.unref();
    this.#worker.on('message', (m: WriterReply) => this.#answer(m));
    this.#worker.on('error', (e) => this.#fail(e));
    this.#worker.on('exit', (code) =>
      this.#fail(new Error(`the SQLite writer thread exited with code ${code}`)),
    );
  }

  #answer(m: WriterReply): void {
    if ('hook' in m) {
      // The worker waits (Atomics.wait) inside its transaction for this answer.
      const shared = this.#hookShared!;
      const state = new Int32Array(shared, 0, 2);
      try {
        this.#hook!();
        state[1] = 0;
      } catch (e) {
        const text = Buffer.from(String((e as Error).message ?? e)).subarray(0, HOOK_BYTES - 12);
        new Uint8Array(shared, 12).set(text);
        new Int32Array(shared, 8, 1)[0] = text.length;
        state[1] = 1;
      }
      Atomics.store(state, 0, 1);
      Atomics.notify(state, 0);
      return;
    }
    const p = this.#pending.get(m.id);
    this.#pending.delete(m.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (!p) return;
    if ('head' in m) p.resolve(m.head);
    else
      p.reject(
        m.error.code === undefined
          ? new Error(m.error.message)
          : new StorageError(m.error.code, m.error.message),
      );
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  /** SqliteStore.append on the worker's connection; settles when the worker's commit has. */
  append(lease: WriterLease, expectedSize: number, batch: AppendBatch): Promise<LedgerHead> {
    if (this.#failure) return Promise.reject(this.#failure);
    let message;
    try {
      message = packBatch(batch);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const { packed, transfer } = message;
    const id = this.#nextId++;
    const answered = new Promise<LedgerHead>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Held while an append is in flight: a process waiting for its commit stays alive.
      this.#worker.ref();
      this.#worker.postMessage({ id, lease, expectedSize, batch: packed }, transfer);
    });
    this.#settled = answered.catch(() => undefined);
    return answered;
  }

  /** Stops the worker once the appends in flight have settled. */
  async close(): Promise<void> {
    await this.#settled;
    this.#failure ??= new StorageError('CLOSED', 'the store is closed');
    await this.#worker.terminate();
  }
}
