// In-memory store for unit tests of code above the storage layer. It keeps the contract's
// visibility rules (rows beyond the head are written but invisible; a new writer drops
// them), so code tested against it meets the same behaviour as on a real store. Never
// the store a feature is proven on.
import { emptyRoot, type NodeId } from '@civic-ledger/merkle';
import { checkBatch, nodeWithin } from './batch.ts';
import { StorageError } from './errors.ts';
import type {
  AcquireOptions,
  AppendBatch,
  ChainEntry,
  CheckpointRecord,
  LeafRecord,
  LedgerHead,
  LedgerStore,
  RegistryRecord,
  WriterLease,
} from './types.ts';

export interface MemoryStoreOptions {
  /** Test hook: runs after a batch's rows are written and before its head moves. */
  beforeHeadUpdate?: () => void;
}

export class MemoryStore implements LedgerStore {
  #head: LedgerHead = { size: 0, rootHash: emptyRoot(), epoch: 0 };
  #lease: { owner: string | null; expires: number } = { owner: null, expires: 0 };
  #leaves: LeafRecord[] = [];
  #byHash = new Map<string, number>();
  #byChain = new Map<string, number>(); // `${chain}#${seq}` -> index
  #nodes = new Map<NodeId, Uint8Array>();
  #registry: RegistryRecord[] = [];
  #children = new Map<string, number[]>(); // input event hash -> indexes naming it
  #checkpoints = new Map<number, CheckpointRecord>();
  #hook: (() => void) | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    this.#hook = options.beforeHeadUpdate;
  }

  async head(): Promise<LedgerHead> {
    return { ...this.#head };
  }

  async acquireWriter(options: AcquireOptions): Promise<WriterLease> {
    const now = options.now ?? Date.now();
    const l = this.#lease;
    if (
      l.owner !== null &&
      l.owner !== options.owner &&
      l.expires > now &&
      !(options.holderIsGone?.(l.owner) ?? false)
    ) {
      throw new StorageError('LEASE_HELD', `writer lease held by ${l.owner}`);
    }
    const size = this.#head.size;
    for (const leaf of this.#leaves.splice(size)) {
      this.#byHash.delete(leaf.eventHash);
      this.#byChain.delete(`${leaf.chain}#${leaf.seq}`);
    }
    this.#registry = this.#registry.filter((r) => r.index < size);
    for (const [input, list] of this.#children)
      this.#children.set(
        input,
        list.filter((i) => i < size),
      );
    this.#head = { ...this.#head, epoch: this.#head.epoch + 1 };
    this.#lease = { owner: options.owner, expires: now + options.ttlMs };
    return { epoch: this.#head.epoch, owner: options.owner, expiresAt: this.#lease.expires };
  }

  async renewWriter(lease: WriterLease, options: AcquireOptions): Promise<WriterLease> {
    if (lease.epoch !== this.#head.epoch) throw new StorageError('STALE_WRITER', 'fenced');
    const expiresAt = (options.now ?? Date.now()) + options.ttlMs;
    this.#lease.expires = expiresAt;
    return { ...lease, expiresAt };
  }

  async releaseWriter(lease: WriterLease): Promise<void> {
    if (lease.epoch === this.#head.epoch && this.#lease.owner === lease.owner)
      this.#lease = { owner: null, expires: 0 };
  }

  async append(lease: WriterLease, expectedSize: number, batch: AppendBatch): Promise<LedgerHead> {
    checkBatch(expectedSize, batch);
    if (lease.epoch !== this.#head.epoch) throw new StorageError('STALE_WRITER', 'fenced');
    if (expectedSize !== this.#head.size)
      throw new StorageError('SIZE_CONFLICT', `head is at ${this.#head.size}`);
    this.#write(batch);
    this.#hook?.();
    this.#head = { size: expectedSize + batch.leaves.length, rootHash: batch.rootHash, epoch: lease.epoch };
    return { ...this.#head };
  }

  #write(batch: AppendBatch): void {
    for (const l of batch.leaves) {
      this.#leaves[l.index] = l;
      this.#byHash.set(l.eventHash, l.index);
      this.#byChain.set(`${l.chain}#${l.seq}`, l.index);
    }
    batch.nodes.ids.forEach((id, i) => this.#nodes.set(id, batch.nodes.hashes[i]!));
    this.#registry.push(...batch.registry);
    for (const link of batch.lineage) {
      const list = this.#children.get(link.input);
      if (list === undefined) this.#children.set(link.input, [link.index]);
      else if (!list.includes(link.index)) list.push(link.index);
    }
  }

  async getLeaves(from: number, to: number): Promise<LeafRecord[]> {
    return this.#leaves.slice(Math.max(0, from), Math.min(to, this.#head.size));
  }

  async getLeavesByEventHash(hashes: readonly string[]): Promise<LeafRecord[]> {
    const out: LeafRecord[] = [];
    for (const h of new Set(hashes)) {
      const i = this.#byHash.get(h);
      if (i !== undefined && i < this.#head.size) out.push(this.#leaves[i]!);
    }
    return out;
  }

  async getLeavesByInput(hashes: readonly string[]): Promise<LeafRecord[]> {
    const found = new Set<number>();
    for (const h of hashes) {
      for (const i of this.#children.get(h) ?? []) if (i < this.#head.size) found.add(i);
    }
    return [...found].sort((a, b) => a - b).map((i) => this.#leaves[i]!);
  }

  async getChainEntry(chain: string, seq: number): Promise<ChainEntry | undefined> {
    const i = this.#byChain.get(`${chain}#${seq}`);
    if (i === undefined || i >= this.#head.size) return undefined;
    return { seq, eventHash: this.#leaves[i]!.eventHash, index: i };
  }

  async getChainHead(chain: string): Promise<ChainEntry | undefined> {
    let best: ChainEntry | undefined;
    for (let i = 0; i < this.#head.size; i++) {
      const l = this.#leaves[i]!;
      if (l.chain === chain && (best === undefined || l.seq > best.seq))
        best = { seq: l.seq, eventHash: l.eventHash, index: i };
    }
    return best;
  }

  async getNodes(ids: readonly NodeId[]): Promise<Array<Uint8Array | undefined>> {
    return ids.map((id) => (nodeWithin(id, this.#head.size) ? this.#nodes.get(id) : undefined));
  }

  async getRegistry(id?: string): Promise<RegistryRecord[]> {
    return this.#registry.filter((r) => r.index < this.#head.size && (id === undefined || r.id === id));
  }

  async putCheckpoint(cp: CheckpointRecord): Promise<void> {
    const existing = this.#checkpoints.get(cp.size);
    if (existing !== undefined && existing.note !== cp.note) {
      throw new StorageError('CHECKPOINT_CONFLICT', `a different checkpoint is stored for size ${cp.size}`);
    }
    if (existing === undefined) this.#checkpoints.set(cp.size, cp);
  }

  async getCheckpoint(size: number): Promise<CheckpointRecord | undefined> {
    return this.#checkpoints.get(size);
  }

  async latestCheckpoint(): Promise<CheckpointRecord | undefined> {
    let best: CheckpointRecord | undefined;
    for (const c of this.#checkpoints.values()) if (best === undefined || c.size > best.size) best = c;
    return best;
  }

  async listCheckpoints(from: number, to: number): Promise<CheckpointRecord[]> {
    return [...this.#checkpoints.values()]
      .filter((c) => c.size >= from && c.size <= to)
      .sort((a, b) => a.size - b.size);
  }

  async dropDerived(lease: WriterLease): Promise<void> {
    if (lease.epoch !== this.#head.epoch) throw new StorageError('STALE_WRITER', 'fenced');
    this.#nodes.clear();
    this.#registry = [];
    this.#children.clear();
    this.#byHash.clear();
    this.#byChain.clear();
    this.#leaves = this.#leaves.map((l) => ({ ...l, eventHash: '', chain: '', seq: 0 }));
  }

  async writeDerived(lease: WriterLease, batch: AppendBatch): Promise<void> {
    if (lease.epoch !== this.#head.epoch) throw new StorageError('STALE_WRITER', 'fenced');
    this.#write(batch);
  }

  async close(): Promise<void> {}
}
